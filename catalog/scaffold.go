package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// TableInfo is a live table as a database describes it, for Scaffold.
type TableInfo struct {
	Schema  string
	Name    string
	Columns []ColumnInfo
}

// ColumnInfo is one column of a TableInfo.
type ColumnInfo struct {
	Name       string
	DBType     string // the database's own type name, e.g. "timestamp with time zone", "decimal(12,2)"
	Nullable   bool
	PrimaryKey bool
}

// Column name patterns that suggest a classification. They are hints for a
// person to confirm, never a decision: Scaffold marks each for review.
var (
	restrictedName = regexp.MustCompile(`(^|_)(ssn|social_security(_number)?|tax_id|national_id|passport(_number)?|password|secret)($|_)`)
	piiName        = regexp.MustCompile(`(^|_)(e_?mail|phone|mobile|full_name|first_name|last_name|surname|given_name|family_name|address|street|postcode|zip_code|date_of_birth|dob|birth_?date|ip_address)($|_)`)
	confidName     = regexp.MustCompile(`(^|_)(account_(id|number)|iban|card_number|credit_score|salary|income|counterparty)($|_)`)
	personTable    = regexp.MustCompile(`(^|_)(customers?|users?|people|persons?|employees?|contacts?|members?|clients?)$`)
	timeName       = regexp.MustCompile(`(_at|_on|_date|_time|^date|^created|^occurred|^updated)$`)
)

// GuessClassification suggests a classification for a column by its name
// (and, for a bare "name", its table) and says why; "" when the name
// suggests nothing beyond internal.
func GuessClassification(table, column string) (class, why string) {
	c := strings.ToLower(column)
	switch {
	case restrictedName.MatchString(c):
		return ClassRestricted, "named like a national identifier or secret"
	case piiName.MatchString(c):
		return ClassPII, "named like personal data (email, phone, name, address, birth date)"
	case (c == "name" || strings.HasSuffix(c, "_name")) && personTable.MatchString(strings.ToLower(table)):
		return ClassPII, "a name in a table of people"
	case confidName.MatchString(c):
		return ClassConfidential, "named like an account, card or financial detail"
	}
	return "", ""
}

// LogicalType maps a database type name to a catalog logical type.
func LogicalType(dbType string) string {
	t := strings.ToLower(strings.TrimSpace(dbType))
	switch {
	case t == "tinyint(1)" || strings.HasPrefix(t, "bool"):
		return TypeBoolean
	case strings.HasPrefix(t, "timestamp") || strings.HasPrefix(t, "datetime"):
		return TypeTimestamp
	case t == "date":
		return TypeDate
	case strings.Contains(t, "int") && !strings.Contains(t, "interval") && !strings.Contains(t, "point"):
		return TypeInteger
	case strings.HasPrefix(t, "numeric") || strings.HasPrefix(t, "decimal") || strings.HasPrefix(t, "double") ||
		strings.HasPrefix(t, "real") || strings.HasPrefix(t, "float") || t == "money":
		return TypeNumber
	}
	return TypeString
}

// Scaffold drafts a product from a live table: columns with their types,
// the primary key, a guessed time column, guessed classifications marked
// for review (the returned map, column -> note, for Encode), a row count
// metric and sums of decimal columns, and no grants: nobody may query it
// until someone writes them. binding says where the table lives.
func Scaffold(t TableInfo, domain string, binding Binding) (*Product, map[string]string) {
	p := &Product{Name: ProductName(t.Name), Domain: domain, Status: "draft", Version: "0.1.0",
		Purpose: fmt.Sprintf("Scaffolded from the table %s.%s; describe what it holds and who uses it.", t.Schema, t.Name),
		Binding: binding, Capabilities: []string{CapRecords, CapMetrics, CapGet}}
	p.Binding.Table = t.Name
	review := map[string]string{}
	var keys []string
	for _, ci := range t.Columns {
		c := Column{Name: strings.ToLower(ci.Name), Type: LogicalType(ci.DBType), Nullable: ci.Nullable, PrimaryKey: ci.PrimaryKey,
			Classification: ClassInternal}
		if class, why := GuessClassification(t.Name, c.Name); class != "" {
			c.Classification = class
			review[c.Name] = "classification " + class + " guessed: " + why + "; confirm it"
		}
		if c.PrimaryKey {
			keys = append(keys, c.Name)
		}
		p.Columns = append(p.Columns, c)
	}
	// Exactly one key: a composite or missing key gets the likeliest
	// single column, marked for review.
	if len(keys) != 1 {
		guess := ""
		for _, c := range p.Columns {
			if c.Name == "id" || (guess == "" && strings.HasSuffix(c.Name, "_id")) {
				guess = c.Name
			}
		}
		if guess == "" && len(p.Columns) > 0 {
			guess = p.Columns[0].Name
		}
		for i := range p.Columns {
			p.Columns[i].PrimaryKey = p.Columns[i].Name == guess
		}
		if guess != "" {
			review[guess] = strings.TrimPrefix(review[guess]+"; ", "; ") + fmt.Sprintf("key guessed (the table's primary key is %v); get_record looks records up by it", keys)
		}
	}
	for _, c := range p.Columns {
		if c.PrimaryKey {
			p.KeyColumn = c.Name
		}
	}
	// The time column: a timestamp named like one, else any timestamp, else
	// a date.
	for _, pass := range []func(Column) bool{
		func(c Column) bool { return c.Type == TypeTimestamp && timeName.MatchString(c.Name) },
		func(c Column) bool { return c.Type == TypeTimestamp },
		func(c Column) bool { return c.Type == TypeDate && timeName.MatchString(c.Name) },
		func(c Column) bool { return c.Type == TypeDate },
	} {
		for _, c := range p.Columns {
			if p.TimeColumn == "" && pass(c) {
				p.TimeColumn = c.Name
			}
		}
	}
	countName := strings.ReplaceAll(p.Name, "-", "_") + "_count"
	p.Metrics = append(p.Metrics, Metric{Name: countName, Expression: "count(*)", Description: "Number of rows.", Unit: "count"})
	p.HeadlineMetrics = []string{countName}
	for _, c := range p.Columns {
		switch {
		case c.Type == TypeNumber && !c.PrimaryKey && c.Classification == ClassInternal:
			p.Metrics = append(p.Metrics, Metric{Name: "total_" + c.Name, Expression: "sum(" + c.Name + ")", Description: "Sum of " + c.Name + "."})
		case (c.Type == TypeString || c.Type == TypeBoolean) && !c.PrimaryKey && c.Classification == ClassInternal:
			p.Dimensions = append(p.Dimensions, c.Name)
		}
	}
	slices.Sort(p.Dimensions)
	return p, review
}
