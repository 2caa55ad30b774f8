package chart

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/assistant"
)

// monthly is 24 months of new customers, the last one not over.
func monthly() assistant.Chart {
	s := assistant.Series{Name: "new_customers"}
	for i := range 24 {
		y, m := 2024+(i/12), i%12+1
		s.Points = append(s.Points, assistant.Point{X: fmt.Sprintf("%d-%02d-01", y, m), Y: float64(1000 + 37*i), Partial: i == 23})
	}
	return assistant.Chart{Kind: assistant.ChartLine, Title: "new customers · customer-acquisition", Unit: "count", Series: []assistant.Series{s}}
}

// svgTexts are the text elements of an SVG document.
func svgTexts(t *testing.T, doc []byte) []string {
	t.Helper()
	var out []string
	dec := xml.NewDecoder(bytes.NewReader(doc))
	in := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case xml.StartElement:
			in = x.Name.Local == "text"
		case xml.CharData:
			if in {
				out = append(out, string(x))
			}
		case xml.EndElement:
			in = false
		}
	}
	return out
}

// TestMonthlyLabels: months read "Jan", with the year at the first and at
// each January; 24 months on a phone-width chart are thinned, the latest
// month always named; values have thousands grouped; the month not over
// is named in the legend.
func TestMonthlyLabels(t *testing.T) {
	doc, err := SVG(monthly(), Size{W: 340, H: 240})
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, doc)
	months := 0
	for _, s := range texts {
		if strings.HasPrefix(s, "20") && strings.Contains(s, "-") {
			t.Errorf("a raw ISO date on the axis: %q", s)
		}
		for _, m := range []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"} {
			if strings.HasPrefix(s, m) {
				months++
			}
		}
	}
	if months == 0 || months >= 24 || !slices.Contains(texts, "Dec") {
		t.Errorf("%d month labels of 24 at phone width (want thinned, with the latest, Dec): %q", months, texts)
	}
	if !slices.Contains(texts, PartialNote) {
		t.Errorf("no legend note for the month not over: %q", texts)
	}
	wide, err := SVG(monthly(), Wide)
	if err != nil {
		t.Fatal(err)
	}
	texts = svgTexts(t, wide)
	// Thinned to every third month, counted back from the latest: the year
	// is said where it changes.
	for _, want := range []string{"Mar 24", "Jun", "Mar 25", "Dec", "1,800"} {
		if !slices.Contains(texts, want) {
			t.Errorf("no %q in %q", want, texts)
		}
	}
}

// TestPercentBarsAndPNG: a bar chart of rates labels its axis in percent;
// the PNG of the same spec is a valid image of the size asked (2x).
func TestPercentBarsAndPNG(t *testing.T) {
	c := assistant.Chart{Kind: assistant.ChartBar, Title: "conversion rate by channel", Unit: "%", Series: []assistant.Series{{Name: "conversion_rate",
		Points: []assistant.Point{{X: "email", Y: 12.5}, {X: "search <ads>", Y: 3.25}, {X: "social", Y: 7}}}}}
	doc, err := SVG(c, Wide)
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, doc)
	if !slices.Contains(texts, "search <ads>") || !slices.ContainsFunc(texts, func(s string) bool { return strings.HasSuffix(s, "%") && s != "" }) {
		t.Errorf("want the category as written (escaped in the markup) and percent ticks: %q", texts)
	}
	if bytes.Contains(doc, []byte("<ads>")) {
		t.Errorf("a label is not escaped in the SVG")
	}
	b, err := PNG(c, Wide)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 1280 || r.Dy() != 600 {
		t.Errorf("PNG is %dx%d, want 1280x600", r.Dx(), r.Dy())
	}
	if os.Getenv("CHART_PNG") != "" {
		_ = os.WriteFile(os.Getenv("CHART_PNG"), b, 0o644)
		m, _ := PNG(monthly(), Wide)
		_ = os.WriteFile(os.Getenv("CHART_PNG")+".line.png", m, 0o644)
	}
	if _, err := SVG(assistant.Chart{Kind: assistant.ChartBar}, Wide); err == nil {
		t.Error("a chart without points drew")
	}
}

// TestStackedBarsOverMonths: a breakdown over time draws bars per month
// with a legend naming each part, months as months.
func TestStackedBarsOverMonths(t *testing.T) {
	c := assistant.Chart{Kind: assistant.ChartBar, Stacked: true, Unit: "count", Title: "new customers by region", Series: []assistant.Series{
		{Name: "europe", Points: []assistant.Point{{X: "2026-10-01", Y: 3}, {X: "2026-11-01", Y: 5, Partial: true}}},
		{Name: "asia", Points: []assistant.Point{{X: "2026-10-01", Y: 4}, {X: "2026-11-01", Y: 1, Partial: true}}}}}
	doc, err := SVG(c, Wide)
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, doc)
	for _, want := range []string{"europe", "asia", "Oct 26", "Nov", PartialNote} {
		if !slices.Contains(texts, want) {
			t.Errorf("no %q in %q", want, texts)
		}
	}
	c.Stacked = false
	if _, err := PNG(c, Wide); err != nil {
		t.Errorf("grouped bars: %v", err)
	}
}
