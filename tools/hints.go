package tools

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// A planning error that would name what a product holds (its columns, a
// column's values, its dimensions, products near a misspelt name) is a
// hintError: its message is written only once policy has said what the
// asker may see, so that a person policy refuses cannot map the catalog
// through error messages (issue 14, finding 6).

// view is what one asker may see of a product: the columns its describe
// decision shows (in clear or masked), and those shown in clear, whose
// values may be named.
type view struct {
	shown func(col string) bool
	clear func(col string) bool
}

// operatorView sees everything: catalog checks (CheckCall) that have no
// asker, for the people who wrote the descriptors.
var operatorView = view{shown: func(string) bool { return true }, clear: func(string) bool { return true }}

// viewOf is the view a describe decision gives of p.
func viewOf(p *catalog.Product, d authz.Decision) view {
	shown := func(col string) bool {
		meta, ok := p.Column(col)
		return ok && d.Allow && meta.Classification != catalog.ClassRestricted && !slices.Contains(d.DeniedColumns, col)
	}
	return view{shown: shown, clear: func(col string) bool {
		_, masked := d.ColumnMasks[col]
		return shown(col) && !masked
	}}
}

// hintError is a planning error whose message depends on the view. Column
// is the column it is about, if it names one the call used: an asker who
// may not see that column in clear is refused as the valid call would be,
// so the error cannot tell them anything about its values or type.
type hintError struct {
	column string
	render func(v view) string
}

func (e *hintError) Error() string { return e.render(operatorView) }

func hint(column string, render func(v view) string) error {
	return &hintError{column: column, render: render}
}

// about marks err as a fault of the named column's use, so it is decided
// like the call that uses the column.
func about(column string, err error) error {
	var h *hintError
	if errors.As(err, &h) {
		if h.column == "" {
			h.column = column
		}
		return h
	}
	return hint(column, func(view) string { return err.Error() })
}

// visibleNames keeps the names v shows.
func visibleNames(names []string, keep func(string) bool) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}

func unknownColumn(p *catalog.Product, name string) error {
	return hint("", func(v view) string {
		cols := visibleNames(p.ColumnNames(), v.shown)
		if s, ok := catalog.Closest(name, cols); ok {
			return fmt.Sprintf("unknown column %q in %s; did you mean %q?", name, p.Name, s)
		}
		if len(cols) == 0 {
			return fmt.Sprintf("unknown column %q in %s", name, p.Name)
		}
		return fmt.Sprintf("unknown column %q in %s; columns are %s", name, p.Name, strings.Join(cols, ", "))
	})
}

// notAValue is a string that is none of an enumerated column's values.
func notAValue(p *catalog.Product, col catalog.Column, s string) error {
	return hint(col.Name, func(v view) string {
		if !v.clear(col.Name) {
			return fmt.Sprintf("%q is not a value of %s.%s", s, p.Name, col.Name)
		}
		if s2, ok := catalog.Closest(s, col.Values); ok {
			return fmt.Sprintf("%q is not a value of %s.%s; did you mean %q? values are %s", s, p.Name, col.Name, s2, strings.Join(col.Values, ", "))
		}
		return fmt.Sprintf("%q is not a value of %s.%s; values are %s", s, p.Name, col.Name, strings.Join(col.Values, ", "))
	})
}

// notADimension is a group_by column the product cannot be grouped by.
func notADimension(p *catalog.Product, g string) error {
	return hint(g, func(v view) string {
		dims := visibleNames(p.Dimensions, v.clear)
		if len(dims) == 0 {
			return fmt.Sprintf("%s is not a dimension of %s", g, p.Name)
		}
		return fmt.Sprintf("%s is not a dimension of %s; group by one of %s", g, p.Name, strings.Join(dims, ", "))
	})
}
