package tools

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// Redacted is what a redact mask shows.
const Redacted = "[redacted]"

// masker applies column masks to results. Hash masks are keyed (HMAC) so a
// guessable value such as an email cannot be recovered by hashing guesses;
// the same key gives stable pseudonyms, so masked columns can still be compared.
type masker struct{ key []byte }

func (m masker) apply(res *Result, masks map[string]string) {
	if len(masks) == 0 {
		return
	}
	idx := make(map[int]string)
	for i, col := range res.Columns {
		if kind, ok := masks[col.Name]; ok {
			idx[i] = kind
			if res.Masked == nil {
				res.Masked = map[string]string{}
			}
			res.Masked[col.Name] = kind
			res.Columns[i].Type = catalog.TypeString
		}
	}
	for _, row := range res.Rows {
		for i, kind := range idx {
			if i < len(row) && row[i] != nil {
				row[i] = m.mask(kind, fmt.Sprint(row[i]))
			}
		}
	}
}

func (m masker) mask(kind, v string) string {
	switch kind {
	case authz.MaskLast4:
		r := []rune(v)
		if len(r) <= 4 {
			return strings.Repeat("•", len(r))
		}
		return strings.Repeat("•", len(r)-4) + string(r[len(r)-4:])
	case authz.MaskHash:
		h := hmac.New(sha256.New, m.key)
		h.Write([]byte(v))
		return "hash:" + hex.EncodeToString(h.Sum(nil))[:16]
	default: // redact, and any kind this version does not know: fail safe
		return Redacted
	}
}

// describeProduct builds describe_data_product's answer, with each column's
// access for the asker as the policy decided it.
func describeProduct(p *catalog.Product, d authz.Decision) *ProductDescription {
	out := &ProductDescription{
		Name: p.Name, Domain: p.Domain, Owner: p.Owner, Description: p.Description,
		TimeColumn: p.TimeColumn, KeyColumn: p.KeyColumn, Capabilities: p.Capabilities,
		Dimensions: p.Dimensions, ExampleQuestions: p.ExampleQuestions,
	}
	if p.Freshness > 0 {
		out.Freshness = "updated at least every " + humanDuration(p.Freshness.Hours())
	}
	denied := make(map[string]bool, len(d.DeniedColumns))
	for _, c := range d.DeniedColumns {
		denied[c] = true
	}
	for _, c := range p.Columns {
		access := "visible"
		if kind, ok := d.ColumnMasks[c.Name]; ok {
			access = "masked:" + kind
		}
		if denied[c.Name] || c.Classification == catalog.ClassRestricted {
			access = "withheld"
		}
		out.Columns = append(out.Columns, ColumnDescription{Name: c.Name, Type: c.Type, Description: c.Description,
			Classification: c.Classification, Values: c.Values, Access: access})
	}
	for _, m := range p.Metrics {
		out.Metrics = append(out.Metrics, MetricDescription{Name: m.Name, Description: m.Description, Unit: m.Unit, Expression: m.Expression})
	}
	return out
}

func humanDuration(hours float64) string {
	switch {
	case hours >= 24 && math.Mod(hours, 24) == 0:
		if hours == 24 {
			return "day"
		}
		return fmt.Sprintf("%d days", int(hours/24))
	case hours >= 1:
		return fmt.Sprintf("%g hours", hours)
	}
	return fmt.Sprintf("%g minutes", hours*60)
}

func roundTo(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// DescribeForOperator describes a product without an asker (the platform
// team's CLI view): access shows only what no one may ever see.
func DescribeForOperator(p *catalog.Product) *ProductDescription {
	return describeProduct(p, authz.Decision{})
}
