package planner

import (
	"fmt"
	"slices"

	"github.com/askmesh/askmesh/catalog"
	"regexp"
	"strings"
)

// partSplitRe finds where a question starts asking something else: "...
// last month, and what share was approved?".
var partSplitRe = regexp.MustCompile(`(?i)(?:,?\s+and\s+|;\s*|\?\s+|,\s+)(what|how|which|who|where|is|are|did|does|do)\b`)

// leadInRe is a part that asks nothing by itself.
var leadInRe = regexp.MustCompile(`(?i)^(?:on average|overall|in general|in total|roughly|approximately|so|ok|okay|also|then|and|now)$`)

// referBackRe is a later part's word for what the first part counted.
var referBackRe = regexp.MustCompile(`\b(?:their|them|they|those|these|its|it)\b`)

// splitParts splits a question in several parts into them, or returns nil.
func splitParts(q string) []string {
	locs := partSplitRe.FindAllStringSubmatchIndex(q, -1)
	if len(locs) == 0 {
		return nil
	}
	var parts []string
	start := 0
	for _, l := range locs {
		parts = append(parts, q[start:l[0]])
		start = l[2]
	}
	parts = append(parts, q[start:])
	var out []string
	lead := ""
	for _, s := range parts {
		s = strings.Trim(s, " ,;?")
		// "On average, how many ...": a lead-in qualifies the part after it.
		if leadInRe.MatchString(s) {
			lead += s + " "
			continue
		}
		if s != "" {
			out = append(out, lead+s+"?")
			lead = ""
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// ruleMultiPart answers each part of "How many loan applications last
// month, and what share was approved?" on its own, through the rule
// table. A later part that names no period or product takes the first
// part's, as people mean; its own filters are its own, so a word of one
// part ("approved") never filters another.
var ruleMultiPart = rule{
	name:    "multi-part",
	applies: func(f *features) bool { return len(f.parts) >= 2 },
	plan: func(p *Planner, a *analysis, f *features) *intent {
		now := a.now
		first := p.analyze(f.parts[0], now)
		period := ""
		for _, sp := range first.w.spans {
			period += " " + first.low[sp[0]:sp[1]]
		}
		firstProd, _ := p.chooseProduct(first, false)
		in := &intent{kind: kindData, product: firstProd}
		known := 0
		for i, text := range f.parts {
			ask := text
			if i > 0 {
				pa := p.analyze(text, now)
				body := strings.TrimSuffix(ask, "?")
				if len(pa.w.spans) == 0 && period != "" {
					body += period
				}
				prod, _ := p.chooseProduct(pa, false)
				// "... and what was their total value?": a part that refers
				// back is about the first part's product, whatever its
				// words would pick on their own.
				if firstProd != nil && prod != firstProd && pa.has(referBackRe) {
					prod = nil
				}
				if prod == nil && firstProd != nil {
					body += " (" + firstProd.Name + ")"
					prod = firstProd
				}
				// "How many calls last month and what was the average
				// handle time?": the first part's values carry over to a
				// later part of the same product that names none of its own
				// on their columns.
				if prod == firstProd {
					if carried := carriedValues(first, pa, prod); carried != "" {
						body = strings.TrimSpace(carried) + ": " + body // before a share's verb: part of the whole
					}
				}
				ask = body + "?"
			}
			var prev *previousTurn
			if i == 0 {
				prev = f.prev
			}
			part := p.parseAs(ask, prev, now, f.queryable)
			if part.kind != kindUnknown && part.kind != kindHelp {
				known++
			}
			in.parts = append(in.parts, part)
			in.partText = append(in.partText, text)
			in.calls = append(in.calls, part.calls...)
		}
		if known == 0 {
			return nil
		}
		return in
	},
}

// partsText writes each part's answer in turn.
func (p *Planner) partsText(in *intent, outs []outcome) string {
	var out []string
	for i, part := range in.parts {
		var s string
		switch part.kind {
		case kindUnknown, kindHelp:
			s = fmt.Sprintf("For %q I could not work out which data product and figures it is about, so I did not guess.", in.partText[i])
		default:
			s = p.compose(part, partOutcomes(in, outs, i))
		}
		// A note two parts share (the period's date, the statuses
		// counted) is said once.
		for _, line := range strings.Split(s, "\n") {
			if !slices.Contains(out, line) {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}

// carriedValues are the words of from's values on prod whose columns to
// does not name, to append to to's question.
func carriedValues(from, to *analysis, prod *catalog.Product) string {
	named := map[string]bool{}
	for _, m := range to.ms {
		if m.product == prod && isValueKind(m.kind) {
			named[m.column] = true
		}
	}
	var out string
	seen := map[string]bool{}
	for _, m := range from.ms {
		if m.product != prod || !isValueKind(m.kind) || named[m.column] || seen[m.column+m.value] {
			continue
		}
		seen[m.column+m.value] = true
		for k := m.i; k < m.j; k++ {
			out += " " + from.toks[k].raw
		}
	}
	return out
}
