// Package brief builds executive briefs: for every data product that names
// headline metrics, each metric's value over a period with the comparison
// period's value and the change, the top contributor (and, where a related
// product knows it, the contributor's conversion rate), notable anomalies,
// one chart and the sources. Products the asker may not see are named as
// withheld, with policy's reason.
//
// Every number comes from a tool call made on the asker's behalf through the
// tools executor, so policy and audit apply exactly as for any question. The
// same plan and the same composition serve the offline planner (which emits
// the plan's calls as a model turn) and Build (which runs them directly, for
// the CLI and scheduled Slack briefs), so both say the same thing.
package brief

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Defaults of a brief.
const (
	DefaultPeriod  = "last_month"
	DefaultCompare = tools.ComparePreviousPeriod
	// DefaultMaxProducts bounds the products of one brief.
	DefaultMaxProducts = 25
	// contributors is how many top groups a contributor call fetches: the
	// first is named, the rest give the table some context.
	contributors = 3
	// anomalyLimit bounds the unusual records fetched per product.
	anomalyLimit = 50
)

// Options choose what a brief covers.
type Options struct {
	Period  string // a time_range (named period, ISO month, ...); default last_month
	Compare string // compare_to; default previous_period
	// Products restricts the brief to these products; empty: every product
	// of the catalog with headline metrics.
	Products []string
	// MaxProducts bounds the products one brief covers (default 25), so a
	// catalog of thousands cannot turn one question into thousands of calls.
	MaxProducts int
	// Now, when set, adds each product's trend (its headline metrics month
	// by month, the 12 months to the period's end) for the cards'
	// sparklines.
	Now time.Time
	// Access is what policy lets the asker do, asked once before planning
	// (AskAccess); calls it refuses are not made, and are listed as
	// withheld. Nil: every call is made.
	Access Access
	// Writer, when set, is a language model that rewrites the templated
	// brief as prose from the same figures; its numbers are checked against
	// the tool results and unknown ones flagged (Build only).
	Writer assistant.Model
}

func (o Options) withDefaults() Options {
	if strings.TrimSpace(o.Period) == "" {
		o.Period = DefaultPeriod
	}
	if o.Compare == "" {
		o.Compare = DefaultCompare
	}
	if o.MaxProducts <= 0 {
		o.MaxProducts = DefaultMaxProducts
	}
	return o
}

// Kinds of planned calls.
const (
	KindHeadline    = "headline"    // headline metrics, compared
	KindContributor = "contributor" // first countable headline metric by a dimension, top N
	KindAnomalies   = "anomalies"   // find_anomalies over the period
	KindRelated     = "related"     // a related product's rate for the top contributor
	KindTrend       = "trend"       // headline metrics month by month, for sparklines
)

// trendMonths is how many whole months a card's sparkline shows.
const trendMonths = 12

// Item is one call of a brief and what it is for.
type Item struct {
	Kind      string
	Product   string // the product whose line of the brief this call feeds
	Metric    string // contributor: the metric ranked; related: the rate fetched
	Dimension string // contributor: the grouping column; related: the name column filtered
	Value     string // related: the contributor it is about
	Call      tools.Call
}

// Plan lists the first round of calls of a brief, in a stable order: per
// product (by name) its headline call, then its contributor call, then its
// anomalies call. Related calls depend on results; see FollowUps.
func Plan(cat tools.Catalog, o Options) []Item {
	o = o.withDefaults()
	var items []Item
	for _, p := range Products(cat, o) {
		items = append(items, Item{Kind: KindHeadline, Product: p.Name, Call: call(tools.ToolQueryMetrics, tools.QueryMetricsArgs{
			Product: p.Name, Metrics: slices.Clone(p.HeadlineMetrics), TimeRange: o.Period, CompareTo: o.Compare})})
		if tr, ok := trendRange(o); ok {
			items = append(items, Item{Kind: KindTrend, Product: p.Name, Call: call(tools.ToolQueryMetrics, tools.QueryMetricsArgs{
				Product: p.Name, Metrics: slices.Clone(p.HeadlineMetrics), TimeRange: tr, TimeGrain: tools.GrainMonth})})
		}
		if m, dim := contributorOf(p); m != "" && dim != "" {
			args := tools.QueryMetricsArgs{Product: p.Name, Metrics: []string{m}, GroupBy: []string{dim}, TimeRange: o.Period,
				OrderBy: []tools.OrderBy{{Field: m, Direction: "desc"}, {Field: dim, Direction: "asc"}}, Limit: contributors}
			if c, ok := p.Column(dim); ok && c.Nullable {
				// "The campaign with most new customers" means a campaign, not "none".
				args.Filters = []tools.Filter{{Column: dim, Op: tools.OpIsNotNull}}
			}
			items = append(items, Item{Kind: KindContributor, Product: p.Name, Metric: m, Dimension: dim, Call: call(tools.ToolQueryMetrics, args)})
		}
		if p.Has(catalog.CapAnomalies) && p.Anomalies != nil && p.TimeColumn != "" {
			items = append(items, Item{Kind: KindAnomalies, Product: p.Name, Call: call(tools.ToolFindAnomalies,
				tools.FindAnomaliesArgs{Product: p.Name, TimeRange: o.Period, Limit: anomalyLimit})})
		}
	}
	return items
}

// trendRange is the range of a trend: the 12 months to the end of the
// brief's period, as an ISO month range ("2025-11..2026-10"). A month of
// it not over yet (a brief of this_month) is marked partial.
func trendRange(o Options) (string, bool) {
	if o.Now.IsZero() {
		return "", false
	}
	r, err := tools.ResolveTimeRange(o.Period, o.Now)
	if err != nil || r.To.IsZero() {
		return "", false
	}
	last := r.To.Add(-time.Nanosecond)
	last = time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
	first := last.AddDate(0, 1-trendMonths, 0)
	return first.Format("2006-01") + ".." + last.Format("2006-01"), true
}

// partialMonth is the month of a trend that is not over at now (its first
// day), or "".
func partialMonth(now time.Time) string {
	if now.IsZero() {
		return ""
	}
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

// Products are the products a brief covers: those declaring headline
// metrics and the metrics capability, by name, at most o.MaxProducts.
func Products(cat tools.Catalog, o Options) []*catalog.Product {
	all := candidates(cat, o)
	if o = o.withDefaults(); len(all) > o.MaxProducts {
		all = all[:o.MaxProducts]
	}
	return all
}

// candidates are all the products a brief could cover.
func candidates(cat tools.Catalog, o Options) []*catalog.Product {
	var out []*catalog.Product
	for _, p := range cat.List() {
		if len(p.HeadlineMetrics) == 0 || !p.Has(catalog.CapMetrics) {
			continue
		}
		if len(o.Products) > 0 && !slices.Contains(o.Products, p.Name) {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *catalog.Product) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// FollowUps are the calls that depend on first-round results: for a top
// contributor named after another product's records (campaign_name ->
// marketing-campaigns), that product's rate for it.
func FollowUps(cat tools.Catalog, outs []Outcome) []Item {
	var items []Item
	for _, o := range outs {
		if o.Item.Kind != KindContributor || o.Status != StatusOK || o.View == nil || len(o.View.Rows) == 0 {
			continue
		}
		i := o.View.col(o.Item.Dimension)
		if i < 0 {
			continue
		}
		top, ok := o.View.Rows[0][i].(string)
		if !ok || top == "" {
			continue
		}
		rp, nameCol, rate := relatedOf(cat, o.Item.Product, o.Item.Dimension)
		if rp == nil {
			continue
		}
		items = append(items, Item{Kind: KindRelated, Product: o.Item.Product, Metric: rate, Dimension: nameCol, Value: top,
			Call: call(tools.ToolQueryMetrics, tools.QueryMetricsArgs{Product: rp.Name, Metrics: []string{rate},
				Filters: []tools.Filter{{Column: nameCol, Op: tools.OpEq, Value: top}}})})
	}
	return items
}

// contributorOf picks the metric and dimension of a product's "top
// contributor": its first headline metric that adds up (a count or an
// amount, not a rate), grouped by its first name-like dimension
// (campaign_name), else its first dimension that is not an identifier.
func contributorOf(p *catalog.Product) (metric, dim string) {
	for _, name := range p.HeadlineMetrics {
		if m, ok := p.Metric(name); ok && m.Unit != "ratio" {
			metric = name
			break
		}
	}
	if metric == "" {
		return "", ""
	}
	usable := func(d string) bool {
		c, ok := p.Column(d)
		return ok && d != p.KeyColumn && c.Classification != catalog.ClassPII && c.Classification != catalog.ClassRestricted &&
			c.Classification != catalog.ClassConfidential
	}
	for _, d := range p.Dimensions {
		if (d == "name" || strings.HasSuffix(d, "_name")) && usable(d) {
			return metric, d
		}
	}
	for _, d := range p.Dimensions {
		if !strings.HasSuffix(d, "_id") && usable(d) {
			return metric, d
		}
	}
	return "", ""
}

// relatedOf finds the product a dimension names records of: for
// campaign_name, a product whose name contains "campaign", with a "name"
// dimension and a rate metric (a headline one first).
func relatedOf(cat tools.Catalog, product, dim string) (*catalog.Product, string, string) {
	stem, ok := strings.CutSuffix(dim, "_name")
	if !ok || stem == "" {
		return nil, "", ""
	}
	for _, rp := range cat.List() {
		if rp.Name == product || !strings.Contains(rp.Name, stem) || !rp.IsDimension("name") || !rp.Has(catalog.CapMetrics) {
			continue
		}
		for _, name := range append(slices.Clone(rp.HeadlineMetrics), rp.MetricNames()...) {
			if m, ok := rp.Metric(name); ok && m.Unit == "ratio" {
				return rp, "name", name
			}
		}
	}
	return nil, "", ""
}

// call encodes arguments with Marshal, as the planner encodes its calls, so
// a planned call and the planner's emitted call are byte-identical and can
// be matched by their arguments.
func call(tool string, args any) tools.Call {
	return tools.Call{Tool: tool, Arguments: Marshal(args)}
}

// Marshal encodes tool arguments compactly without HTML escaping, so
// "amount > 500000" reads as written in audit records.
func Marshal(v any) json.RawMessage {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Arguments are plain structs and cannot fail to encode; an empty
		// object makes the executor reject the call rather than guess.
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(strings.TrimSuffix(b.String(), "\n"))
}

// Statuses of an outcome.
const (
	StatusOK     = "ok"
	StatusDenied = "denied"
	StatusError  = "error"
)

// Outcome is one call of a brief and what came back.
type Outcome struct {
	Item    Item
	Status  string
	Message string // the denial reason or error
	View    *View
	// Set by Build, which has the executor's result; the planner has only
	// the text the model saw.
	Result  *tools.Result
	AuditID string
	// Withheld: policy refuses the call (per Options.Access), so it was
	// not made; Status is StatusDenied and Message policy's reason.
	Withheld bool
}

// View is a tool result as assistant.ForModel renders it for a model.
type View struct {
	Product      string   `json:"product"`
	Columns      []string `json:"columns"`
	Rows         [][]any  `json:"rows"`
	RowCount     int      `json:"row_count"`
	TimeRange    string   `json:"time_range"`
	CompareRange string   `json:"compare_range"`
	Notes        []string `json:"notes"`
}

func (v *View) col(name string) int { return slices.Index(v.Columns, name) }

// Read turns a tool message's content (a ForModel view, "denied: ..." or
// "error: ...") into an outcome of the item.
func Read(it Item, content string) Outcome {
	o := Outcome{Item: it}
	switch {
	case strings.HasPrefix(content, assistant.DeniedPrefix):
		o.Status, o.Message = StatusDenied, strings.TrimPrefix(content, assistant.DeniedPrefix)
	case strings.HasPrefix(content, assistant.ErrorPrefix):
		o.Status, o.Message = StatusError, strings.TrimPrefix(content, assistant.ErrorPrefix)
	default:
		var v View
		dec := json.NewDecoder(strings.NewReader(content))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			o.Status, o.Message = StatusError, fmt.Sprintf("the result could not be read: %v", err)
			return o
		}
		o.Status, o.View = StatusOK, &v
	}
	return o
}

// Match finds the planned item a call is, by tool and exact arguments.
func Match(items []Item, tool string, args json.RawMessage) (Item, bool) {
	for _, it := range items {
		if it.Call.Tool == tool && string(it.Call.Arguments) == string(args) {
			return it, true
		}
	}
	return Item{}, false
}
