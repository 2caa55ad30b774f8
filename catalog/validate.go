package catalog

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Allowed values, in the order error messages list them.
var (
	logicalTypes   = []string{TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeDate, TypeTimestamp}
	classes        = []string{ClassPublic, ClassInternal, ClassConfidential, ClassPII, ClassRestricted}
	capabilities   = []string{CapRecords, CapMetrics, CapGet, CapAnomalies}
	backendKinds   = []string{BackendSQLite, BackendPostgres, BackendMySQL, BackendREST, BackendCombined, BackendAudit}
	grantActions   = []string{ActionRecords, ActionMetrics}
	seeable        = []string{ClassConfidential, ClassPII}
	maskKinds      = []string{"redact", "last4", "hash"}
	rowFilterOps   = []string{"=", "!=", "<", "<=", ">", ">=", "in"}
	productNameRE  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	identRE        = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	databaseNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	envNameRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	attributeRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
)

// maxIdent is PostgreSQL's identifier limit: longer names are truncated
// silently there, so two long names could become one.
const maxIdent = 63

// maxPrecision bounds decimal places of metric results.
const maxPrecision = 10

// codeExt is the extension's path prefix in faults about products built in
// code (there is no YAML to point into).
const codeExt = "askmesh"

// Resolve fills the fields a descriptor derives (KeyColumn, each metric's
// Expr and Columns) on a product built in code, then validates it as a
// descriptor would be. Parse does this for descriptors. Precision is kept
// as set: in code, 0 cannot be told apart from unset.
func Resolve(p *Product) error {
	if p == nil {
		return fmt.Errorf("catalog: nil product")
	}
	fl := newFaults(productSource(p))
	resolve(p, fl, codeExt, nil, true)
	return fl.err()
}

// Validate checks a resolved product without changing it: everything
// Parse checks that the Product model holds, plus that derived fields agree
// with what they derive from. NewRegistry validates every product.
func Validate(p *Product) error {
	if p == nil {
		return fmt.Errorf("catalog: nil product")
	}
	fl := newFaults(productSource(p))
	resolve(p, fl, codeExt, nil, false)
	return fl.err()
}

func productSource(p *Product) string {
	if p.Source != "" {
		return p.Source
	}
	if p.Name != "" {
		return "product " + p.Name
	}
	return "(unnamed product)"
}

func colPath(i int) string { return fmt.Sprintf("schema[0].properties[%d]", i) }

func oneOf(list []string) string { return strings.Join(list, ", ") }

func checkIdent(fl *faults, path, s string) bool {
	switch {
	case !identRE.MatchString(s):
		fl.add(path, "%q is not a valid identifier: use lowercase letters, digits and _, starting with a letter or _ (it becomes an SQL identifier)", s)
		return false
	case len(s) > maxIdent:
		fl.add(path, "%q is longer than %d characters", s, maxIdent)
		return false
	}
	return true
}

// resolver carries one product's validation.
type resolver struct {
	p    *Product
	fl   *faults
	ext  string
	cols map[string]int // valid column name -> index
}

// resolve validates p and, when fill is set, derives KeyColumn, metric
// expressions, metric columns and default precisions. ext is the path of
// the askmesh extension; precisionGiven says which metrics set precision
// (nil: all did).
func resolve(p *Product, fl *faults, ext string, precisionGiven []bool, fill bool) {
	r := &resolver{p: p, fl: fl, ext: ext, cols: map[string]int{}}
	if p.Name == "" {
		fl.add("name", "is required")
	} else if !productNameRE.MatchString(p.Name) || len(p.Name) > maxIdent {
		fl.add("name", "%q is not a valid product name: lowercase letters, digits and -, starting with a letter, at most %d characters", p.Name, maxIdent)
	}
	r.columns(fill)
	if ext == "" {
		// No askmesh extension: already reported; what it declares is absent.
		return
	}
	r.binding()
	r.timeColumn()
	r.capabilities()
	for i, d := range p.Dimensions {
		path := idx(dot(ext, "dimensions"), i)
		r.ref(path, d, "a dimension")
		if indexOf(p.Dimensions[:i], d) >= 0 {
			fl.add(path, "%q is listed twice", d)
		}
	}
	r.metrics(precisionGiven, fill)
	metricNames := p.MetricNames()
	for i, h := range p.HeadlineMetrics {
		path := idx(dot(ext, "headlineMetrics"), i)
		switch {
		case indexOf(metricNames, h) < 0:
			fl.add(path, "%s", unknownMsg("metric", h, metricNames))
		case indexOf(p.HeadlineMetrics[:i], h) >= 0:
			fl.add(path, "%q is listed twice", h)
		}
	}
	r.anomalies()
	r.units()
	for i := range p.Access {
		r.grant(idx(dot(ext, "access"), i), &p.Access[i])
	}
	r.verified(fill)
}

func unknownMsg(what, name string, known []string) string {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if s, ok := Closest(name, known); ok {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	if len(known) > 0 && len(known) <= 12 {
		return msg + "; " + what + "s are " + oneOf(known)
	}
	return msg
}

func (r *resolver) columns(fill bool) {
	p, fl := r.p, r.fl
	if len(p.Columns) == 0 {
		fl.add("schema[0].properties", "no columns: a product has at least one")
		return
	}
	var keys []int
	for i, c := range p.Columns {
		path := colPath(i)
		if c.Name == "" {
			fl.add(dot(path, "name"), "is required")
		} else if checkIdent(fl, dot(path, "name"), c.Name) {
			if j, dup := r.cols[c.Name]; dup {
				fl.add(dot(path, "name"), "column %q is already defined at %s", c.Name, colPath(j))
			} else {
				r.cols[c.Name] = i
			}
		}
		switch {
		case c.Type == "":
			fl.add(dot(path, "logicalType"), "is required")
		case indexOf(logicalTypes, c.Type) < 0:
			fl.add(dot(path, "logicalType"), "%q is not one of %s", c.Type, oneOf(logicalTypes))
		}
		switch {
		case c.Classification == "":
			fl.add(dot(path, "classification"), "is required: every column is classified (%s)", oneOf(classes))
		case indexOf(classes, c.Classification) < 0:
			fl.add(dot(path, "classification"), "%q is not one of %s", c.Classification, oneOf(classes))
		}
		if c.PrimaryKey {
			keys = append(keys, i)
		}
	}
	switch {
	case len(keys) == 0:
		fl.add("schema[0].properties", "no column has primaryKey: true; exactly one must (records are looked up by it)")
	case len(keys) > 1:
		for _, k := range keys[1:] {
			fl.add(dot(colPath(k), "primaryKey"), "a second primary key: %s is already the key, and askmesh supports single-column keys", p.Columns[keys[0]].Name)
		}
	}
	if len(keys) == 0 {
		return
	}
	key := p.Columns[keys[0]]
	if key.Classification == ClassRestricted {
		fl.add(dot(colPath(keys[0]), "classification"), "the primary key %s cannot be restricted: every record lookup would reveal it", key.Name)
	}
	switch {
	case fill:
		p.KeyColumn = key.Name
	case p.KeyColumn != key.Name:
		fl.add("KeyColumn", "is %q but the primary key column is %q", p.KeyColumn, key.Name)
	}
}

// ref checks a reference to a column and returns it.
func (r *resolver) ref(path, name, use string) (Column, bool) {
	if name == "" {
		r.fl.add(path, "is required")
		return Column{}, false
	}
	i, ok := r.cols[name]
	if !ok {
		r.fl.add(path, "%s", unknownMsg("column", name, r.p.ColumnNames()))
		return Column{}, false
	}
	c := r.p.Columns[i]
	if c.Classification == ClassRestricted {
		r.fl.add(path, "%s is restricted and cannot be %s: restricted columns are never used through askmesh", name, use)
		return Column{}, false
	}
	// A column of unknown type is already reported; checking uses of it
	// against its type would only add noise.
	return c, indexOf(logicalTypes, c.Type) >= 0
}

func (r *resolver) timeColumn() {
	if r.p.TimeColumn == "" {
		return
	}
	path := dot(r.ext, "timeColumn")
	c, ok := r.ref(path, r.p.TimeColumn, "the time column")
	if ok && c.Type != TypeDate && c.Type != TypeTimestamp {
		r.fl.add(path, "%s is a %s column; the time column must be a date or timestamp", c.Name, c.Type)
	}
}

func (r *resolver) capabilities() {
	p, fl := r.p, r.fl
	path := dot(r.ext, "capabilities")
	for i, c := range p.Capabilities {
		switch {
		case indexOf(capabilities, c) < 0:
			fl.add(idx(path, i), "%q is not one of %s", c, oneOf(capabilities))
		case indexOf(p.Capabilities[:i], c) >= 0:
			fl.add(idx(path, i), "%q is listed twice", c)
		}
	}
	switch {
	case p.Has(CapAnomalies) && p.Anomalies == nil:
		fl.add(path, "anomalies is declared but there is no anomalies section (column, groupBy, stdDevs)")
	case p.Anomalies != nil && !p.Has(CapAnomalies):
		fl.add(dot(r.ext, "anomalies"), "is set but capabilities lacks anomalies; add it there or remove this section")
	}
	if p.Has(CapMetrics) && len(p.Metrics) == 0 {
		fl.add(path, "metrics is declared but the product declares no metrics")
	}
}

func (r *resolver) metrics(precisionGiven []bool, fill bool) {
	p, fl := r.p, r.fl
	seen := map[string]int{}
	for j := range p.Metrics {
		m := &p.Metrics[j]
		mp := idx(dot(r.ext, "metrics"), j)
		switch {
		case m.Name == "":
			fl.add(dot(mp, "name"), "is required")
		case !checkIdent(fl, dot(mp, "name"), m.Name):
		case seen[m.Name] > 0:
			fl.add(dot(mp, "name"), "metric %q is already defined at metrics[%d]", m.Name, seen[m.Name]-1)
		default:
			seen[m.Name] = j + 1
			if _, isCol := r.cols[m.Name]; isCol {
				fl.add(dot(mp, "name"), "%q is also a column name; results would have two columns of that name", m.Name)
			}
		}
		if m.Precision < 0 || m.Precision > maxPrecision {
			fl.add(dot(mp, "precision"), "%d is out of range 0-%d", m.Precision, maxPrecision)
		}
		ep := dot(mp, "expression")
		if p.Binding.Kind == BackendCombined || m.Combine != nil {
			// The sides are checked against their products when the
			// registry holds them all (CheckCombined).
			switch {
			case p.Binding.Kind != BackendCombined:
				fl.add(dot(mp, "combine"), "only products with backend kind %s combine metrics of other products", BackendCombined)
			case m.Combine == nil:
				fl.add(dot(mp, "combine"), "is required on a %s product: product.metric / product.metric", BackendCombined)
			case m.Expression != "":
				fl.add(ep, "a combined metric has combine, not an expression")
			}
			continue
		}
		if m.Expression == "" {
			fl.add(ep, "is required")
			continue
		}
		e, err := ParseExpr(m.Expression)
		if err != nil {
			fl.add(ep, "%v", err)
			continue
		}
		if problems := r.checkExpr(e); len(problems) > 0 {
			fl.add(ep, "%s", strings.Join(problems, "; "))
			continue
		}
		cols := ExprColumns(e)
		if fill {
			m.Expr = e
			m.Columns = cols
			if j < len(precisionGiven) && !precisionGiven[j] {
				m.Precision = 2
				if r.isInteger(e) {
					m.Precision = 0
				}
			}
			continue
		}
		switch {
		case m.Expr == nil:
			fl.add(ep, "is not resolved (Expr is nil); build products with Parse, or call Resolve")
		case m.Expr.String() != e.String():
			fl.add(ep, "Expr %q does not match the expression %q", m.Expr.String(), e.String())
		case strings.Join(m.Columns, ",") != strings.Join(cols, ","):
			fl.add(dot(mp, "columns"), "are %v but the expression reads %v", m.Columns, cols)
		}
	}
}

func isNumeric(t string) bool { return t == TypeInteger || t == TypeNumber }

// checkExpr checks an expression's columns and literals against the
// product, returning every problem found.
func (r *resolver) checkExpr(e Expr) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	column := func(name string) (Column, bool) {
		i, ok := r.cols[name]
		if !ok {
			bad("%s", unknownMsg("column", name, r.p.ColumnNames()))
			return Column{}, false
		}
		c := r.p.Columns[i]
		if c.Classification == ClassRestricted {
			bad("%s is restricted and cannot be used in a metric", name)
			return Column{}, false
		}
		return c, indexOf(logicalTypes, c.Type) >= 0
	}
	walkExpr(e, func(a *Agg) {
		if a.Column == "" {
			return
		}
		c, ok := column(a.Column)
		if !ok {
			return
		}
		switch a.Func {
		case AggSum, AggAvg, AggMin, AggMax:
			if !isNumeric(c.Type) {
				bad("%s(%s): %s is a %s column; %s needs an integer or number column", a.Func, c.Name, c.Name, c.Type, a.Func)
			}
		}
	}, func(cond Cond) {
		switch cond := cond.(type) {
		case *BoolColumn:
			if c, ok := column(cond.Column); ok && c.Type != TypeBoolean {
				bad("%s is a %s column, not a condition; compare it, e.g. %s = ...", c.Name, c.Type, c.Name)
			}
		case *Compare:
			c, ok := column(cond.Column)
			if !ok {
				return
			}
			if c.Type == TypeBoolean && cond.Op != "=" && cond.Op != "!=" {
				bad("%s: %s is a boolean column; compare it with = or !=", cond, c.Name)
				return
			}
			if msg := literalFault(c, cond.Op, cond.Value); msg != "" {
				bad("%s: %s", cond, msg)
			}
		case *InList:
			c, ok := column(cond.Column)
			if !ok {
				return
			}
			for _, v := range cond.Values {
				if msg := literalFault(c, "=", v); msg != "" {
					bad("%s: %s", cond, msg)
				}
			}
		}
	})
	return problems
}

// literalFault says what is wrong with comparing column c to v, or "".
// Values of categorical columns must be known values: a typo in a metric or
// a row filter would otherwise silently match nothing.
func literalFault(c Column, op string, v any) string {
	switch c.Type {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("%s is a string column; compare it with a quoted string, not %s", c.Name, formatLiteral(v))
		}
		if len(c.Values) > 0 && (op == "=" || op == "!=" || op == "in") && indexOf(c.Values, s) < 0 {
			msg := fmt.Sprintf("%s is not a value of %s", formatLiteral(s), c.Name)
			if near, ok := Closest(s, c.Values); ok {
				return msg + fmt.Sprintf(" (did you mean %s?)", formatLiteral(near))
			}
			return msg + " (" + oneOf(c.Values) + ")"
		}
	case TypeInteger:
		if _, ok := v.(int64); !ok {
			return fmt.Sprintf("%s is an integer column; %s is not a whole number", c.Name, formatLiteral(v))
		}
	case TypeNumber:
		switch v.(type) {
		case int64, float64:
		default:
			return fmt.Sprintf("%s is a number column; %s is not a number", c.Name, formatLiteral(v))
		}
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("%s is a boolean column; compare it with true or false, not %s", c.Name, formatLiteral(v))
		}
	case TypeDate, TypeTimestamp:
		s, ok := v.(string)
		if ok {
			if _, err := time.Parse(time.DateOnly, s); err == nil {
				return ""
			}
			if _, err := time.Parse(time.RFC3339, s); err == nil && c.Type == TypeTimestamp {
				return ""
			}
		}
		if c.Type == TypeDate {
			return fmt.Sprintf("%s is a date column; compare it with 'YYYY-MM-DD', not %s", c.Name, formatLiteral(v))
		}
		return fmt.Sprintf("%s is a timestamp column; compare it with 'YYYY-MM-DD' or an RFC 3339 time, not %s", c.Name, formatLiteral(v))
	}
	return ""
}

// isInteger reports whether an expression always yields whole numbers
// (counts, sums of integer columns), which round to 0 places by default.
func (r *resolver) isInteger(e Expr) bool {
	switch e := e.(type) {
	case *Agg:
		switch e.Func {
		case AggCount, AggCountDistinct, AggCountIf:
			return true
		case AggSum, AggMin, AggMax:
			c, _ := r.p.Column(e.Column)
			return c.Type == TypeInteger
		}
		return false
	case *Number:
		return e.Value == math.Trunc(e.Value)
	case *Binary:
		return e.Op != "/" && r.isInteger(e.Left) && r.isInteger(e.Right)
	}
	return false
}

func (r *resolver) anomalies() {
	a := r.p.Anomalies
	if a == nil {
		return
	}
	path := dot(r.ext, "anomalies")
	if c, ok := r.ref(dot(path, "column"), a.Column, "checked for anomalies"); ok && !isNumeric(c.Type) {
		r.fl.add(dot(path, "column"), "%s is a %s column; anomalies are found in integer or number columns", c.Name, c.Type)
	}
	r.ref(dot(path, "groupBy"), a.GroupBy, "grouped by")
	if !(a.StdDevs > 0) || math.IsInf(a.StdDevs, 0) {
		r.fl.add(dot(path, "stdDevs"), "must be a positive number of standard deviations, e.g. 3")
	}
	if r.p.TimeColumn == "" {
		r.fl.add(path, "needs a timeColumn: anomalies are searched over a time range")
	}
}

// units checks unit declarations: a numeric amount column, declared once,
// whose unit is in a text column the metrics can be broken down by.
func (r *resolver) units() {
	for i, u := range r.p.Units {
		path := idx(dot(r.ext, "units"), i)
		if c, ok := r.ref(dot(path, "column"), u.Column, "given a unit"); ok && !isNumeric(c.Type) {
			r.fl.add(dot(path, "column"), "%s is a %s column; only integer or number columns have a unit", c.Name, c.Type)
		}
		if c, ok := r.ref(dot(path, "unitColumn"), u.UnitColumn, "a unit column"); ok {
			switch {
			case c.Type != TypeString:
				r.fl.add(dot(path, "unitColumn"), "%s is a %s column; a unit column holds unit names or currency codes (string)", c.Name, c.Type)
			case c.Name == u.Column:
				r.fl.add(dot(path, "unitColumn"), "is the amount column itself; name the column that holds each row's unit")
			case !r.p.IsDimension(c.Name):
				r.fl.add(dot(path, "unitColumn"), "%s must also be listed in dimensions: metrics over %s are broken down by it", c.Name, u.Column)
			}
		}
		if u.Kind != UnitKindCurrency && u.Kind != UnitKindUnit {
			r.fl.add(dot(path, "kind"), "%q is not one of %s, %s", u.Kind, UnitKindCurrency, UnitKindUnit)
		}
		for j, prev := range r.p.Units[:i] {
			if prev.Column == u.Column && u.Column != "" {
				r.fl.add(dot(path, "column"), "%s already has a unit, declared in units[%d]", u.Column, j)
			}
		}
	}
}

func (r *resolver) grant(gp string, g *Grant) {
	fl := r.fl
	if len(g.Groups) == 0 {
		fl.add(dot(gp, "groups"), "is empty: name at least one directory group")
	}
	for i, grp := range g.Groups {
		if strings.TrimSpace(grp) == "" || strings.ContainsAny(grp, " \t\n") {
			fl.add(idx(dot(gp, "groups"), i), "%q is not a group name", grp)
		}
	}
	if len(g.Actions) == 0 {
		fl.add(dot(gp, "actions"), "is empty: list records, metrics or both")
	}
	for i, a := range g.Actions {
		switch {
		case indexOf(grantActions, a) < 0:
			fl.add(idx(dot(gp, "actions"), i), "%q is not one of %s", a, oneOf(grantActions))
		case indexOf(g.Actions[:i], a) >= 0:
			fl.add(idx(dot(gp, "actions"), i), "%q is listed twice", a)
		}
	}
	for i, s := range g.See {
		path := idx(dot(gp, "see"), i)
		switch {
		case s == ClassRestricted:
			fl.add(path, "restricted can never be granted: restricted columns are never returned through askmesh")
		case s == ClassPublic || s == ClassInternal:
			fl.add(path, "%s columns are always visible; see lists %s", s, oneOf(seeable))
		case indexOf(seeable, s) < 0:
			fl.add(path, "%q is not one of %s", s, oneOf(seeable))
		}
	}
	keys := make([]string, 0, len(g.Mask))
	for k := range g.Mask {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := dot(dot(gp, "mask"), k)
		switch {
		case k == ClassRestricted:
			fl.add(path, "restricted columns are never returned, not even masked")
		case k == ClassPublic || k == ClassInternal:
			fl.add(path, "%s columns are always visible; mask lists %s or a column name", k, oneOf(seeable))
		case indexOf(seeable, k) >= 0:
			if indexOf(g.See, k) >= 0 {
				fl.add(path, "%s is both in see and in mask; choose one", k)
			}
		default:
			if _, ok := r.cols[k]; !ok {
				fl.add(path, "%q is neither a classification (%s) nor a column%s", k, oneOf(seeable), suggest(k, r.p.ColumnNames()))
			} else {
				r.ref(path, k, "masked")
			}
		}
		if kind := g.Mask[k]; indexOf(maskKinds, kind) < 0 {
			fl.add(path, "%q is not one of %s", kind, oneOf(maskKinds))
		}
	}
	for i, rf := range g.RowFilters {
		r.rowFilter(idx(dot(gp, "rowFilters"), i), rf)
	}
}

func suggest(name string, known []string) string {
	if s, ok := Closest(name, known); ok {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

func (r *resolver) rowFilter(path string, rf GrantRowFilter) {
	fl := r.fl
	c, colOK := r.ref(dot(path, "column"), rf.Column, "used in a row filter")
	switch {
	case rf.Op == "":
		fl.add(dot(path, "op"), "is required (%s)", oneOf(rowFilterOps))
		return
	case indexOf(rowFilterOps, rf.Op) < 0:
		fl.add(dot(path, "op"), "%q is not one of %s", rf.Op, oneOf(rowFilterOps))
		return
	}
	hasValue := rf.Value != nil
	switch {
	case hasValue && rf.SubjectAttribute != "":
		fl.add(path, "set value or subjectAttribute, not both")
		return
	case !hasValue && rf.SubjectAttribute == "":
		fl.add(path, "needs a value or a subjectAttribute (the asker's directory attribute)")
		return
	case rf.SubjectAttribute != "":
		if !attributeRE.MatchString(rf.SubjectAttribute) {
			fl.add(dot(path, "subjectAttribute"), "%q is not an attribute name", rf.SubjectAttribute)
		}
		if rf.Op == "in" {
			fl.add(dot(path, "op"), "in needs a list value; a subject attribute is a single value, use =")
		}
		return
	}
	vp := dot(path, "value")
	list, isList := rf.Value.([]any)
	switch {
	case rf.Op == "in" && !isList:
		fl.add(vp, "in needs a list of values, e.g. [europe, asia-pacific]")
		return
	case rf.Op == "in" && len(list) == 0:
		fl.add(vp, "is an empty list: the grantees would see no rows; remove the grant instead")
		return
	case rf.Op != "in" && isList:
		fl.add(vp, "a list needs op in")
		return
	}
	if !colOK {
		return
	}
	if !isList {
		list = []any{rf.Value}
	}
	op := rf.Op
	if op == "in" {
		op = "="
	}
	if c.Type == TypeBoolean && op != "=" && op != "!=" {
		fl.add(dot(path, "op"), "%s is a boolean column; use = or !=", c.Name)
		return
	}
	for i, v := range list {
		p := vp
		if isList {
			p = idx(vp, i)
		}
		if msg := literalFault(c, op, v); msg != "" {
			fl.add(p, "%s", msg)
		}
	}
}

func (r *resolver) binding() {
	b, fl := r.p.Binding, r.fl
	bp := dot(r.ext, "backend")
	need := func(field, value string) {
		if value == "" {
			fl.add(dot(bp, field), "is required when kind is %s", b.Kind)
		}
	}
	switch b.Kind {
	case "":
		fl.add(dot(bp, "kind"), "is required (%s)", oneOf(backendKinds))
	case BackendSQLite:
		need("database", b.Database)
		need("table", b.Table)
	case BackendPostgres:
		need("schema", b.Schema)
		need("table", b.Table)
	case BackendMySQL:
		need("table", b.Table)
	case BackendCombined:
		if len(r.p.Join) == 0 {
			fl.add(dot(bp, "join"), "is required when kind is combined: each conformed dimension and the column that holds it in each product")
		}
		for dim := range r.p.Join {
			if _, ok := r.p.Column(dim); !ok {
				fl.add(dot(dot(bp, "join"), dim), "%q is not a column of the product; conformed dimensions are its columns", dim)
			}
		}
	case BackendREST:
		need("url", b.URL)
	case BackendAudit:
		need("table", b.Table)
	default:
		fl.add(dot(bp, "kind"), "%q is not one of %s", b.Kind, oneOf(backendKinds))
	}
	if b.Database != "" && (!databaseNameRE.MatchString(b.Database) || len(b.Database) > maxIdent) {
		fl.add(dot(bp, "database"), "%q is not a valid database name: lowercase letters, digits, _ and - (it names a file or database)", b.Database)
	}
	if b.Schema != "" {
		checkIdent(fl, dot(bp, "schema"), b.Schema)
	}
	if b.Table != "" {
		checkIdent(fl, dot(bp, "table"), b.Table)
	}
	if b.DSNEnv != "" && !envNameRE.MatchString(b.DSNEnv) {
		fl.add(dot(bp, "dsnEnv"), "%q is not an environment variable name", b.DSNEnv)
	}
	if b.TokenEnv != "" && !envNameRE.MatchString(b.TokenEnv) {
		fl.add(dot(bp, "tokenEnv"), "%q is not an environment variable name", b.TokenEnv)
	}
	if b.URL != "" {
		u, err := url.Parse(b.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			fl.add(dot(bp, "url"), "%q is not an absolute http or https URL", b.URL)
		case u.User != nil:
			fl.add(dot(bp, "url"), "must not contain credentials; name the environment variable holding a token with tokenEnv")
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
