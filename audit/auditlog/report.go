package auditlog

import (
	"cmp"
	"context"
	"fmt"
	"github.com/askmesh/askmesh/audit"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// A compliance report summarizes the log over a period: calls allowed
// (accesses), denied and failed per product and per user, when each was
// first and last seen, who received personal data, and whether the hash
// chain is intact. It is built from the store directly, like `audit verify`:
// it is an operator's tool, run where the audit database is reachable.

// ReportOptions choose the period and say which columns are personal.
type ReportOptions struct {
	Since time.Time // inclusive; zero: from the first record
	Until time.Time // exclusive; zero: up to the last record
	// PII lists each product's personal (pii) columns: an allowed call that
	// returned one of them, masked or not, is a pii access.
	PII map[string][]string
	// Now stamps the report (a pinned clock in tests).
	Now time.Time
}

// CatalogProduct is what a report calls a record with no product (catalog
// search).
const CatalogProduct = "(catalog)"

// Tally counts calls by decision, with the first and last record's time.
type Tally struct {
	Calls       int       `json:"calls"`
	Allowed     int       `json:"allowed"` // accesses
	Denied      int       `json:"denied"`
	Errors      int       `json:"errors"`
	PIIAccesses int       `json:"pii_accesses"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
}

func (t *Tally) add(r *audit.Record, pii bool) {
	t.Calls++
	switch r.Decision {
	case audit.DecisionAllow:
		t.Allowed++
	case audit.DecisionDeny:
		t.Denied++
	default:
		t.Errors++
	}
	if pii {
		t.PIIAccesses++
	}
	if t.First.IsZero() || r.At.Before(t.First) {
		t.First = r.At
	}
	if r.At.After(t.Last) {
		t.Last = r.At
	}
}

// ReportRow is one product's or one user's line.
type ReportRow struct {
	Name string `json:"name"`
	Tally
	// Others counts the distinct users (on a product's row) or products (on
	// a user's row) involved.
	Others int `json:"others"`
}

// PIIAccess is one user's pii accesses to one product.
type PIIAccess struct {
	Subject string    `json:"subject"`
	Product string    `json:"product"`
	Calls   int       `json:"calls"`
	Columns []string  `json:"columns"` // pii columns received
	Masked  []string  `json:"masked"`  // of those, received masked at least once
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// DayTally is one UTC day's calls.
type DayTally struct {
	Day     time.Time `json:"day"`
	Allowed int       `json:"allowed"`
	Denied  int       `json:"denied"`
	Errors  int       `json:"errors"`
}

// Report is the compliance summary.
type Report struct {
	Since       time.Time          `json:"since,omitzero"`
	Until       time.Time          `json:"until,omitzero"`
	GeneratedAt time.Time          `json:"generated_at"`
	Totals      Tally              `json:"totals"`
	Users       int                `json:"users"`
	Products    []ReportRow        `json:"products"`
	Subjects    []ReportRow        `json:"subjects"`
	PII         []PIIAccess        `json:"pii"`
	Days        []DayTally         `json:"days"`
	Chain       audit.VerifyResult `json:"chain"`
}

// reportPage is how many records a report reads at a time.
const reportPage = 5000

// BuildReport reads the period's records and walks the whole chain.
func BuildReport(ctx context.Context, store audit.Store, o ReportOptions) (*Report, error) {
	if !o.Since.IsZero() && !o.Until.IsZero() && !o.Until.After(o.Since) {
		return nil, fmt.Errorf("audit report: until %s is not after since %s", o.Until.Format(time.RFC3339), o.Since.Format(time.RFC3339))
	}
	rep := &Report{Since: o.Since.UTC(), Until: o.Until.UTC(), GeneratedAt: o.Now.UTC()}
	pii := make(map[string]map[string]bool, len(o.PII))
	for p, cols := range o.PII {
		pii[p] = map[string]bool{}
		for _, c := range cols {
			pii[p][c] = true
		}
	}
	products := map[string]*ReportRow{}
	subjects := map[string]*ReportRow{}
	pairs := map[[2]string]bool{}
	piiAcc := map[[2]string]*PIIAccess{}
	days := map[time.Time]*DayTally{}

	q := audit.Query{Since: o.Since, Until: o.Until, Limit: reportPage}
	for {
		recs, err := store.Search(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("audit report: %w", err)
		}
		for i := range recs {
			r := &recs[i]
			q.AfterSeq = r.Seq
			prod := r.Product
			if prod == "" {
				prod = CatalogProduct
			}
			var got, masked []string
			if r.Decision == audit.DecisionAllow {
				for _, c := range r.Columns {
					if pii[r.Product][c] {
						got = append(got, c)
						if _, ok := r.Masks[c]; ok {
							masked = append(masked, c)
						}
					}
				}
			}
			isPII := len(got) > 0
			rep.Totals.add(r, isPII)
			reportRowOf(products, prod).add(r, isPII)
			reportRowOf(subjects, r.Subject).add(r, isPII)
			pairs[[2]string{prod, r.Subject}] = true
			if isPII {
				k := [2]string{r.Subject, r.Product}
				a := piiAcc[k]
				if a == nil {
					a = &PIIAccess{Subject: r.Subject, Product: r.Product, First: r.At}
					piiAcc[k] = a
				}
				a.Calls++
				a.Columns = union(a.Columns, got)
				a.Masked = union(a.Masked, masked)
				// Seq order is not time order across replicas' clocks.
				if r.At.Before(a.First) {
					a.First = r.At
				}
				if r.At.After(a.Last) {
					a.Last = r.At
				}
			}
			day := time.Date(r.At.Year(), r.At.Month(), r.At.Day(), 0, 0, 0, 0, time.UTC)
			d := days[day]
			if d == nil {
				d = &DayTally{Day: day}
				days[day] = d
			}
			switch r.Decision {
			case audit.DecisionAllow:
				d.Allowed++
			case audit.DecisionDeny:
				d.Denied++
			default:
				d.Errors++
			}
		}
		if len(recs) < reportPage {
			break
		}
	}
	for k := range pairs {
		products[k[0]].Others++
		subjects[k[1]].Others++
	}
	rep.Products = sortedRows(products)
	rep.Subjects = sortedRows(subjects)
	rep.Users = len(subjects)
	for _, a := range piiAcc {
		rep.PII = append(rep.PII, *a)
	}
	slices.SortFunc(rep.PII, func(a, b PIIAccess) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Product, b.Product))
	})
	rep.Days = fillDays(days, rep.Totals)
	vr, err := store.Verify(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit report: verify the chain: %w", err)
	}
	rep.Chain = vr
	return rep, nil
}

func reportRowOf(m map[string]*ReportRow, name string) *ReportRow {
	r := m[name]
	if r == nil {
		r = &ReportRow{Name: name}
		m[name] = r
	}
	return r
}

func sortedRows(m map[string]*ReportRow) []ReportRow {
	out := make([]ReportRow, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ReportRow) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// fillDays lists every day from the first record's to the last's, quiet
// days included, so the timeline's gaps are visible.
func fillDays(days map[time.Time]*DayTally, t Tally) []DayTally {
	if t.Calls == 0 {
		return nil
	}
	first := time.Date(t.First.Year(), t.First.Month(), t.First.Day(), 0, 0, 0, 0, time.UTC)
	var out []DayTally
	for d := first; !d.After(t.Last); d = d.AddDate(0, 0, 1) {
		if v, ok := days[d]; ok {
			out = append(out, *v)
		} else {
			out = append(out, DayTally{Day: d})
		}
	}
	return out
}

// Period describes the report's period in words.
func (r *Report) Period() string {
	switch {
	case r.Since.IsZero() && r.Until.IsZero():
		return "the whole log"
	case r.Until.IsZero():
		return "from " + when(r.Since)
	case r.Since.IsZero():
		return "until " + when(r.Until) + " (exclusive)"
	}
	return when(r.Since) + " to " + when(r.Until) + " (exclusive)"
}

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339)
}

// ChainStatus describes the chain in one line.
func (r *Report) ChainStatus() string {
	c := r.Chain
	if c.OK {
		return fmt.Sprintf("intact: %d records, head seq %d, hash %s", c.Records, c.HeadSeq, c.Head)
	}
	return fmt.Sprintf("BROKEN at seq %d (record %s): %s", c.BrokenSeq, c.BrokenID, c.Problem)
}

// WriteText writes the report as plain text tables.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("askmesh audit report: %s\n", r.Period())
	p("generated %s\n\n", r.GeneratedAt.Format(time.RFC3339))
	t := r.Totals
	p("calls %d: %d allowed (accesses), %d denied, %d errors; %d users; %d pii accesses\n", t.Calls, t.Allowed, t.Denied, t.Errors, r.Users, t.PIIAccesses)
	p("chain: %s\n", r.ChainStatus())
	table := func(title, other string, rows []ReportRow) {
		p("\n%s\n", title)
		p("NAME\tCALLS\tALLOWED\tDENIED\tERRORS\tPII\t%s\tFIRST\tLAST\n", other)
		for _, x := range rows {
			p("%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", x.Name, x.Calls, x.Allowed, x.Denied, x.Errors, x.PIIAccesses, x.Others,
				x.First.Format(time.RFC3339), x.Last.Format(time.RFC3339))
		}
		if len(rows) == 0 {
			p("(none)\n")
		}
	}
	table("PER PRODUCT", "USERS", r.Products)
	table("PER USER", "PRODUCTS", r.Subjects)
	p("\nPII ACCESSES (personal columns received, masked or not)\n")
	p("USER\tPRODUCT\tCALLS\tCOLUMNS\tMASKED\tFIRST\tLAST\n")
	for _, a := range r.PII {
		p("%s\t%s\t%d\t%s\t%s\t%s\t%s\n", a.Subject, a.Product, a.Calls, strings.Join(a.Columns, ","), orDash(strings.Join(a.Masked, ",")),
			a.First.Format(time.RFC3339), a.Last.Format(time.RFC3339))
	}
	if len(r.PII) == 0 {
		p("(none)\n")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("audit report: %w", err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
