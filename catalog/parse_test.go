package catalog_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank"
)

func descriptor(t testing.TB, file string) string {
	t.Helper()
	data, err := fs.ReadFile(bank.Files, bank.ProductsDir+"/"+file)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// mutate replaces old, which must occur exactly once, with new.
func mutate(t testing.TB, text, old, new string) string {
	t.Helper()
	if n := strings.Count(text, old); n != 1 {
		t.Fatalf("%q occurs %d times in the descriptor, want once", old, n)
	}
	return strings.Replace(text, old, new, 1)
}

type edit struct{ old, new string }

// Each broken descriptor is a real one with one thing broken; the error
// names the file, the line, the path and the fault exactly.
func TestBrokenDescriptors(t *testing.T) {
	t.Parallel()
	const loans = "loan-applications.yaml"
	const ext = "customProperties[0].value"
	rowFilter := func(lines string) edit {
		return edit{"          see: [confidential]\n", "          see: [confidential]\n          rowFilters:\n            - column: " + lines}
	}
	tests := []struct {
		name  string
		file  string
		edits []edit
		want  []string // faults, in order, without the file name
	}{
		{"bad logicalType", loans, []edit{{"        logicalType: number\n        required: true\n        description: Requested amount.", "        logicalType: strng\n        required: true\n        description: Requested amount."}},
			[]string{`48: schema[0].properties[3].logicalType: "strng" is not one of string, integer, number, boolean, date, timestamp`}},
		{"unknown classification", loans, []edit{{"300-850.\n        classification: confidential", "300-850.\n        classification: secret"}},
			[]string{`67: schema[0].properties[5].classification: "secret" is not one of public, internal, confidential, pii, restricted`}},
		{"missing classification", loans, []edit{{"300-850.\n        classification: confidential\n", "300-850.\n"}},
			[]string{`63: schema[0].properties[5].classification: is required: every column is classified (public, internal, confidential, pii or restricted)`}},
		{"classification set twice", loans, []edit{{"300-850.\n        classification: confidential\n", "300-850.\n        classification: confidential\n        classification: internal\n"}},
			[]string{`67: schema[0].properties[5].classification: is set twice, on lines 67 and 68; YAML keeps only one`}},
		{"metric over a missing column", loans, []edit{{"expression: sum(amount)", "expression: sum(amont)"}},
			[]string{`100: ` + ext + `.metrics[1].expression: unknown column "amont"; did you mean "amount"?`}},
		{"metric syntax error", loans, []edit{{"expression: sum(amount)", "expression: sum(amount"}},
			[]string{`100: ` + ext + `.metrics[1].expression: at character 11: expected ")" to close sum(, found the end of the expression`}},
		{"avg of a string column", loans, []edit{{"expression: avg(amount)", "expression: avg(loan_type)"}},
			[]string{`106: ` + ext + `.metrics[2].expression: avg(loan_type): loan_type is a string column; avg needs an integer or number column`}},
		{"unknown value in a metric", loans, []edit{{"count_if(status in ('approved', 'funded')) /", "count_if(status in ('aproved', 'funded')) /"}},
			[]string{`112: ` + ext + `.metrics[3].expression: status in ('aproved', 'funded'): 'aproved' is not a value of status (did you mean 'approved'?)`}},
		{"metric precision out of range", loans, []edit{{"          precision: 4", "          precision: 12"}},
			[]string{`115: ` + ext + `.metrics[3].precision: 12 is out of range 0-10`}},
		{"metric precision not a number", loans, []edit{{"          precision: 4", "          precision: four"}},
			[]string{`115: ` + ext + `.metrics[3].precision: must be a whole number, found "four"`}},
		{"duplicate metric name", loans, []edit{{"- name: average_credit_score", "- name: average_amount"}},
			[]string{`117: ` + ext + `.metrics[4].name: metric "average_amount" is already defined at metrics[2]`}},
		{"metric named like a column", loans, []edit{{"- name: total_requested", "- name: amount"}},
			[]string{`99: ` + ext + `.metrics[1].name: "amount" is also a column name; results would have two columns of that name`}},
		{"unknown key in a metric", loans, []edit{{"          unit: ratio", "          units: ratio"}},
			[]string{`114: ` + ext + `.metrics[3].units: unknown key "units"; did you mean "unit"?`}},
		{"two primary keys", loans, []edit{{"      - name: customer_id\n", "      - name: customer_id\n        primaryKey: true\n"}},
			[]string{`35: schema[0].properties[1].primaryKey: a second primary key: application_id is already the key, and askmesh supports single-column keys`}},
		{"primary key not a boolean", loans, []edit{{"        primaryKey: true", "        primaryKey: yes"}},
			[]string{
				`26: schema[0].properties: no column has primaryKey: true; exactly one must (records are looked up by it)`,
				`29: schema[0].properties[0].primaryKey: must be true or false, found "yes"`,
			}},
		{"unknown key in the askmesh extension", loans, []edit{{"      timeColumn: applied_at", "      timeColum: applied_at"}},
			[]string{`90: ` + ext + `.timeColum: unknown key "timeColum"; did you mean "timeColumn"?`}},
		{"time column of type string", loans, []edit{{"timeColumn: applied_at", "timeColumn: region"}},
			[]string{`90: ` + ext + `.timeColumn: region is a string column; the time column must be a date or timestamp`}},
		{"time column missing", loans, []edit{{"timeColumn: applied_at", "timeColumn: applied_on"}},
			[]string{`90: ` + ext + `.timeColumn: unknown column "applied_on"; did you mean "applied_at"?`}},
		{"unknown dimension", loans, []edit{{"dimensions: [loan_type, status, region]", "dimensions: [loan_type, state, region]"}},
			[]string{`92: ` + ext + `.dimensions[1]: unknown column "state"; did you mean "status"?`}},
		{"unknown headline metric", loans, []edit{{"headlineMetrics: [application_count, approval_rate]", "headlineMetrics: [application_count, approval_rates]"}},
			[]string{`123: ` + ext + `.headlineMetrics[1]: unknown metric "approval_rates"; did you mean "approval_rate"?`}},
		{"unknown capability", loans, []edit{{"capabilities: [records, metrics, get]", "capabilities: [records, metrics, get, export]"}},
			[]string{`91: ` + ext + `.capabilities[3]: "export" is not one of records, metrics, get, anomalies`}},
		{"anomalies capability without a section", loans, []edit{{"capabilities: [records, metrics, get]", "capabilities: [records, metrics, get, anomalies]"}},
			[]string{`91: ` + ext + `.capabilities: anomalies is declared but there is no anomalies section (column, groupBy, stdDevs)`}},
		{"restricted in see", loans, []edit{{"          see: [confidential]", "          see: [restricted]"}},
			[]string{`130: ` + ext + `.access[0].see[0]: restricted can never be granted: restricted columns are never returned through askmesh`}},
		{"internal in see", loans, []edit{{"          see: [confidential]", "          see: [internal]"}},
			[]string{`130: ` + ext + `.access[0].see[0]: internal columns are always visible; see lists confidential, pii`}},
		{"unknown action", loans, []edit{{"          actions: [records, metrics]\n          see:", "          actions: [records, write]\n          see:"}},
			[]string{`129: ` + ext + `.access[0].actions[1]: "write" is not one of records, metrics`}},
		{"unknown mask kind", loans, []edit{{"          actions: [metrics]\n      backend:", "          actions: [metrics]\n          mask:\n            pii: scramble\n      backend:"}},
			[]string{`134: ` + ext + `.access[1].mask.pii: "scramble" is not one of redact, last4, hash`}},
		{"mask of restricted", loans, []edit{{"          actions: [metrics]\n      backend:", "          actions: [metrics]\n          mask:\n            restricted: redact\n      backend:"}},
			[]string{`134: ` + ext + `.access[1].mask.restricted: restricted columns are never returned, not even masked`}},
		{"mask of a missing column", loans, []edit{{"          actions: [metrics]\n      backend:", "          actions: [metrics]\n          mask:\n            credit_scor: last4\n      backend:"}},
			[]string{`134: ` + ext + `.access[1].mask.credit_scor: "credit_scor" is neither a classification (confidential, pii) nor a column; did you mean "credit_score"?`}},
		{"mask of what is also seen", loans, []edit{{"          see: [confidential]\n", "          see: [confidential]\n          mask: {confidential: hash}\n"}},
			[]string{`131: ` + ext + `.access[0].mask.confidential: confidential is both in see and in mask; choose one`}},
		{"row filter with unknown op", loans, []edit{rowFilter("region\n              op: like\n              value: europe\n")},
			[]string{`133: ` + ext + `.access[0].rowFilters[0].op: "like" is not one of =, !=, <, <=, >, >=, in`}},
		{"row filter with value and attribute", loans, []edit{rowFilter("region\n              op: \"=\"\n              value: europe\n              subjectAttribute: region\n")},
			[]string{`132: ` + ext + `.access[0].rowFilters[0]: set value or subjectAttribute, not both`}},
		{"row filter with neither value nor attribute", loans, []edit{rowFilter("region\n              op: \"=\"\n")},
			[]string{`132: ` + ext + `.access[0].rowFilters[0]: needs a value or a subjectAttribute (the asker's directory attribute)`}},
		{"row filter with an unknown value", loans, []edit{rowFilter("region\n              op: \"=\"\n              value: europa\n")},
			[]string{`134: ` + ext + `.access[0].rowFilters[0].value: 'europa' is not a value of region (did you mean 'europe'?)`}},
		{"row filter in without a list", loans, []edit{rowFilter("region\n              op: in\n              value: europe\n")},
			[]string{`134: ` + ext + `.access[0].rowFilters[0].value: in needs a list of values, e.g. [europe, asia-pacific]`}},
		{"row filter in with one bad value", loans, []edit{rowFilter("region\n              op: in\n              value: [europe, asia]\n")},
			[]string{`134: ` + ext + `.access[0].rowFilters[0].value[1]: 'asia' is not a value of region (north-america, europe, asia-pacific)`}},
		{"row filter type mismatch", loans, []edit{rowFilter("credit_score\n              op: \">=\"\n              value: high\n")},
			[]string{`134: ` + ext + `.access[0].rowFilters[0].value: credit_score is an integer column; 'high' is not a whole number`}},
		{"row filter over a missing column", loans, []edit{rowFilter("country\n              op: \"=\"\n              value: fr\n")},
			[]string{`132: ` + ext + `.access[0].rowFilters[0].column: unknown column "country"; columns are application_id, customer_id, loan_type, amount, status, credit_score, applied_at, decided_at, region`}},
		{"unknown key in a row filter", loans, []edit{rowFilter("region\n              op: \"=\"\n              attribute: region\n")},
			[]string{
				`132: ` + ext + `.access[0].rowFilters[0]: needs a value or a subjectAttribute (the asker's directory attribute)`,
				`134: ` + ext + `.access[0].rowFilters[0].attribute: unknown key "attribute"; keys here are column, op, value, subjectAttribute`,
			}},
		{"unknown backend kind", loans, []edit{{"        kind: sqlite", "        kind: mongo"}},
			[]string{`134: ` + ext + `.backend.kind: "mongo" is not one of sqlite, postgres, mysql, rest, combined, audit`}},
		{"sqlite backend without database", loans, []edit{{"        database: lending\n", ""}},
			[]string{`133: ` + ext + `.backend.database: is required when kind is sqlite`}},
		{"postgres backend without schema", loans, []edit{{"        kind: sqlite\n        database: lending\n        schema: lending\n", "        kind: postgres\n        dsnEnv: LENDING_DSN\n"}},
			[]string{`133: ` + ext + `.backend.schema: is required when kind is postgres`}},
		{"rest backend with credentials in the URL", loans, []edit{{"        kind: sqlite\n        database: lending\n        schema: lending\n        table: loan_applications\n", "        kind: rest\n        url: https://user:secret@loans.bank.example/api\n"}},
			[]string{`135: ` + ext + `.backend.url: must not contain credentials; name the environment variable holding a token with tokenEnv`}},
		{"credentials in the backend", loans, []edit{{"        table: loan_applications\n", "        table: loan_applications\n        dsn: postgres://app:secret@db/lending\n"}},
			[]string{`138: ` + ext + `.backend.dsn: credentials never go in a descriptor; name the environment variable that holds them with dsnEnv`}},
		{"bad identifier with a quote", loans, []edit{{"      - name: customer_id\n", "      - name: customer\"id\n"}},
			[]string{`34: schema[0].properties[1].name: "customer\"id" is not a valid identifier: use lowercase letters, digits and _, starting with a letter or _ (it becomes an SQL identifier)`}},
		{"injection in the table name", loans, []edit{{"        table: loan_applications\n", "        table: \"loan_applications; drop table x\"\n"}},
			[]string{`137: ` + ext + `.backend.table: "loan_applications; drop table x" is not a valid identifier: use lowercase letters, digits and _, starting with a letter or _ (it becomes an SQL identifier)`}},
		{"identifier too long", loans, []edit{{"      - name: customer_id\n", "      - name: " + strings.Repeat("c", 64) + "\n"}},
			[]string{`34: schema[0].properties[1].name: "` + strings.Repeat("c", 64) + `" is longer than 63 characters`}},
		{"bad product name", loans, []edit{{"name: loan-applications\nversion", "name: Loan_Applications\nversion"}},
			[]string{`4: name: "Loan_Applications" is not a valid product name: lowercase letters, digits and -, starting with a letter, at most 63 characters`}},
		{"ODCS v2", loans, []edit{{"apiVersion: v3.1.0", "apiVersion: v2.2.0"}},
			[]string{`1: apiVersion: "v2.2.0" is not supported; askmesh reads ODCS v3 (e.g. v3.1.0)`}},
		{"wrong kind", loans, []edit{{"kind: DataContract", "kind: DataProduct"}},
			[]string{`2: kind: "DataProduct": expected DataContract`}},
		{"two schema objects", loans, []edit{{"customProperties:\n  - property: askmesh", "  - name: extra\n    physicalName: extra\ncustomProperties:\n  - property: askmesh"}},
			[]string{`86: schema[1]: a descriptor describes one table; found 2 schema objects (split them into one descriptor each)`}},
		{"no owner", loans, []edit{{"    role: owner", "    role: steward"}},
			[]string{`14: team: no current member with role owner; one is accountable for the product`}},
		{"no askmesh extension", loans, []edit{{"  - property: askmesh", "  - property: askmash"}},
			[]string{`86: customProperties: no entry with property: askmesh; it declares how askmesh serves the product (backend, metrics, access)`}},
		{"freshness unit", loans, []edit{{"    value: 1\n    unit: d", "    value: 1\n    unit: w"}},
			[]string{`20: slaProperties[0].unit: "w" is not one of d, h, m (days, hours, minutes)`}},
		{"YAML syntax", loans, []edit{{"    role: owner", "    role: owner: x"}},
			[]string{`16: invalid YAML: mapping values are not allowed in this context`}},
		{"tags as a mapping", loans, []edit{{"tags: [loans, lending, credit, mortgages, applications, approvals]", "tags: {loans: 1}"}},
			[]string{`13: tags: expected a list, found a mapping`}},
		{"restricted column in a metric", "customers.yaml", []edit{{"expression: count(*)", "expression: count_distinct(ssn)"}},
			[]string{`95: ` + ext + `.metrics[0].expression: ssn is restricted and cannot be used in a metric`}},
		{"restricted dimension", "customers.yaml", []edit{{"dimensions: [region, segment, risk_rating]", "dimensions: [region, segment, risk_rating, ssn]"}},
			[]string{`92: ` + ext + `.dimensions[3]: ssn is restricted and cannot be a dimension: restricted columns are never used through askmesh`}},
		{"anomalies over a string column", "customer-transactions.yaml", []edit{{"        column: amount\n", "        column: currency\n"}},
			[]string{`134: ` + ext + `.anomalies.column: currency is a string column; anomalies are found in integer or number columns`}},
		{"anomalies without a capability", "customer-transactions.yaml", []edit{{"capabilities: [records, metrics, get, anomalies]", "capabilities: [records, metrics, get]"}},
			[]string{`133: ` + ext + `.anomalies: is set but capabilities lacks anomalies; add it there or remove this section`}},
		{"unit column that is not a dimension", "customer-transactions.yaml", []edit{{"dimensions: [type, currency, channel,", "dimensions: [type, channel,"}},
			[]string{`160: ` + ext + `.units[0].unitColumn: currency must also be listed in dimensions: metrics over amount are broken down by it`}},
		{"unit on a string column", "customer-transactions.yaml", []edit{{"        - column: amount\n          unitColumn", "        - column: channel\n          unitColumn"}},
			[]string{`159: ` + ext + `.units[0].column: channel is a string column; only integer or number columns have a unit`}},
		{"unit column of the wrong type", "customer-transactions.yaml", []edit{{"unitColumn: currency", "unitColumn: occurred_at"}},
			[]string{`160: ` + ext + `.units[0].unitColumn: occurred_at is a timestamp column; a unit column holds unit names or currency codes (string)`}},
		{"unknown unit column", "customer-transactions.yaml", []edit{{"unitColumn: currency", "unitColumn: curency"}},
			[]string{`160: ` + ext + `.units[0].unitColumn: unknown column "curency"; did you mean "currency"?`}},
		{"unknown unit kind", "customer-transactions.yaml", []edit{{"kind: currency", "kind: money"}},
			[]string{`161: ` + ext + `.units[0].kind: "money" is not one of currency, unit`}},
		{"misspelt unit key", "customer-transactions.yaml", []edit{{"unitColumn: currency", "unitColum: currency"}},
			[]string{`159: ` + ext + `.units[0].unitColumn: is required`, `160: ` + ext + `.units[0].unitColum: unknown key "unitColum"; did you mean "unitColumn"?`}},
		{"count_if over a string column", "customer-interactions.yaml", []edit{{"count_if(resolved)", "count_if(topic)"}},
			[]string{`94: ` + ext + `.metrics[1].expression: topic is a string column, not a condition; compare it, e.g. topic = ...`}},
		{"boolean compared with a string", "customer-interactions.yaml", []edit{{"count_if(resolved)", "count_if(resolved = 'yes')"}},
			[]string{`94: ` + ext + `.metrics[1].expression: resolved = 'yes': resolved is a boolean column; compare it with true or false, not 'yes'`}},
		{"timestamp compared with a non-date", "access-audit.yaml", []edit{{"count_if(decision = 'deny')", "count_if(decision = 'deny' and at >= 'yesterday')"}},
			[]string{`154: ` + ext + `.metrics[1].expression: at >= 'yesterday': at is a timestamp column; compare it with 'YYYY-MM-DD' or an RFC 3339 time, not 'yesterday'`}},
		{"audit backend without table", "access-audit.yaml", []edit{{"        table: access_audit\n", ""}},
			[]string{`167: ` + ext + `.backend.table: is required when kind is audit`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := descriptor(t, tt.file)
			for _, e := range tt.edits {
				text = mutate(t, text, e.old, e.new)
			}
			source := "products/" + tt.file
			p, err := catalog.Parse(source, []byte(text))
			if err == nil {
				t.Fatalf("Parse succeeded (%s), want %d faults", p.Name, len(tt.want))
			}
			if p != nil {
				t.Errorf("Parse returned a product with an error")
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = source + ":" + w
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("error:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
			if n := len(catalog.Faults(err)); n != len(tt.want) {
				t.Errorf("Faults(err) has %d faults, want %d", n, len(tt.want))
			}
		})
	}
}

// One file with many faults reports them all, in file order.
func TestAllFaultsReportedTogether(t *testing.T) {
	t.Parallel()
	text := descriptor(t, "loan-applications.yaml")
	for _, e := range []edit{
		{"apiVersion: v3.1.0", "apiVersion: v2"},
		{"        logicalType: number\n        required: true\n        description: Requested amount.", "        logicalType: float\n        required: true\n        description: Requested amount."},
		{"expression: avg(credit_score)", "expression: avg(credit)"},
		{"          see: [confidential]", "          see: [restricted]"},
		{"        kind: sqlite", "        kind: oracle"},
	} {
		text = mutate(t, text, e.old, e.new)
	}
	_, err := catalog.Parse("products/loan-applications.yaml", []byte(text))
	faults := catalog.Faults(err)
	var got []string
	for _, f := range faults {
		got = append(got, f.Path)
	}
	want := []string{
		"apiVersion",
		"schema[0].properties[3].logicalType",
		"customProperties[0].value.metrics[4].expression",
		"customProperties[0].value.access[0].see[0]",
		"customProperties[0].value.backend.kind",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("fault paths = %q\nwant %q\nerror: %v", got, want, err)
	}
	lines := []int{1, 48, 118, 130, 134}
	for i, f := range faults {
		if f.Line != lines[i] || f.Source != "products/loan-applications.yaml" {
			t.Errorf("fault %d at %s:%d, want products/loan-applications.yaml:%d", i, f.Source, f.Line, lines[i])
		}
	}
}

// ODCS has many fields askmesh does not use; they are accepted as they
// are, and so is the ODCS v3.1 team object.
func TestUnknownODCSFieldsIgnored(t *testing.T) {
	t.Parallel()
	text := descriptor(t, "loan-applications.yaml")
	text = mutate(t, text, "team:\n  - username: lending-data@bank.example\n    role: owner\n",
		"team:\n  name: Lending data\n  members:\n    - username: old-owner@bank.example\n      role: Owner\n      dateOut: 2024-01-01\n    - username: lending-data@bank.example\n      role: Owner\n")
	text = mutate(t, text, "slaProperties:\n", "servers:\n  - server: prod\n    type: postgres\nquality:\n  - rule: nullCheck\nsupport:\n  - channel: '#lending'\nslaProperties:\n  - property: latency\n    value: 4\n    unit: d\n")
	text = mutate(t, text, "        logicalTypeOptions:\n          precision: 12\n", "        physicalType: decimal(12,2)\n        tags: [money]\n        quality: [{rule: positive}]\n        logicalTypeOptions:\n          precision: 12\n")
	p, err := catalog.Parse("loans.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if p.Owner != "lending-data@bank.example" {
		t.Errorf("owner = %q, want the current owner only", p.Owner)
	}
	if p.Freshness.Hours() != 24 {
		t.Errorf("freshness = %v, want 24h (latency is not freshness)", p.Freshness)
	}
}

func TestParseEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text, want string }{
		{"empty", "", "x.yaml: empty descriptor"},
		{"only comments", "# nothing yet\n", "x.yaml: empty descriptor"},
		{"broken second document", descriptorForTest + "---\n: : :\n", "x.yaml:24: invalid YAML: did not find expected key"},
		{"a list", "- a\n- b\n", "x.yaml:1: expected a mapping (key: value lines), found a list"},
		{"two documents", descriptorForTest + "---\nname: other\n", "x.yaml:24: a second YAML document; a descriptor file holds one product"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.Parse("x.yaml", []byte(tt.text))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// descriptorForTest is a minimal valid descriptor.
const descriptorForTest = `apiVersion: v3.0.2
kind: DataContract
id: t
name: tiny
version: 1.0.0
status: draft
domain: test
description: A tiny product.
team: [{username: me@example.com, role: owner}]
schema:
  - name: things
    properties:
      - {name: id, logicalType: string, primaryKey: true, classification: internal}
      - {name: size, logicalType: integer, classification: public}
customProperties:
  - property: askmesh
    value:
      capabilities: [records, metrics]
      metrics:
        - {name: things, expression: count(*)}
        - {name: mean_size, expression: avg(size)}
        - {name: double_size, expression: sum(size) * 2}
      backend: {kind: postgres, schema: test, table: things, dsnEnv: TEST_DSN}
`

func TestMinimalDescriptor(t *testing.T) {
	t.Parallel()
	p, err := catalog.Parse("tiny.yaml", []byte(descriptorForTest))
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "A tiny product." || p.Purpose != "A tiny product." || p.TimeColumn != "" || p.Freshness != 0 {
		t.Errorf("description %q purpose %q time %q freshness %v", p.Description, p.Purpose, p.TimeColumn, p.Freshness)
	}
	// Precision defaults: whole-number results 0 places, others 2.
	for _, w := range []struct {
		name string
		prec int
	}{{"things", 0}, {"mean_size", 2}, {"double_size", 0}} {
		if m, _ := p.Metric(w.name); m.Precision != w.prec {
			t.Errorf("%s precision = %d, want %d", w.name, m.Precision, w.prec)
		}
	}
	if p.Binding != (catalog.Binding{Kind: "postgres", Schema: "test", Table: "things", DSNEnv: "TEST_DSN"}) {
		t.Errorf("binding = %+v", p.Binding)
	}
}

func TestDuplicateProductNames(t *testing.T) {
	t.Parallel()
	loans := descriptor(t, "loan-applications.yaml")
	fsys := fstest.MapFS{
		"products/a/loans.yaml":      {Data: []byte(loans)},
		"products/b/loans-copy.yaml": {Data: []byte(loans)},
		"products/tiny.yaml":         {Data: []byte(descriptorForTest)},
	}
	_, err := catalog.LoadFS(fsys, "products")
	want := `products/b/loans-copy.yaml: name: product "loan-applications" is also defined in products/a/loans.yaml; product names are unique`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
}

// Faults of every file are reported, not just the first file's.
func TestLoadReportsEveryFile(t *testing.T) {
	t.Parallel()
	loans := descriptor(t, "loan-applications.yaml")
	fsys := fstest.MapFS{
		"p/loans.yaml":          {Data: []byte(mutate(t, loans, "kind: DataContract", "kind: Contract"))},
		"p/tiny.yml":            {Data: []byte(strings.Replace(descriptorForTest, "logicalType: integer", "logicalType: int", 1))},
		"p/README.md":           {Data: []byte("not a descriptor")},
		"p/.hidden/broken.yaml": {Data: []byte(": : :")},
	}
	_, err := catalog.LoadFS(fsys, "p")
	want := `p/loans.yaml:2: kind: "Contract": expected DataContract` + "\n" +
		`p/tiny.yml:14: schema[0].properties[1].logicalType: "int" is not one of string, integer, number, boolean, date, timestamp`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lending"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lending/loans.yaml", descriptor(t, "loan-applications.yaml"))
	write("tiny.yaml", descriptorForTest)
	reg, err := catalog.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := reg.Get("loan-applications")
	if !ok || p.Source != filepath.Join(dir, "lending", "loans.yaml") {
		t.Fatalf("loan-applications from %q (found %v)", p.Source, ok)
	}
	write("tiny.yaml", strings.Replace(descriptorForTest, "kind: postgres", "kind: mongo", 1))
	_, err = catalog.LoadDir(dir)
	want := filepath.Join(dir, "tiny.yaml") + `:23: customProperties[0].value.backend.kind: "mongo" is not one of sqlite, postgres, mysql, rest, combined, audit`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	empty := t.TempDir()
	if _, err := catalog.LoadDir(empty); err == nil || !strings.Contains(err.Error(), "no descriptors (*.yaml) in "+empty) {
		t.Errorf("empty dir: error = %v", err)
	}
	if _, err := catalog.LoadDir(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: error = %v, want not exist", err)
	}
}

// FuzzParse: no descriptor, however mangled, panics the loader; every
// failure is reported as faults naming the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(descriptorForTest))
	for _, name := range []string{"loan-applications.yaml", "customer-transactions.yaml", "access-audit.yaml"} {
		f.Add([]byte(descriptor(f, name)))
	}
	f.Add([]byte("a: &x [*x]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := catalog.Parse("f.yaml", data)
		if err == nil {
			if p == nil || catalog.Validate(p) != nil {
				t.Fatalf("Parse accepted a product that does not validate: %v", catalog.Validate(p))
			}
			return
		}
		faults := catalog.Faults(err)
		if len(faults) == 0 {
			t.Fatalf("error %v carries no faults", err)
		}
		for _, f := range faults {
			if f.Source != "f.yaml" || f.Msg == "" {
				t.Fatalf("fault %+v lacks its file or message", f)
			}
		}
	})
}
