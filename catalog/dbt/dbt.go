// Package dbt imports a dbt project's MetricFlow semantic manifest
// (target/semantic_manifest.json) as askmesh product descriptors: one
// product per semantic model, its entities, dimensions and measure columns
// as columns, and the project's simple, ratio and derived metrics as metric
// expressions over them. What askmesh cannot express faithfully (cumulative
// and conversion metrics, percentiles, SQL expressions, metrics spanning
// models) is reported, never approximated.
package dbt

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/askmesh/askmesh/catalog"
)

// The manifest's shape (dbt-semantic-interfaces), the fields askmesh reads.
type (
	Manifest struct {
		SemanticModels []SemanticModel `json:"semantic_models"`
		Metrics        []Metric        `json:"metrics"`
	}
	SemanticModel struct {
		Name         string       `json:"name"`
		Description  string       `json:"description"`
		NodeRelation NodeRelation `json:"node_relation"`
		Defaults     *struct {
			AggTimeDimension string `json:"agg_time_dimension"`
		} `json:"defaults"`
		Entities   []Element `json:"entities"`
		Dimensions []Element `json:"dimensions"`
		Measures   []Measure `json:"measures"`
		Config     *struct {
			Meta map[string]any `json:"meta"`
		} `json:"config"`
	}
	NodeRelation struct {
		Alias        string `json:"alias"`
		SchemaName   string `json:"schema_name"`
		Database     string `json:"database"`
		RelationName string `json:"relation_name"`
	}
	// Element is an entity or a dimension.
	Element struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Type        string `json:"type"` // entities: primary, unique, foreign, natural; dimensions: categorical, time
		Expr        string `json:"expr"`
		TypeParams  *struct {
			TimeGranularity string `json:"time_granularity"`
		} `json:"type_params"`
	}
	Measure struct {
		Name         string `json:"name"`
		Description  string `json:"description"`
		Agg          string `json:"agg"`
		Expr         string `json:"expr"`
		CreateMetric bool   `json:"create_metric"`
	}
	Metric struct {
		Name        string       `json:"name"`
		Description string       `json:"description"`
		Label       string       `json:"label"`
		Type        string       `json:"type"` // simple, ratio, derived, cumulative, conversion
		TypeParams  TypeParams   `json:"type_params"`
		Filter      *WhereFilter `json:"filter"`
	}
	TypeParams struct {
		Measure     *MetricInput  `json:"measure"`
		Numerator   *MetricInput  `json:"numerator"`
		Denominator *MetricInput  `json:"denominator"`
		Expr        string        `json:"expr"`
		Metrics     []MetricInput `json:"metrics"`
	}
	MetricInput struct {
		Name         string       `json:"name"`
		Alias        string       `json:"alias"`
		Filter       *WhereFilter `json:"filter"`
		OffsetWindow any          `json:"offset_window"`
	}
	WhereFilter struct {
		WhereFilters []struct {
			WhereSQLTemplate string `json:"where_sql_template"`
		} `json:"where_filters"`
	}
)

// Options say where imported products live and whose they are.
type Options struct {
	// Binding is the warehouse connection's binding (kind, schema, dsnEnv
	// or database); each product gets it with its model's table, and the
	// model's schema when the connection names none.
	Binding catalog.Binding
	// Domain of every product, unless a model's meta names one (default
	// "analytics").
	Domain string
}

// Import reads a semantic manifest and returns one product per semantic
// model, the columns a person must review per product (for catalog.Encode),
// and what could not be imported, in words.
func Import(data []byte, opts Options) ([]*catalog.Product, map[string]map[string]string, []string, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, nil, fmt.Errorf("semantic manifest: %w", err)
	}
	if len(m.SemanticModels) == 0 {
		return nil, nil, nil, fmt.Errorf("semantic manifest: no semantic_models (is this target/semantic_manifest.json?)")
	}
	if opts.Domain == "" {
		opts.Domain = "analytics"
	}
	im := &importer{opts: opts, measures: map[string]measureRef{}, metrics: map[string]Metric{}, resolved: map[string]resolved{}}
	var products []*catalog.Product
	reviews := map[string]map[string]string{}
	for i := range m.SemanticModels {
		p, review := im.model(&m.SemanticModels[i])
		if p != nil {
			products = append(products, p)
			reviews[p.Name] = review
		}
	}
	for _, mt := range m.Metrics {
		im.metrics[mt.Name] = mt
	}
	names := make([]string, 0, len(im.metrics))
	for name := range im.metrics {
		names = append(names, name) // the manifest's metrics and measures with create_metric
	}
	sort.Strings(names)
	byName := map[string]*catalog.Product{}
	for _, p := range products {
		byName[p.Name] = p
	}
	for _, name := range names {
		r, err := im.resolve(name, 0)
		if err != nil {
			im.skip("metric %s: %v", name, err)
			continue
		}
		mt := im.metrics[name]
		p := byName[r.product]
		if _, dup := p.Metric(name); dup {
			continue
		}
		desc := strings.TrimSpace(mt.Description)
		if desc == "" {
			desc = mt.Label
		}
		cm := catalog.Metric{Name: name, Expression: r.expr, Description: desc, Unit: r.unit}
		if mt.Label != "" && !strings.EqualFold(mt.Label, name) {
			cm.Synonyms = []string{strings.ToLower(mt.Label)}
		}
		p.Metrics = append(p.Metrics, cm)
	}
	for _, p := range products {
		if len(p.Metrics) == 0 {
			p.Capabilities = slices.DeleteFunc(p.Capabilities, func(c string) bool { return c == catalog.CapMetrics })
		}
		for _, mm := range p.Metrics {
			p.HeadlineMetrics = append(p.HeadlineMetrics, mm.Name)
			if len(p.HeadlineMetrics) == 2 {
				break
			}
		}
	}
	return products, reviews, im.skipped, nil
}

type measureRef struct {
	product string
	agg     string
	column  string // "" for count(*)
}

type resolved struct {
	product string
	expr    string
	unit    string
}

type importer struct {
	opts     Options
	measures map[string]measureRef
	metrics  map[string]Metric
	resolved map[string]resolved
	// columns of each product: dimension name -> column
	dims    map[string]map[string]string
	skipped []string
}

func (im *importer) skip(format string, a ...any) {
	im.skipped = append(im.skipped, fmt.Sprintf(format, a...))
}

var ident = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// column is the column an element or measure reads: its expr when that is
// a plain column name, else its name when it has no expr.
func column(name, expr string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(expr))
	if e == "" {
		e = strings.ToLower(name)
	}
	return e, ident.MatchString(e)
}

func (im *importer) model(sm *SemanticModel) (*catalog.Product, map[string]string) {
	if sm.NodeRelation.Alias == "" {
		im.skip("semantic model %s: no node_relation.alias (table)", sm.Name)
		return nil, nil
	}
	table := strings.ToLower(sm.NodeRelation.Alias)
	p := &catalog.Product{Name: catalog.ProductName(sm.Name), Domain: im.opts.Domain, Status: "draft", Version: "0.1.0",
		Purpose:      strings.TrimSpace(sm.Description),
		Capabilities: []string{catalog.CapRecords, catalog.CapMetrics, catalog.CapGet}, Binding: im.opts.Binding}
	if p.Purpose == "" {
		p.Purpose = "Imported from the dbt semantic model " + sm.Name + "."
	}
	p.Usage = "Imported from dbt semantic model " + sm.Name + " (" + cmpOr(sm.NodeRelation.RelationName, table) + ")."
	if sm.Config != nil {
		if d, ok := sm.Config.Meta["domain"].(string); ok && d != "" {
			p.Domain = d
		}
		if o, ok := sm.Config.Meta["owner"].(string); ok && o != "" {
			p.Owner = o
		}
	}
	p.Binding.Table = table
	if p.Binding.Schema == "" && p.Binding.Kind != catalog.BackendSQLite {
		p.Binding.Schema = strings.ToLower(sm.NodeRelation.SchemaName)
	}
	review := map[string]string{}
	if im.dims == nil {
		im.dims = map[string]map[string]string{}
	}
	dims := map[string]string{}
	im.dims[p.Name] = dims
	add := func(c catalog.Column) {
		if i := slices.IndexFunc(p.Columns, func(x catalog.Column) bool { return x.Name == c.Name }); i >= 0 {
			if c.PrimaryKey {
				p.Columns[i].PrimaryKey = true
			}
			if p.Columns[i].Type == catalog.TypeString && c.Type != catalog.TypeString {
				p.Columns[i].Type = c.Type
			}
			return
		}
		c.Classification = catalog.ClassInternal
		if class, why := catalog.GuessClassification(table, c.Name); class != "" {
			c.Classification = class
			review[c.Name] = "classification " + class + " guessed: " + why + "; confirm it"
		}
		c.Nullable = !c.PrimaryKey
		p.Columns = append(p.Columns, c)
	}
	for _, e := range sm.Entities {
		col, ok := column(e.Name, e.Expr)
		if !ok {
			im.skip("%s: entity %s is the SQL expression %q; askmesh reads columns only", sm.Name, e.Name, e.Expr)
			continue
		}
		add(catalog.Column{Name: col, Type: catalog.TypeString, Description: cmpOr(e.Description, "The "+e.Name+" ("+e.Type+" entity)."),
			PrimaryKey: e.Type == "primary"})
		dims[e.Name] = col
		if e.Type == "primary" {
			p.KeyColumn = col
		} else if !slices.Contains(p.Dimensions, col) {
			p.Dimensions = append(p.Dimensions, col)
		}
	}
	for _, d := range sm.Dimensions {
		col, ok := column(d.Name, d.Expr)
		if !ok {
			im.skip("%s: dimension %s is the SQL expression %q; askmesh reads columns only", sm.Name, d.Name, d.Expr)
			continue
		}
		c := catalog.Column{Name: col, Type: catalog.TypeString, Description: cmpOr(d.Description, "The "+d.Name+".")}
		if d.Type == "time" {
			c.Type = catalog.TypeTimestamp
			if d.TypeParams != nil && d.TypeParams.TimeGranularity != "" {
				c.Description += " (finest grain: " + d.TypeParams.TimeGranularity + ")"
			}
		} else if !slices.Contains(p.Dimensions, col) {
			p.Dimensions = append(p.Dimensions, col)
		}
		add(c)
		dims[d.Name] = col
	}
	if sm.Defaults != nil && sm.Defaults.AggTimeDimension != "" {
		p.TimeColumn = dims[sm.Defaults.AggTimeDimension]
	}
	for _, ms := range sm.Measures {
		agg, col, typ, err := measure(ms)
		if err != nil {
			im.skip("%s: measure %s: %v", sm.Name, ms.Name, err)
			continue
		}
		if col != "" {
			add(catalog.Column{Name: col, Type: typ, Description: "Read by the measure " + ms.Name + "."})
		}
		im.measures[ms.Name] = measureRef{product: p.Name, agg: agg, column: col}
		if ms.CreateMetric {
			im.metrics[ms.Name] = Metric{Name: ms.Name, Description: ms.Description, Type: "simple",
				TypeParams: TypeParams{Measure: &MetricInput{Name: ms.Name}}}
		}
	}
	if p.KeyColumn == "" {
		im.skip("%s: no primary entity; askmesh needs a key column: set one in the descriptor", sm.Name)
		return nil, nil
	}
	// A dimension that is also a metric's name would clash in results.
	sort.Strings(p.Dimensions)
	return p, review
}

// measure maps a MetricFlow aggregation to an askmesh aggregate.
func measure(ms Measure) (agg, col, typ string, err error) {
	expr := strings.TrimSpace(ms.Expr)
	c, plain := column(ms.Name, expr)
	switch strings.ToLower(ms.Agg) {
	case "count":
		if expr == "1" || expr == "*" {
			return "count", "", "", nil
		}
		typ = catalog.TypeString
		agg = "count"
	case "count_distinct":
		typ, agg = catalog.TypeString, "count_distinct"
	case "sum":
		typ, agg = catalog.TypeNumber, "sum"
	case "average":
		typ, agg = catalog.TypeNumber, "avg"
	case "min":
		typ, agg = catalog.TypeNumber, "min"
	case "max":
		typ, agg = catalog.TypeNumber, "max"
	case "sum_boolean":
		typ, agg = catalog.TypeBoolean, "count_if"
	default:
		return "", "", "", fmt.Errorf("aggregation %s has no askmesh equivalent", ms.Agg)
	}
	if !plain {
		return "", "", "", fmt.Errorf("expr %q is an SQL expression; askmesh aggregates columns only", expr)
	}
	return agg, c, typ, nil
}

// dimensionRef is a filter template's {{ Dimension('entity__name') }}.
var dimensionRef = regexp.MustCompile(`\{\{\s*Dimension\(\s*'([a-z0-9_]+)'\s*\)\s*\}\}`)

func (im *importer) condition(product string, f *WhereFilter) (string, error) {
	if f == nil {
		return "", nil
	}
	var parts []string
	for _, w := range f.WhereFilters {
		var bad error
		sql := dimensionRef.ReplaceAllStringFunc(w.WhereSQLTemplate, func(m string) string {
			name := dimensionRef.FindStringSubmatch(m)[1]
			if i := strings.LastIndex(name, "__"); i >= 0 {
				name = name[i+2:]
			}
			col, ok := im.dims[product][name]
			if !ok {
				bad = fmt.Errorf("the filter names the dimension %q, which %s does not have", name, product)
			}
			return col
		})
		if bad != nil {
			return "", bad
		}
		if strings.Contains(sql, "{{") {
			return "", fmt.Errorf("the filter %q uses templates other than Dimension()", w.WhereSQLTemplate)
		}
		parts = append(parts, "("+strings.TrimSpace(sql)+")")
	}
	return strings.Join(parts, " and "), nil
}

// resolve turns a metric into an askmesh expression on one product.
func (im *importer) resolve(name string, depth int) (resolved, error) {
	if r, ok := im.resolved[name]; ok {
		return r, nil
	}
	if depth > 16 {
		return resolved{}, fmt.Errorf("metrics refer to each other in a cycle")
	}
	mt, ok := im.metrics[name]
	if !ok {
		return resolved{}, fmt.Errorf("no metric %s in the manifest", name)
	}
	var r resolved
	switch mt.Type {
	case "simple":
		in := mt.TypeParams.Measure
		if in == nil {
			return r, fmt.Errorf("a simple metric without a measure")
		}
		ms, ok := im.measures[in.Name]
		if !ok {
			return r, fmt.Errorf("its measure %s was not imported", in.Name)
		}
		r.product = ms.product
		cond, err := im.condition(ms.product, mt.Filter)
		if err != nil {
			return r, err
		}
		c2, err := im.condition(ms.product, in.Filter)
		if err != nil {
			return r, err
		}
		cond = strings.Join(slices.DeleteFunc([]string{cond, c2}, func(s string) bool { return s == "" }), " and ")
		switch {
		case cond == "" && ms.agg == "count" && ms.column == "":
			r.expr, r.unit = "count(*)", "count"
		case cond == "" && ms.agg == "count_if":
			r.expr, r.unit = "count_if("+ms.column+")", "count"
		case cond == "":
			r.expr = ms.agg + "(" + ms.column + ")"
			if strings.HasPrefix(ms.agg, "count") {
				r.unit = "count"
			}
		case ms.agg == "count" && ms.column == "":
			r.expr, r.unit = "count_if("+cond+")", "count"
		case ms.agg == "count_if":
			r.expr, r.unit = "count_if("+ms.column+" and "+cond+")", "count"
		default:
			return r, fmt.Errorf("a filtered %s measure has no askmesh equivalent (only counts take filters)", ms.agg)
		}
		if _, err := catalog.ParseExpr(r.expr); err != nil {
			return r, fmt.Errorf("%s: %v", r.expr, err)
		}
	case "ratio":
		num, den := mt.TypeParams.Numerator, mt.TypeParams.Denominator
		if num == nil || den == nil {
			return r, fmt.Errorf("a ratio metric without numerator and denominator")
		}
		if num.Filter != nil || den.Filter != nil || mt.Filter != nil {
			return r, fmt.Errorf("filters on a ratio's inputs are not imported; put them on the input metrics")
		}
		n, err := im.resolve(num.Name, depth+1)
		if err != nil {
			return r, err
		}
		d, err := im.resolve(den.Name, depth+1)
		if err != nil {
			return r, err
		}
		if n.product != d.product {
			return r, fmt.Errorf("it divides %s of %s by %s of %s; metrics across products are combined products (backend kind combined)", num.Name, n.product, den.Name, d.product)
		}
		r = resolved{product: n.product, expr: "(" + n.expr + ") / (" + d.expr + ")", unit: "ratio"}
	case "derived":
		if mt.Filter != nil {
			return r, fmt.Errorf("filters on a derived metric are not imported")
		}
		expr := mt.TypeParams.Expr
		subs := map[string]string{}
		for _, in := range mt.TypeParams.Metrics {
			if in.OffsetWindow != nil || in.Filter != nil {
				return r, fmt.Errorf("input %s has an offset window or filter, which askmesh does not compute", in.Name)
			}
			x, err := im.resolve(in.Name, depth+1)
			if err != nil {
				return r, err
			}
			if r.product != "" && r.product != x.product {
				return r, fmt.Errorf("its inputs come from %s and %s; metrics across products are combined products", r.product, x.product)
			}
			r.product = x.product
			subs[cmpOr(in.Alias, in.Name)] = "(" + x.expr + ")"
		}
		var bad error
		r.expr = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`).ReplaceAllStringFunc(expr, func(w string) string {
			if s, ok := subs[w]; ok {
				return s
			}
			bad = fmt.Errorf("its expression %q names %s, which is not one of its input metrics", expr, w)
			return w
		})
		if bad != nil {
			return r, bad
		}
		if _, err := catalog.ParseExpr(r.expr); err != nil {
			return r, fmt.Errorf("%s: %v", r.expr, err)
		}
	default:
		return r, fmt.Errorf("%s metrics are not imported (askmesh computes simple, ratio and derived metrics)", cmpOr(mt.Type, "untyped"))
	}
	im.resolved[name] = r
	return r, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
