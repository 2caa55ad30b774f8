package catalog

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Synthetic returns n plausible, valid products for benchmarks and load
// tests: varied domains, names, columns, metrics and grants, the same for
// the same seed. Names are unique.
func Synthetic(n int, seed int64) []*Product {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x61736b6d657368)) // "askmesh"
	out := make([]*Product, 0, n)
	used := make(map[string]int, n)
	for i := 0; i < n; i++ {
		p := syntheticProduct(rng, used)
		if err := Resolve(p); err != nil {
			// The generator only combines valid parts; this is a bug in it.
			panic(fmt.Sprintf("catalog.Synthetic made an invalid product: %v", err))
		}
		out = append(out, p)
	}
	return out
}

type synthEntity struct {
	plural, singular string
	synonyms         []string
	measures         []synthMeasure
}

type synthMeasure struct {
	name, typ, desc, unit string
}

var (
	synthDomains = []string{"retail-banking", "lending", "marketing", "growth", "customer-service", "governance",
		"wealth-management", "insurance", "payments", "treasury", "risk", "compliance", "cards", "fraud",
		"operations", "finance", "human-resources", "procurement", "corporate-banking", "investments",
		"mortgages", "savings", "trading", "collections"}
	synthQualifiers = []string{"daily", "monthly", "regional", "global", "retail", "corporate", "premium",
		"digital", "branch", "mobile", "online", "card", "sme", "private", "wholesale", "partner", "internal",
		"cross-border", "domestic", "priority"}
	synthEntities = []synthEntity{
		{"accounts", "account", []string{"balances", "holdings"}, []synthMeasure{{"balance", TypeNumber, "Current balance.", "amount"}, {"overdraft_limit", TypeNumber, "Agreed overdraft limit.", "amount"}}},
		{"transfers", "transfer", []string{"payments", "remittances"}, []synthMeasure{{"amount", TypeNumber, "Amount transferred.", "amount"}, {"fee", TypeNumber, "Fee charged.", "amount"}}},
		{"claims", "claim", []string{"insurance claims", "losses"}, []synthMeasure{{"claimed_amount", TypeNumber, "Amount claimed.", "amount"}, {"paid_amount", TypeNumber, "Amount paid out.", "amount"}}},
		{"policies", "policy", []string{"insurance policies", "coverage"}, []synthMeasure{{"premium", TypeNumber, "Annual premium.", "amount"}, {"sum_insured", TypeNumber, "Sum insured.", "amount"}}},
		{"trades", "trade", []string{"executions", "deals"}, []synthMeasure{{"notional", TypeNumber, "Notional value.", "amount"}, {"quantity", TypeInteger, "Units traded.", "count"}}},
		{"invoices", "invoice", []string{"bills", "receivables"}, []synthMeasure{{"amount_due", TypeNumber, "Amount due.", "amount"}, {"days_overdue", TypeInteger, "Days past due.", "days"}}},
		{"tickets", "ticket", []string{"support requests", "cases"}, []synthMeasure{{"handle_minutes", TypeNumber, "Minutes spent.", "minutes"}, {"reopen_count", TypeInteger, "Times reopened.", "count"}}},
		{"alerts", "alert", []string{"warnings", "flags"}, []synthMeasure{{"risk_score", TypeInteger, "Model risk score.", "score"}, {"exposure", TypeNumber, "Exposure at risk.", "amount"}}},
		{"disputes", "dispute", []string{"chargebacks", "contested payments"}, []synthMeasure{{"disputed_amount", TypeNumber, "Amount disputed.", "amount"}, {"days_open", TypeInteger, "Days open.", "days"}}},
		{"leads", "lead", []string{"prospects", "pipeline"}, []synthMeasure{{"expected_value", TypeNumber, "Expected value.", "amount"}, {"touches", TypeInteger, "Contacts made.", "count"}}},
		{"sessions", "session", []string{"visits", "logins"}, []synthMeasure{{"duration_seconds", TypeInteger, "Session length.", "seconds"}, {"page_views", TypeInteger, "Pages viewed.", "count"}}},
		{"repayments", "repayment", []string{"instalments", "installments"}, []synthMeasure{{"amount", TypeNumber, "Amount repaid.", "amount"}, {"days_late", TypeInteger, "Days late.", "days"}}},
		{"deposits", "deposit", []string{"savings", "term deposits"}, []synthMeasure{{"amount", TypeNumber, "Amount deposited.", "amount"}, {"interest_rate", TypeNumber, "Interest rate.", "percent"}}},
		{"budgets", "budget", []string{"plans", "spend plans"}, []synthMeasure{{"planned", TypeNumber, "Planned spend.", "amount"}, {"actual", TypeNumber, "Actual spend.", "amount"}}},
		{"vendors", "vendor", []string{"suppliers", "third parties"}, []synthMeasure{{"annual_spend", TypeNumber, "Annual spend.", "amount"}, {"risk_score", TypeInteger, "Vendor risk score.", "score"}}},
		{"incidents", "incident", []string{"outages", "events"}, []synthMeasure{{"downtime_minutes", TypeNumber, "Downtime.", "minutes"}, {"users_affected", TypeInteger, "Users affected.", "count"}}},
		{"controls", "control", []string{"checks", "tests"}, []synthMeasure{{"failures", TypeInteger, "Failed runs.", "count"}, {"coverage", TypeNumber, "Share covered.", "ratio"}}},
		{"complaints", "complaint", []string{"grievances", "feedback"}, []synthMeasure{{"compensation", TypeNumber, "Compensation paid.", "amount"}, {"days_to_close", TypeInteger, "Days to close.", "days"}}},
		{"offers", "offer", []string{"promotions", "deals"}, []synthMeasure{{"discount", TypeNumber, "Discount given.", "amount"}, {"redemptions", TypeInteger, "Redemptions.", "count"}}},
		{"statements", "statement", []string{"reports", "summaries"}, []synthMeasure{{"closing_balance", TypeNumber, "Closing balance.", "amount"}, {"line_count", TypeInteger, "Lines.", "count"}}},
		{"positions", "position", []string{"holdings", "exposures"}, []synthMeasure{{"market_value", TypeNumber, "Market value.", "amount"}, {"units", TypeInteger, "Units held.", "count"}}},
		{"settlements", "settlement", []string{"clearing", "netting"}, []synthMeasure{{"settled_amount", TypeNumber, "Amount settled.", "amount"}, {"delay_hours", TypeNumber, "Settlement delay.", "hours"}}},
		{"applications", "application", []string{"requests", "submissions"}, []synthMeasure{{"requested_amount", TypeNumber, "Amount requested.", "amount"}, {"score", TypeInteger, "Application score.", "score"}}},
		{"employees", "employee", []string{"staff", "headcount"}, []synthMeasure{{"salary", TypeNumber, "Annual salary.", "amount"}, {"tenure_months", TypeInteger, "Months employed.", "months"}}},
	}
	synthCategoricals = []struct {
		name, desc string
		values     []string
	}{
		{"status", "Lifecycle status.", []string{"open", "pending", "closed", "cancelled"}},
		{"region", "Region.", []string{"north-america", "europe", "asia-pacific", "latin-america"}},
		{"channel", "Channel.", []string{"branch", "online", "mobile", "phone", "partner"}},
		{"segment", "Customer segment.", []string{"mass", "affluent", "private", "business"}},
		{"currency", "ISO currency code.", []string{"USD", "EUR", "GBP", "JPY", "CHF"}},
		{"priority", "Priority.", []string{"low", "medium", "high", "critical"}},
		{"product_line", "Product line.", []string{"standard", "gold", "platinum", "business"}},
		{"risk_level", "Risk level.", []string{"low", "medium", "high"}},
		{"country", "Country code.", []string{"us", "gb", "de", "fr", "sg", "jp"}},
	}
	synthFlags = []struct{ name, desc string }{
		{"flagged", "Whether it was flagged for review."},
		{"resolved", "Whether it was resolved."},
		{"active", "Whether it is active."},
		{"automated", "Whether it was handled automatically."},
	}
	synthGroups = []string{"executive", "analyst", "auditor", "operations", "finance", "risk-officers", "data-science"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func syntheticProduct(rng *rand.Rand, used map[string]int) *Product {
	domain := pick(rng, synthDomains)
	ent := pick(rng, synthEntities)
	qual := pick(rng, synthQualifiers)
	name := qual + "-" + ent.plural
	used[name]++
	if k := used[name]; k > 1 {
		name = fmt.Sprintf("%s-%d", name, k)
	}
	table := strings.ReplaceAll(qual, "-", "_") + "_" + ent.plural
	words := strings.ReplaceAll(qual, "-", " ")
	p := &Product{
		Name:        name,
		ID:          "urn:askmesh:synthetic:" + domain + ":" + name,
		Version:     fmt.Sprintf("1.%d.0", rng.IntN(5)),
		Status:      "active",
		Domain:      domain,
		DataProduct: name,
		Purpose:     fmt.Sprintf("%s %s of the %s domain, one row per %s.", capitalize(words), ent.plural, strings.ReplaceAll(domain, "-", " "), ent.singular),
		Usage:       fmt.Sprintf("Volumes and values of %s over time, by the dimensions below.", ent.plural),
		Owner:       strings.Split(domain, "-")[0] + "-data@bank.example",
		Tags:        []string{domain, ent.plural, qual},
		Synonyms:    append([]string{words + " " + ent.plural}, ent.synonyms...),
		Freshness:   time.Duration(1+rng.IntN(48)) * time.Hour,
		Source:      "synthetic/" + name + ".yaml",
	}
	p.Description = joinDescription(p.Purpose, p.Usage, p.Limitations)
	key := ent.singular + "_id"
	p.Columns = append(p.Columns,
		Column{Name: key, Type: TypeString, Description: capitalize(ent.singular) + " identifier.", Classification: ClassInternal, PrimaryKey: true},
		Column{Name: "occurred_at", Type: TypeTimestamp, Description: "When it happened (UTC).", Classification: ClassInternal},
		Column{Name: "customer_id", Type: TypeString, Description: "The customer.", Classification: ClassInternal, Nullable: true},
	)
	p.TimeColumn = "occurred_at"
	var dims []string
	for _, k := range rng.Perm(len(synthCategoricals))[:2+rng.IntN(3)] {
		c := synthCategoricals[k]
		p.Columns = append(p.Columns, Column{Name: c.name, Type: TypeString, Description: c.desc, Classification: ClassInternal, Values: c.values})
		dims = append(dims, c.name)
	}
	flag := pick(rng, synthFlags)
	p.Columns = append(p.Columns, Column{Name: flag.name, Type: TypeBoolean, Description: flag.desc, Classification: ClassInternal})
	dims = append(dims, flag.name)
	if rng.IntN(3) == 0 {
		p.Columns = append(p.Columns, Column{Name: "email", Type: TypeString, Description: "Contact email.", Classification: ClassPII, Nullable: true})
	}
	if rng.IntN(4) == 0 {
		p.Columns = append(p.Columns, Column{Name: "tax_id", Type: TypeString, Description: "Tax identifier.", Classification: ClassRestricted, Nullable: true})
	}
	p.Dimensions = dims

	p.Metrics = append(p.Metrics, Metric{Name: ent.singular + "_count", Expression: "count(*)",
		Description: "Number of " + ent.plural + ".", Unit: "count", Synonyms: []string{ent.plural, "number of " + ent.plural}})
	for _, m := range ent.measures {
		p.Columns = append(p.Columns, Column{Name: m.name, Type: m.typ, Description: m.desc, Classification: pick(rng, []string{ClassInternal, ClassInternal, ClassConfidential})})
		p.Metrics = append(p.Metrics,
			Metric{Name: "total_" + m.name, Expression: "sum(" + m.name + ")", Description: "Total " + strings.ReplaceAll(m.name, "_", " ") + ".", Unit: m.unit, Precision: 2},
			Metric{Name: "average_" + m.name, Expression: "avg(" + m.name + ")", Description: "Average " + strings.ReplaceAll(m.name, "_", " ") + ".", Unit: m.unit, Precision: 2})
	}
	p.Metrics = append(p.Metrics, Metric{Name: flag.name + "_rate", Expression: "count_if(" + flag.name + ") / count(*)",
		Description: "Share " + flag.name + ".", Unit: "ratio", Precision: 4})
	p.HeadlineMetrics = []string{p.Metrics[0].Name, p.Metrics[1].Name}
	p.Capabilities = []string{CapRecords, CapMetrics, CapGet}
	if rng.IntN(3) == 0 {
		p.Capabilities = append(p.Capabilities, CapAnomalies)
		p.Anomalies = &AnomalySpec{Column: ent.measures[0].name, GroupBy: "customer_id", StdDevs: 3}
	}
	p.ExampleQuestions = []string{fmt.Sprintf("How many %s last month by %s?", ent.plural, dims[0])}
	owner := strings.Split(domain, "-")[0]
	p.Access = []Grant{
		{Groups: []string{owner}, Actions: []string{ActionRecords, ActionMetrics}, See: []string{ClassConfidential}, Mask: map[string]string{ClassPII: "redact"}},
		{Groups: []string{pick(rng, synthGroups)}, Actions: []string{ActionMetrics}},
	}
	p.Binding = Binding{Kind: BackendSQLite, Database: domain, Schema: strings.ReplaceAll(domain, "-", "_"), Table: table}
	return p
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
