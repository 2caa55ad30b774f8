package slack

import (
	"bytes"
	"errors"
	"fmt"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/askmesh/askmesh/assistant"
)

// palette is colour-blind safe (Okabe-Ito).
var palette = []drawing.Color{
	{R: 0, G: 114, B: 178, A: 255}, {R: 230, G: 159, B: 0, A: 255}, {R: 0, G: 158, B: 115, A: 255},
	{R: 204, G: 121, B: 167, A: 255}, {R: 86, G: 180, B: 233, A: 255}, {R: 213, G: 94, B: 0, A: 255},
	{R: 240, G: 228, B: 66, A: 255}, {R: 0, G: 0, B: 0, A: 255},
}

// chartPNG renders a chart spec to PNG with go-chart (fonts are embedded in
// the library, so nothing is fetched at run time).
func chartPNG(c assistant.Chart) ([]byte, error) {
	if len(c.Series) == 0 || len(c.Series[0].Points) == 0 {
		return nil, errors.New("chart has no points")
	}
	var buf bytes.Buffer
	switch c.Kind {
	case assistant.ChartBar:
		bc := chart.BarChart{
			Title:      c.Title,
			Width:      900,
			Height:     450,
			BarWidth:   40,
			Background: chart.Style{Padding: chart.Box{Top: 50, Left: 20, Right: 20, Bottom: 20}},
			XAxis:      chart.Style{FontSize: 9},
			YAxis:      chart.YAxis{Style: chart.Style{FontSize: 9}, ValueFormatter: valueFormatter},
		}
		for i, p := range c.Series[0].Points {
			bc.Bars = append(bc.Bars, chart.Value{Label: p.X, Value: p.Y,
				Style: chart.Style{FillColor: palette[i%len(palette)], StrokeColor: palette[i%len(palette)]}})
		}
		if len(bc.Bars) == 1 { // go-chart cannot scale a single bar
			bc.Bars = append(bc.Bars, chart.Value{Label: " ", Value: 0})
		}
		if err := bc.Render(chart.PNG, &buf); err != nil {
			return nil, fmt.Errorf("render bar chart: %w", err)
		}
	default:
		// Periods are categories on the x axis: plot by index, label by period.
		labels := c.Series[0].Points
		ch := chart.Chart{
			Title:      c.Title,
			Width:      900,
			Height:     450,
			Background: chart.Style{Padding: chart.Box{Top: 50, Left: 20, Right: 20, Bottom: 20}},
			YAxis:      chart.YAxis{ValueFormatter: valueFormatter, Style: chart.Style{FontSize: 9}},
			XAxis:      chart.XAxis{Style: chart.Style{FontSize: 8, TextRotationDegrees: 45}},
		}
		step := len(labels)/12 + 1
		for i, p := range labels {
			if i%step == 0 {
				ch.XAxis.Ticks = append(ch.XAxis.Ticks, chart.Tick{Value: float64(i), Label: p.X})
			}
		}
		for si, s := range c.Series {
			xs := make([]float64, len(s.Points))
			ys := make([]float64, len(s.Points))
			for i, p := range s.Points {
				xs[i], ys[i] = float64(i), p.Y
			}
			if len(xs) == 1 {
				xs, ys = append(xs, 1), append(ys, ys[0])
			}
			ch.Series = append(ch.Series, chart.ContinuousSeries{Name: s.Name, XValues: xs, YValues: ys,
				Style: chart.Style{StrokeColor: palette[si%len(palette)], StrokeWidth: 2}})
		}
		if len(c.Series) > 1 {
			ch.Elements = []chart.Renderable{chart.LegendLeft(&ch)}
		}
		if err := ch.Render(chart.PNG, &buf); err != nil {
			return nil, fmt.Errorf("render line chart: %w", err)
		}
	}
	return buf.Bytes(), nil
}

func valueFormatter(v any) string {
	if f, ok := v.(float64); ok {
		return formatCell(f)
	}
	return fmt.Sprint(v)
}
