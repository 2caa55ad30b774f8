package assistant

// Brief is an executive brief laid out to be read in ten seconds: a
// headline sentence, metric cards, what moved them, the unusual records,
// and what was withheld and why, in that order; the calls behind it fold
// into one line of sources. Every figure is formatted as people read it
// (rates as percentages, amounts with their currency, thousands grouped)
// and traces to the call that produced it by its audit id. Channels lay it
// out; the Answer's text says the same in sentences.
type Brief struct {
	Headline      string          `json:"headline"`
	Period        string          `json:"period"`
	ComparePeriod string          `json:"compare_period,omitempty"`
	Cards         []BriefCard     `json:"cards"`
	Movers        []BriefMover    `json:"movers,omitempty"`
	Anomalies     []BriefAnomaly  `json:"anomalies,omitempty"`
	Withheld      []BriefWithheld `json:"withheld,omitempty"`
	Sources       BriefSources    `json:"sources"`
	// Notes are what policy did to the figures ("only rows where region =
	// europe (policy)") and what the brief left out; said with the cards.
	Notes []string `json:"notes,omitempty"`
}

// Directions of a change.
const (
	DirectionUp   = "up"
	DirectionDown = "down"
	DirectionFlat = "flat"
)

// BriefCard is one headline metric: its value, its change from the
// comparison period and its recent trend.
type BriefCard struct {
	Product string `json:"product"`
	Metric  string `json:"metric"`
	Label   string `json:"label"`  // "New customers", "Total amount (EUR)"
	Value   string `json:"value"`  // as shown: "65.28%", "EUR 1,234,567.89", "398"
	Number  any    `json:"number"` // the value as the tool returned it
	Unit    string `json:"unit,omitempty"`
	// Currency is the amount's currency code, when the metric is an amount.
	Currency string `json:"currency,omitempty"`
	Previous string `json:"previous,omitempty"` // the comparison period's value, as shown
	// Change is "+34.0%" (counts and amounts) or "+2.62 pts" (rates: a
	// relative change alone would obscure what a rate did).
	Change    string       `json:"change,omitempty"`
	Direction string       `json:"direction,omitempty"` // up, down, flat; empty with nothing to compare
	Trend     []TrendPoint `json:"trend,omitempty"`     // the last 12 periods, oldest first
	Source    Source       `json:"source"`              // the headline call (audit id, arguments)
	// TrendSource is the call the trend came from.
	TrendSource *Source            `json:"trend_source,omitempty"`
	Filters     []ProvenanceFilter `json:"filters,omitempty"` // the asker's and policy's, marked
}

// TrendPoint is one period of a card's trend. Partial: the period is not
// over, so its figure is for the days so far and must not read as a fall.
type TrendPoint struct {
	Period  string  `json:"period"` // its first day, 2026-10-01
	Label   string  `json:"label"`  // "Oct 26"
	Value   float64 `json:"value"`
	Shown   string  `json:"shown"` // the value as shown
	Partial bool    `json:"partial,omitempty"`
}

// BriefMover is a top contributor: the group that contributed most to a
// product's headline metric over the period.
type BriefMover struct {
	Product   string `json:"product"`
	Dimension string `json:"dimension"` // what the group is: "campaign", "channel"
	Group     string `json:"group"`
	Metric    string `json:"metric"`
	Value     string `json:"value"`            // as shown
	Detail    string `json:"detail,omitempty"` // "conversion rate 12.50%, per marketing-campaigns"
	Source    Source `json:"source"`
}

// BriefAnomaly is a product's unusual records over the period.
type BriefAnomaly struct {
	Product string `json:"product"`
	Count   int    `json:"count"`
	Text    string `json:"text"` // "3 unusual records; the most unusual: ..."
	Source  Source `json:"source"`
}

// BriefWithheld is a part of the brief policy withholds from the asker.
// Product is empty when the asker may not even describe the product: it
// is then only counted.
type BriefWithheld struct {
	Product string `json:"product,omitempty"`
	What    string `json:"what"` // "access-audit", "unusual records of customer-transactions"
	Reason  string `json:"reason"`
}

// BriefSources folds the calls behind a brief into one disclosure:
// "Sources: 19 queries, 4 withheld".
type BriefSources struct {
	Queries  int      `json:"queries"`
	Withheld int      `json:"withheld"`
	Products []string `json:"products,omitempty"`
}
