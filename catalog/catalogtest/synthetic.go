// Package catalogtest makes synthetic catalogs of any size for tests and
// benchmarks; the shipped binary never links it.
package catalogtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
)

// Synthetic returns n plausible, valid products for benchmarks and load
// tests: varied domains, names, columns, metrics and grants, the same for
// the same seed. Names are unique.
func Synthetic(n int, seed int64) []*catalog.Product {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x61736b6d657368)) // "askmesh"
	out := make([]*catalog.Product, 0, n)
	used := make(map[string]int, n)
	for i := 0; i < n; i++ {
		p := syntheticProduct(rng, used)
		if err := catalog.Resolve(p); err != nil {
			// The generator only combines valid parts; this is a bug in it.
			panic(fmt.Sprintf("catalogtest.Synthetic made an invalid product: %v", err))
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
		{"accounts", "account", []string{"balances", "holdings"}, []synthMeasure{{"balance", catalog.TypeNumber, "Current balance.", "amount"}, {"overdraft_limit", catalog.TypeNumber, "Agreed overdraft limit.", "amount"}}},
		{"transfers", "transfer", []string{"payments", "remittances"}, []synthMeasure{{"amount", catalog.TypeNumber, "Amount transferred.", "amount"}, {"fee", catalog.TypeNumber, "Fee charged.", "amount"}}},
		{"claims", "claim", []string{"insurance claims", "losses"}, []synthMeasure{{"claimed_amount", catalog.TypeNumber, "Amount claimed.", "amount"}, {"paid_amount", catalog.TypeNumber, "Amount paid out.", "amount"}}},
		{"policies", "policy", []string{"insurance policies", "coverage"}, []synthMeasure{{"premium", catalog.TypeNumber, "Annual premium.", "amount"}, {"sum_insured", catalog.TypeNumber, "Sum insured.", "amount"}}},
		{"trades", "trade", []string{"executions", "deals"}, []synthMeasure{{"notional", catalog.TypeNumber, "Notional value.", "amount"}, {"quantity", catalog.TypeInteger, "Units traded.", "count"}}},
		{"invoices", "invoice", []string{"bills", "receivables"}, []synthMeasure{{"amount_due", catalog.TypeNumber, "Amount due.", "amount"}, {"days_overdue", catalog.TypeInteger, "Days past due.", "days"}}},
		{"tickets", "ticket", []string{"support requests", "cases"}, []synthMeasure{{"handle_minutes", catalog.TypeNumber, "Minutes spent.", "minutes"}, {"reopen_count", catalog.TypeInteger, "Times reopened.", "count"}}},
		{"alerts", "alert", []string{"warnings", "flags"}, []synthMeasure{{"risk_score", catalog.TypeInteger, "Model risk score.", "score"}, {"exposure", catalog.TypeNumber, "Exposure at risk.", "amount"}}},
		{"disputes", "dispute", []string{"chargebacks", "contested payments"}, []synthMeasure{{"disputed_amount", catalog.TypeNumber, "Amount disputed.", "amount"}, {"days_open", catalog.TypeInteger, "Days open.", "days"}}},
		{"leads", "lead", []string{"prospects", "pipeline"}, []synthMeasure{{"expected_value", catalog.TypeNumber, "Expected value.", "amount"}, {"touches", catalog.TypeInteger, "Contacts made.", "count"}}},
		{"sessions", "session", []string{"visits", "logins"}, []synthMeasure{{"duration_seconds", catalog.TypeInteger, "Session length.", "seconds"}, {"page_views", catalog.TypeInteger, "Pages viewed.", "count"}}},
		{"repayments", "repayment", []string{"instalments", "installments"}, []synthMeasure{{"amount", catalog.TypeNumber, "Amount repaid.", "amount"}, {"days_late", catalog.TypeInteger, "Days late.", "days"}}},
		{"deposits", "deposit", []string{"savings", "term deposits"}, []synthMeasure{{"amount", catalog.TypeNumber, "Amount deposited.", "amount"}, {"interest_rate", catalog.TypeNumber, "Interest rate.", "percent"}}},
		{"budgets", "budget", []string{"plans", "spend plans"}, []synthMeasure{{"planned", catalog.TypeNumber, "Planned spend.", "amount"}, {"actual", catalog.TypeNumber, "Actual spend.", "amount"}}},
		{"vendors", "vendor", []string{"suppliers", "third parties"}, []synthMeasure{{"annual_spend", catalog.TypeNumber, "Annual spend.", "amount"}, {"risk_score", catalog.TypeInteger, "Vendor risk score.", "score"}}},
		{"incidents", "incident", []string{"outages", "events"}, []synthMeasure{{"downtime_minutes", catalog.TypeNumber, "Downtime.", "minutes"}, {"users_affected", catalog.TypeInteger, "Users affected.", "count"}}},
		{"controls", "control", []string{"checks", "tests"}, []synthMeasure{{"failures", catalog.TypeInteger, "Failed runs.", "count"}, {"coverage", catalog.TypeNumber, "Share covered.", "ratio"}}},
		{"complaints", "complaint", []string{"grievances", "feedback"}, []synthMeasure{{"compensation", catalog.TypeNumber, "Compensation paid.", "amount"}, {"days_to_close", catalog.TypeInteger, "Days to close.", "days"}}},
		{"offers", "offer", []string{"promotions", "deals"}, []synthMeasure{{"discount", catalog.TypeNumber, "Discount given.", "amount"}, {"redemptions", catalog.TypeInteger, "Redemptions.", "count"}}},
		{"statements", "statement", []string{"reports", "summaries"}, []synthMeasure{{"closing_balance", catalog.TypeNumber, "Closing balance.", "amount"}, {"line_count", catalog.TypeInteger, "Lines.", "count"}}},
		{"positions", "position", []string{"holdings", "exposures"}, []synthMeasure{{"market_value", catalog.TypeNumber, "Market value.", "amount"}, {"units", catalog.TypeInteger, "Units held.", "count"}}},
		{"settlements", "settlement", []string{"clearing", "netting"}, []synthMeasure{{"settled_amount", catalog.TypeNumber, "Amount settled.", "amount"}, {"delay_hours", catalog.TypeNumber, "Settlement delay.", "hours"}}},
		{"applications", "application", []string{"requests", "submissions"}, []synthMeasure{{"requested_amount", catalog.TypeNumber, "Amount requested.", "amount"}, {"score", catalog.TypeInteger, "Application score.", "score"}}},
		{"employees", "employee", []string{"staff", "headcount"}, []synthMeasure{{"salary", catalog.TypeNumber, "Annual salary.", "amount"}, {"tenure_months", catalog.TypeInteger, "Months employed.", "months"}}},
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

func syntheticProduct(rng *rand.Rand, used map[string]int) *catalog.Product {
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
	p := &catalog.Product{
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
	p.Description = catalog.JoinDescription(p.Purpose, p.Usage, p.Limitations)
	key := ent.singular + "_id"
	p.Columns = append(p.Columns,
		catalog.Column{Name: key, Type: catalog.TypeString, Description: capitalize(ent.singular) + " identifier.", Classification: catalog.ClassInternal, PrimaryKey: true},
		catalog.Column{Name: "occurred_at", Type: catalog.TypeTimestamp, Description: "When it happened (UTC).", Classification: catalog.ClassInternal},
		catalog.Column{Name: "customer_id", Type: catalog.TypeString, Description: "The customer.", Classification: catalog.ClassInternal, Nullable: true},
	)
	p.TimeColumn = "occurred_at"
	var dims []string
	for _, k := range rng.Perm(len(synthCategoricals))[:2+rng.IntN(3)] {
		c := synthCategoricals[k]
		p.Columns = append(p.Columns, catalog.Column{Name: c.name, Type: catalog.TypeString, Description: c.desc, Classification: catalog.ClassInternal, Values: c.values})
		dims = append(dims, c.name)
	}
	flag := pick(rng, synthFlags)
	p.Columns = append(p.Columns, catalog.Column{Name: flag.name, Type: catalog.TypeBoolean, Description: flag.desc, Classification: catalog.ClassInternal})
	dims = append(dims, flag.name)
	if rng.IntN(3) == 0 {
		p.Columns = append(p.Columns, catalog.Column{Name: "email", Type: catalog.TypeString, Description: "Contact email.", Classification: catalog.ClassPII, Nullable: true})
	}
	if rng.IntN(4) == 0 {
		p.Columns = append(p.Columns, catalog.Column{Name: "tax_id", Type: catalog.TypeString, Description: "Tax identifier.", Classification: catalog.ClassRestricted, Nullable: true})
	}
	p.Dimensions = dims

	p.Metrics = append(p.Metrics, catalog.Metric{Name: ent.singular + "_count", Expression: "count(*)",
		Description: "Number of " + ent.plural + ".", Unit: "count", Synonyms: []string{ent.plural, "number of " + ent.plural}})
	for _, m := range ent.measures {
		p.Columns = append(p.Columns, catalog.Column{Name: m.name, Type: m.typ, Description: m.desc, Classification: pick(rng, []string{catalog.ClassInternal, catalog.ClassInternal, catalog.ClassConfidential})})
		p.Metrics = append(p.Metrics,
			catalog.Metric{Name: "total_" + m.name, Expression: "sum(" + m.name + ")", Description: "Total " + strings.ReplaceAll(m.name, "_", " ") + ".", Unit: m.unit, Precision: 2},
			catalog.Metric{Name: "average_" + m.name, Expression: "avg(" + m.name + ")", Description: "Average " + strings.ReplaceAll(m.name, "_", " ") + ".", Unit: m.unit, Precision: 2})
	}
	p.Metrics = append(p.Metrics, catalog.Metric{Name: flag.name + "_rate", Expression: "count_if(" + flag.name + ") / count(*)",
		Description: "Share " + flag.name + ".", Unit: "ratio", Precision: 4})
	p.HeadlineMetrics = []string{p.Metrics[0].Name, p.Metrics[1].Name}
	p.Capabilities = []string{catalog.CapRecords, catalog.CapMetrics, catalog.CapGet}
	if rng.IntN(3) == 0 {
		p.Capabilities = append(p.Capabilities, catalog.CapAnomalies)
		p.Anomalies = &catalog.AnomalySpec{Column: ent.measures[0].name, GroupBy: "customer_id", StdDevs: 3}
	}
	p.ExampleQuestions = []string{fmt.Sprintf("How many %s last month by %s?", ent.plural, dims[0])}
	owner := strings.Split(domain, "-")[0]
	p.Access = []catalog.Grant{
		{Groups: []string{owner}, Actions: []string{catalog.ActionRecords, catalog.ActionMetrics}, See: []string{catalog.ClassConfidential}, Mask: map[string]string{catalog.ClassPII: "redact"}},
		{Groups: []string{pick(rng, synthGroups)}, Actions: []string{catalog.ActionMetrics}},
	}
	p.Binding = catalog.Binding{Kind: catalog.BackendSQLite, Database: domain, Schema: strings.ReplaceAll(domain, "-", "_"), Table: table}
	return p
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// SyntheticWithVerified is Synthetic with one verified question on every
// product (its example question, answered by its first metric grouped by
// its first dimension), for benchmarks of catalogs that use them.
func SyntheticWithVerified(n int, seed int64) []*catalog.Product {
	products := Synthetic(n, seed)
	for _, p := range products {
		args, _ := json.Marshal(map[string]any{"product": p.Name, "metrics": []string{p.Metrics[0].Name},
			"group_by": []string{p.Dimensions[0]}, "time_range": "last_month"})
		p.Verified = []catalog.VerifiedQuestion{{Question: p.ExampleQuestions[0], Calls: []catalog.VerifiedCall{{Tool: "query_metrics", Arguments: args}},
			VerifiedBy: p.Domain + " data team", VerifiedAt: "2026-11-01"}}
		if err := catalog.Resolve(p); err != nil {
			panic(fmt.Sprintf("catalogtest.SyntheticWithVerified made an invalid product: %v", err))
		}
	}
	return products
}
