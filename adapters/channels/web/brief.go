package web

import (
	"log/slog"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/assistant/chart"
)

// Chart sizes on the page: wide screens, and phones (where a wide chart
// scaled down would make its labels unreadably small).
var (
	chartWide   = chart.Wide
	chartNarrow = chart.Size{W: 340, H: 260}
	sparkline   = chart.Size{W: 120, H: 34}
)

// webAnswer is an answer as the web page gets it: the answer, and its
// charts and brief sparklines drawn on the server (SVG, with gonum/plot),
// so the page shows them without drawing anything itself.
type webAnswer struct {
	*assistant.Answer
	Render *rendered `json:"render,omitempty"`
}

// rendered holds the SVG documents of an answer, by index: Charts[i] draws
// Answer.Charts[i], Sparklines[i] the trend of Answer.Brief.Cards[i] ("" if
// it has none). Text in them is escaped by the SVG writer.
type rendered struct {
	Charts     []renderedChart `json:"charts,omitempty"`
	Sparklines []string        `json:"sparklines,omitempty"`
}

type renderedChart struct {
	Wide   string `json:"wide"`
	Narrow string `json:"narrow"`
}

// forPage draws ans's charts and sparklines. A chart that cannot be drawn
// is left out (logged); the answer's tables still carry its numbers.
func forPage(log *slog.Logger, ans *assistant.Answer) webAnswer {
	if ans == nil {
		return webAnswer{}
	}
	out := webAnswer{Answer: ans, Render: &rendered{}}
	for _, c := range ans.Charts {
		wide, err := chart.SVG(c, chartWide)
		if err != nil {
			log.Warn("chart not drawn", "title", c.Title, "err", err)
			out.Render.Charts = append(out.Render.Charts, renderedChart{})
			continue
		}
		narrow, err := chart.SVG(c, chartNarrow)
		if err != nil {
			narrow = wide
		}
		out.Render.Charts = append(out.Render.Charts, renderedChart{Wide: string(wide), Narrow: string(narrow)})
	}
	if ans.Brief != nil {
		for _, card := range ans.Brief.Cards {
			svg, err := chart.Sparkline(card.Trend, sparkline)
			if err != nil {
				svg = nil // fewer than two periods: no line to draw
			}
			out.Render.Sparklines = append(out.Render.Sparklines, string(svg))
		}
	}
	return out
}
