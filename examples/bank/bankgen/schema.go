package bankgen

// Column kinds: how a value is held in memory and stored by each backend.
//
//	kind        in memory          SQLite                      PostgreSQL
//	kText       string             TEXT                        text
//	kTimestamp  int64 Unix seconds TEXT SQLiteTimeLayout       timestamptz
//	kDate       int64 Unix seconds TEXT SQLiteDateLayout       date
//	kMoney      int64 cents        REAL (cents / 100)          numeric(12,2)
//	kMinutes    int64 hundredths   REAL (hundredths / 100)     numeric(8,2)
//	kInt        int64              INTEGER                     integer
//	kBool       bool               INTEGER 0/1                 boolean
//
// A nil value is NULL. Decimals are held as integers so that SQLite's REAL
// and PostgreSQL's numeric hold the same two-decimal value.
type kind int

const (
	kText kind = iota
	kTimestamp
	kDate
	kMoney
	kMinutes
	kInt
	kBool
)

type column struct {
	name     string
	kind     kind
	nullable bool
}

// table is one generated table. Its rows are produced on demand, in key
// order, from the dataset's compact records: row(i, dst) fills dst (one
// value per column) with row i of n.
type table struct {
	domain  string
	name    string
	cols    []column
	key     string
	indexes []string // single-column indexes, besides the key
	unique  []string // single-column unique indexes
	n       int
	row     func(i int, dst []any)
}

func (t *table) sqliteType(k kind) string {
	switch k {
	case kMoney, kMinutes:
		return "REAL"
	case kInt, kBool:
		return "INTEGER"
	}
	return "TEXT"
}

func (t *table) postgresType(k kind) string {
	switch k {
	case kTimestamp:
		return "timestamptz"
	case kDate:
		return "date"
	case kMoney:
		return "numeric(12,2)"
	case kMinutes:
		return "numeric(8,2)"
	case kInt:
		return "integer"
	case kBool:
		return "boolean"
	}
	return "text"
}

// Table layouts, exactly as the mesh document names them.
var (
	customersCols = []column{
		{"customer_id", kText, false},
		{"full_name", kText, false},
		{"email", kText, false},
		{"ssn", kText, false},
		{"date_of_birth", kDate, false},
		{"region", kText, false},
		{"segment", kText, false},
		{"joined_at", kDate, false},
		{"risk_rating", kText, false},
	}
	transactionsCols = []column{
		{"transaction_id", kText, false},
		{"account_id", kText, false},
		{"customer_id", kText, false},
		{"occurred_at", kTimestamp, false},
		{"type", kText, false},
		{"amount", kMoney, false},
		{"currency", kText, false},
		{"channel", kText, false},
		{"region", kText, false},
		{"counterparty", kText, true},
	}
	loansCols = []column{
		{"application_id", kText, false},
		{"customer_id", kText, false},
		{"loan_type", kText, false},
		{"amount", kMoney, false},
		{"status", kText, false},
		{"credit_score", kInt, false},
		{"applied_at", kTimestamp, false},
		{"decided_at", kTimestamp, true},
		{"region", kText, false},
	}
	campaignsCols = []column{
		{"campaign_id", kText, false},
		{"name", kText, false},
		{"channel", kText, false},
		{"start_date", kDate, false},
		{"end_date", kDate, false},
		{"budget", kMoney, false},
		{"impressions", kInt, false},
		{"clicks", kInt, false},
		{"conversions", kInt, false},
	}
	acquisitionsCols = []column{
		{"customer_id", kText, false},
		{"acquired_at", kTimestamp, false},
		{"campaign_id", kText, true},
		{"campaign_name", kText, true},
		{"channel", kText, false},
		{"region", kText, false},
		{"segment", kText, false},
	}
	interactionsCols = []column{
		{"interaction_id", kText, false},
		{"customer_id", kText, false},
		{"occurred_at", kTimestamp, false},
		{"channel", kText, false},
		{"topic", kText, false},
		{"sentiment", kText, false},
		{"resolved", kBool, false},
		{"handle_minutes", kMinutes, false},
	}
)

// tables lays the dataset out as the mesh's tables, grouped by domain in
// the order of Domains.
func (ds *dataset) tables() [][]*table {
	return [][]*table{
		{
			{domain: "retail-banking", name: "customers", cols: customersCols, key: "customer_id",
				indexes: []string{"joined_at"}, n: len(ds.customers), row: ds.customerRow},
			{domain: "retail-banking", name: "transactions", cols: transactionsCols, key: "transaction_id",
				indexes: []string{"occurred_at", "customer_id", "account_id"}, n: len(ds.txns), row: ds.transactionRow},
		},
		{
			{domain: "lending", name: "loan_applications", cols: loansCols, key: "application_id",
				indexes: []string{"applied_at", "customer_id"}, n: len(ds.loans), row: ds.loanRow},
		},
		{
			{domain: "marketing", name: "campaigns", cols: campaignsCols, key: "campaign_id",
				indexes: []string{"start_date"}, unique: []string{"name"}, n: len(ds.campaigns), row: ds.campaignRow},
		},
		{
			{domain: "growth", name: "acquisitions", cols: acquisitionsCols, key: "customer_id",
				indexes: []string{"acquired_at"}, n: len(ds.customers), row: ds.acquisitionRow},
		},
		{
			{domain: "customer-service", name: "interactions", cols: interactionsCols, key: "interaction_id",
				indexes: []string{"occurred_at", "customer_id"}, n: len(ds.interactions), row: ds.interactionRow},
		},
	}
}

// manifest describes the dataset.
func (ds *dataset) manifest(domains [][]*table) Manifest {
	m := Manifest{
		GeneratorVersion:  Version,
		Seed:              ds.opts.Seed,
		AsOf:              ds.opts.AsOf.Format(dateLayout),
		Scale:             ds.opts.Scale,
		From:              ds.startDay,
		Until:             ds.endTime,
		InjectedAnomalies: append([]string(nil), ds.anomalies...),
	}
	for _, ts := range domains {
		for _, t := range ts {
			m.Tables = append(m.Tables, TableRows{Domain: t.domain, Table: t.name, Rows: t.n})
		}
	}
	return m
}
