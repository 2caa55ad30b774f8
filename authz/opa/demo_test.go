package opa

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// The demo access table (shared/demo-bank-mesh.md, "Demo users"), written
// out by hand for every user, product and action, and checked against the
// real descriptors and directory.

// outcome is what one user may do with one product through one kind of
// access: denied with a reason, or allowed with obligations.
type outcome struct {
	deny    string            // the exact reason; "" means allowed
	masks   map[string]string // column masks, over the whole product
	hidden  []string          // withheld columns, of all the product's columns
	filters []authz.RowFilter
}

// view is what describe reports: masks and withheld columns.
type view struct {
	masks  map[string]string
	hidden []string
}

type demoAccess struct {
	describe view
	records  outcome // query_records, get_record, find_anomalies
	metrics  outcome // query_metrics
}

func noGroup(product string) outcome {
	return outcome{deny: "you are not in a group that may query " + product}
}

func metricsOnly(product string) outcome {
	return outcome{deny: "you may see metrics of " + product + ", but not individual records"}
}

var (
	auditColumns         = []string{"action", "arguments", "at", "channel", "client_request_id", "columns", "conversation_id", "decision", "duration_ms", "groups", "hash", "id", "masks", "model", "policy_revision", "prev_hash", "product", "question", "reason", "request_id", "row_filters", "rows_returned", "seq", "subject", "tool"}
	acquisitionColumns   = []string{"acquired_at", "campaign_id", "campaign_name", "channel", "customer_id", "region", "segment"}
	interactionColumns   = []string{"channel", "customer_id", "handle_minutes", "interaction_id", "occurred_at", "resolved", "sentiment", "topic"}
	transactionColumns   = []string{"account_id", "amount", "channel", "counterparty", "currency", "customer_id", "occurred_at", "region", "transaction_id", "type"}
	customerColumns      = []string{"customer_id", "date_of_birth", "email", "full_name", "joined_at", "region", "risk_rating", "segment", "ssn"}
	loanColumns          = []string{"amount", "application_id", "applied_at", "credit_score", "customer_id", "decided_at", "loan_type", "region", "status"}
	campaignColumns      = []string{"budget", "campaign_id", "channel", "clicks", "conversions", "end_date", "impressions", "name", "start_date"}
	customersPII         = []string{"date_of_birth", "email", "full_name", "ssn"}
	transactionsWithheld = []string{"account_id", "counterparty"}
	europe               = []authz.RowFilter{{Column: "region", Op: "=", Value: "europe"}}
	piiRedacted          = map[string]string{"date_of_birth": authz.MaskRedact, "email": authz.MaskRedact, "full_name": authz.MaskRedact}
)

// nothing is the access of someone with no grant on a product.
func nothing(product string, columns []string) demoAccess {
	return demoAccess{describe: view{hidden: columns}, records: noGroup(product), metrics: noGroup(product)}
}

var full = demoAccess{}

var demoTable = map[string]map[string]demoAccess{
	"carol@bank.example": {
		"access-audit":          nothing("access-audit", auditColumns),
		"customer-acquisition":  {records: metricsOnly("customer-acquisition")},
		"customer-interactions": {records: metricsOnly("customer-interactions")},
		"customer-transactions": {describe: view{hidden: transactionsWithheld}, records: metricsOnly("customer-transactions")},
		"customers":             {describe: view{hidden: customersPII}, records: metricsOnly("customers")},
		"loan-applications":     {describe: view{hidden: []string{"credit_score"}}, records: metricsOnly("loan-applications")},
		"marketing-campaigns":   full,
	},
	"alice@bank.example": {
		"access-audit":          nothing("access-audit", auditColumns),
		"customer-acquisition":  full,
		"customer-interactions": nothing("customer-interactions", interactionColumns),
		"customer-transactions": nothing("customer-transactions", transactionColumns),
		"customers":             {describe: view{hidden: customersPII}, records: metricsOnly("customers")},
		"loan-applications":     nothing("loan-applications", loanColumns),
		"marketing-campaigns":   full,
	},
	"bob@bank.example": {
		"access-audit":          nothing("access-audit", auditColumns),
		"customer-acquisition":  nothing("customer-acquisition", acquisitionColumns),
		"customer-interactions": nothing("customer-interactions", interactionColumns),
		"customer-transactions": nothing("customer-transactions", transactionColumns),
		"customers": {
			describe: view{masks: piiRedacted, hidden: []string{"ssn"}},
			records:  outcome{masks: piiRedacted, hidden: []string{"ssn"}},
			metrics:  outcome{deny: "you may see individual records of customers, but not metrics"},
		},
		"loan-applications":   full,
		"marketing-campaigns": nothing("marketing-campaigns", campaignColumns),
	},
	"erin@bank.example": {
		"access-audit":          nothing("access-audit", auditColumns),
		"customer-acquisition":  nothing("customer-acquisition", acquisitionColumns),
		"customer-interactions": nothing("customer-interactions", interactionColumns),
		"customer-transactions": {records: outcome{filters: europe}, metrics: outcome{filters: europe}},
		"customers":             nothing("customers", customerColumns),
		"loan-applications":     nothing("loan-applications", loanColumns),
		"marketing-campaigns":   nothing("marketing-campaigns", campaignColumns),
	},
	"dave@bank.example": {
		"access-audit":          full,
		"customer-acquisition":  nothing("customer-acquisition", acquisitionColumns),
		"customer-interactions": nothing("customer-interactions", interactionColumns),
		"customer-transactions": nothing("customer-transactions", transactionColumns),
		"customers":             nothing("customers", customerColumns),
		"loan-applications":     nothing("loan-applications", loanColumns),
		"marketing-campaigns":   nothing("marketing-campaigns", campaignColumns),
	},
	"frank@bank.example": {
		"access-audit":          nothing("access-audit", auditColumns),
		"customer-acquisition":  nothing("customer-acquisition", acquisitionColumns),
		"customer-interactions": nothing("customer-interactions", interactionColumns),
		"customer-transactions": nothing("customer-transactions", transactionColumns),
		"customers":             nothing("customers", customerColumns),
		"loan-applications":     nothing("loan-applications", loanColumns),
		"marketing-campaigns":   nothing("marketing-campaigns", campaignColumns),
	},
}

// customers.ssn is restricted: withheld from every allowed call that asks
// for all columns, whatever the table above says.
func withSSN(product string, hidden []string) []string {
	if product != "customers" || slices.Contains(hidden, "ssn") {
		return hidden
	}
	out := append(slices.Clone(hidden), "ssn")
	slices.Sort(out)
	return out
}

func (o outcome) decision(rev string, withColumns bool, product string) authz.Decision {
	if o.deny != "" {
		return authz.Decision{Reasons: []string{o.deny}, PolicyRevision: rev}
	}
	d := authz.Decision{Allow: true, RowFilters: o.filters, ColumnMasks: o.masks, PolicyRevision: rev}
	if withColumns {
		d.DeniedColumns = withSSN(product, o.hidden)
	}
	return d
}

func TestDemoAccessTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := demoEngine(t)
	dir := demoDirectory(t)
	products := demoProducts(t)
	if len(products) != 7 {
		t.Fatalf("the demo mesh has %d products, want 7", len(products))
	}
	if got := len(demoTable); got != len(dir.Users()) {
		t.Fatalf("the table covers %d users, the directory lists %d", got, len(dir.Users()))
	}
	rev := e.Revision()
	for _, u := range dir.Users() {
		rows, ok := demoTable[u.ID]
		if !ok {
			t.Fatalf("no expectations for %s", u.ID)
		}
		subj := dir.Lookup(u.ID)
		for _, p := range products {
			want, ok := rows[p.Name]
			if !ok {
				t.Fatalf("no expectations for %s on %s", u.ID, p.Name)
			}
			all := p.ColumnNames()
			cases := []struct {
				action string
				res    authz.Resource
				want   authz.Decision
			}{
				{authz.ActionSearch, authz.Resource{}, authz.Decision{Allow: true, PolicyRevision: rev}},
				{authz.ActionDescribe, authz.Resource{Columns: all},
					authz.Decision{Allow: true, ColumnMasks: want.describe.masks, DeniedColumns: withSSN(p.Name, want.describe.hidden), PolicyRevision: rev}},
				{authz.ActionQueryRecords, authz.Resource{Columns: all, Referenced: []string{p.TimeColumn}}, want.records.decision(rev, true, p.Name)},
				{authz.ActionGetRecord, authz.Resource{Columns: all, Referenced: []string{p.KeyColumn}}, want.records.decision(rev, true, p.Name)},
				{authz.ActionFindAnomalies, authz.Resource{Columns: all}, want.records.decision(rev, true, p.Name)},
				{authz.ActionQueryMetrics, authz.Resource{Referenced: []string{p.TimeColumn}}, want.metrics.decision(rev, false, p.Name)},
			}
			for _, c := range cases {
				c.res.Product, c.res.Domain, c.res.Owner = p.Name, p.Domain, p.Owner
				got, err := e.Decide(ctx, authz.Input{Subject: subj, Action: c.action, Resource: c.res, Context: authz.Context{Channel: "cli"}})
				if err != nil {
					t.Fatalf("%s %s %s: %v", u.ID, c.action, p.Name, err)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("%s %s %s:\n got %s\nwant %s", u.ID, c.action, p.Name, show(got), show(c.want))
				}
			}
		}
	}
}

func show(d authz.Decision) string {
	return fmt.Sprintf("allow=%v reasons=%q filters=%v masks=%v denied=%v", d.Allow, d.Reasons, d.RowFilters, d.ColumnMasks, d.DeniedColumns)
}

// decideAs is one decision for a demo user.
func decideAs(t *testing.T, e *Engine, user, action, product string, columns, referenced []string) authz.Decision {
	t.Helper()
	d, err := e.Decide(context.Background(), authz.Input{Subject: demoDirectory(t).Lookup(user), Action: action,
		Resource: authz.Resource{Product: product, Columns: columns, Referenced: referenced}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The cases the demo tells, as the executor asks them.
func TestDemoStories(t *testing.T) {
	t.Parallel()
	e := demoEngine(t)
	products := map[string]*catalog.Product{}
	for _, p := range demoProducts(t) {
		products[p.Name] = p
	}
	metricColumns := func(product, metric string) []string {
		m, ok := products[product].Metric(metric)
		if !ok {
			t.Fatalf("%s has no metric %s", product, metric)
		}
		return m.Columns
	}
	cases := []struct {
		name                string
		user, action, prod  string
		columns, referenced []string
		allow               bool
		reasons             []string
		filters             []authz.RowFilter
		masks               map[string]string
		denied              []string
	}{
		{name: "erin filters transactions by account", user: "erin@bank.example", action: authz.ActionQueryRecords, prod: "customer-transactions",
			columns: []string{"transaction_id", "account_id", "amount", "region"}, referenced: []string{"account_id", "occurred_at"},
			allow: true, filters: europe},
		{name: "erin totals by account", user: "erin@bank.example", action: authz.ActionQueryMetrics, prod: "customer-transactions",
			columns: []string{"account_id"}, referenced: append([]string{"account_id"}, metricColumns("customer-transactions", "total_amount")...),
			allow: true, filters: europe},
		{name: "carol averages credit scores", user: "carol@bank.example", action: authz.ActionQueryMetrics, prod: "loan-applications",
			referenced: metricColumns("loan-applications", "average_credit_score"),
			reasons:    []string{"credit_score is confidential and not visible to you, so it cannot be used in metrics, filters, grouping or sorting"}},
		{name: "carol's approval rate", user: "carol@bank.example", action: authz.ActionQueryMetrics, prod: "loan-applications",
			columns: []string{"loan_type"}, referenced: append([]string{"loan_type", "applied_at"}, metricColumns("loan-applications", "approval_rate")...),
			allow: true},
		{name: "carol groups transactions by account", user: "carol@bank.example", action: authz.ActionQueryMetrics, prod: "customer-transactions",
			columns: []string{"account_id"}, referenced: []string{"account_id"},
			reasons: []string{"account_id is confidential and not visible to you, so it cannot be used in metrics, filters, grouping or sorting"}},
		{name: "carol reads loan records", user: "carol@bank.example", action: authz.ActionQueryRecords, prod: "loan-applications",
			columns: []string{"application_id"}, reasons: []string{"you may see metrics of loan-applications, but not individual records"}},
		{name: "bob filters customers by email", user: "bob@bank.example", action: authz.ActionQueryRecords, prod: "customers",
			columns: []string{"customer_id"}, referenced: []string{"email"},
			reasons: []string{"email is pii and you see it only masked, so it cannot be used in metrics, filters, grouping or sorting"}},
		{name: "bob asks only for ssn", user: "bob@bank.example", action: authz.ActionQueryRecords, prod: "customers",
			columns: []string{"ssn"}, reasons: []string{"none of the columns you asked for from customers are visible to you (ssn)"}},
		{name: "bob's loan records with credit score", user: "bob@bank.example", action: authz.ActionQueryRecords, prod: "loan-applications",
			columns: []string{"application_id", "credit_score"}, referenced: []string{"credit_score"}, allow: true},
		{name: "alice counts customers by segment", user: "alice@bank.example", action: authz.ActionQueryMetrics, prod: "customers",
			columns: []string{"segment"}, referenced: []string{"segment"}, allow: true},
		{name: "alice counts customers by birth date", user: "alice@bank.example", action: authz.ActionQueryMetrics, prod: "customers",
			columns: []string{"date_of_birth"}, referenced: []string{"date_of_birth"},
			reasons: []string{"date_of_birth is pii and not visible to you, so it cannot be used in metrics, filters, grouping or sorting"}},
		{name: "dave reads questions in the audit log", user: "dave@bank.example", action: authz.ActionQueryRecords, prod: "access-audit",
			columns: []string{"subject", "question", "arguments", "decision"}, referenced: []string{"decision"}, allow: true},
		{name: "frank looks up a campaign", user: "frank@bank.example", action: authz.ActionGetRecord, prod: "marketing-campaigns",
			columns: campaignColumns, referenced: []string{"campaign_id"}, reasons: []string{"you are not in a group that may query marketing-campaigns"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decideAs(t, e, c.user, c.action, c.prod, c.columns, c.referenced)
			want := authz.Decision{Allow: c.allow, Reasons: c.reasons, RowFilters: c.filters, ColumnMasks: c.masks, DeniedColumns: c.denied, PolicyRevision: e.Revision()}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %s\nwant %s", show(got), show(want))
			}
		})
	}
}

// Nobody gets ssn: not returned, not masked, not computed with, through
// any action, whatever their groups.
func TestNobodyGetsSSN(t *testing.T) {
	t.Parallel()
	e := demoEngine(t)
	dir := demoDirectory(t)
	var customers *catalog.Product
	for _, p := range demoProducts(t) {
		if p.Name == "customers" {
			customers = p
		}
	}
	users := dir.Users()
	// Someone in every group at once, too.
	everyone := authz.User{ID: "all@bank.example", Groups: []string{"executive", "marketing", "lending", "retail-ops", "auditor", "intern", "customer-service"}, Attributes: map[string]string{"region": "europe"}}
	users = append(users, everyone)
	dir2, err := authz.NewDirectory(users)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetDirectory(context.Background(), dir2); err != nil {
		t.Fatal(err)
	}
	actions := []string{authz.ActionDescribe, authz.ActionQueryRecords, authz.ActionGetRecord, authz.ActionFindAnomalies, authz.ActionQueryMetrics}
	for _, u := range users {
		for _, action := range actions {
			in := authz.Input{Subject: dir2.Lookup(u.ID), Action: action, Resource: authz.Resource{Product: "customers", Columns: customers.ColumnNames()}}
			d, err := e.Decide(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow && (!slices.Contains(d.DeniedColumns, "ssn") || d.ColumnMasks["ssn"] != "") {
				t.Errorf("%s %s: ssn is not withheld: %s", u.ID, action, show(d))
			}
			in.Resource.Columns, in.Resource.Referenced = []string{"customer_id"}, []string{"ssn"}
			if d, err = e.Decide(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			if action != authz.ActionDescribe && d.Allow {
				t.Errorf("%s %s: computing with ssn allowed", u.ID, action)
			}
		}
	}
}
