package catalog_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/askmesh/askmesh/catalog"
)

func TestParseExprTrees(t *testing.T) {
	t.Parallel()
	type (
		agg     = catalog.Agg
		bin     = catalog.Binary
		num     = catalog.Number
		cmp     = catalog.Compare
		in      = catalog.InList
		boolCol = catalog.BoolColumn
		not     = catalog.Not
		logical = catalog.Logical
	)
	tests := []struct {
		in        string
		want      catalog.Expr
		canonical string
		columns   []string
	}{
		{"count(*)", &agg{Func: "count"}, "count(*)", nil},
		{"COUNT( * )", &agg{Func: "count"}, "count(*)", nil},
		{"sum(amount)", &agg{Func: "sum", Column: "amount"}, "sum(amount)", []string{"amount"}},
		{"count(account_id)", &agg{Func: "count", Column: "account_id"}, "count(account_id)", []string{"account_id"}},
		{"count_distinct(customer_id)", &agg{Func: "count_distinct", Column: "customer_id"}, "count_distinct(customer_id)", []string{"customer_id"}},
		{"avg(a) + min(b) - max(c)",
			&bin{Op: "-", Left: &bin{Op: "+", Left: &agg{Func: "avg", Column: "a"}, Right: &agg{Func: "min", Column: "b"}}, Right: &agg{Func: "max", Column: "c"}},
			"avg(a) + min(b) - max(c)", []string{"a", "b", "c"}},
		// * binds tighter than +; parentheses override.
		{"sum(a) + sum(b) * 2",
			&bin{Op: "+", Left: &agg{Func: "sum", Column: "a"}, Right: &bin{Op: "*", Left: &agg{Func: "sum", Column: "b"}, Right: &num{Value: 2}}},
			"sum(a) + sum(b) * 2", []string{"a", "b"}},
		{"(sum(a) + sum(b)) * 2",
			&bin{Op: "*", Left: &bin{Op: "+", Left: &agg{Func: "sum", Column: "a"}, Right: &agg{Func: "sum", Column: "b"}}, Right: &num{Value: 2}},
			"(sum(a) + sum(b)) * 2", []string{"a", "b"}},
		{"sum(a) - (sum(b) - sum(a))",
			&bin{Op: "-", Left: &agg{Func: "sum", Column: "a"}, Right: &bin{Op: "-", Left: &agg{Func: "sum", Column: "b"}, Right: &agg{Func: "sum", Column: "a"}}},
			"sum(a) - (sum(b) - sum(a))", []string{"a", "b"}},
		{"100 * count_if(resolved) / count(*)",
			&bin{Op: "/", Left: &bin{Op: "*", Left: &num{Value: 100}, Right: &agg{Func: "count_if", Cond: &boolCol{Column: "resolved"}}}, Right: &agg{Func: "count"}},
			"100 * count_if(resolved) / count(*)", []string{"resolved"}},
		{"sum(x) * -1.5", &bin{Op: "*", Left: &agg{Func: "sum", Column: "x"}, Right: &num{Value: -1.5}}, "sum(x) * -1.5", []string{"x"}},
		{"count_if(status in ('approved', 'funded'))",
			&agg{Func: "count_if", Cond: &in{Column: "status", Values: []any{"approved", "funded"}}},
			"count_if(status in ('approved', 'funded'))", []string{"status"}},
		{"count_if(status NOT IN ('rejected'))",
			&agg{Func: "count_if", Cond: &in{Column: "status", Not: true, Values: []any{"rejected"}}},
			"count_if(status not in ('rejected'))", []string{"status"}},
		{"count_if(name = 'O''Brien')", &agg{Func: "count_if", Cond: &cmp{Column: "name", Op: "=", Value: "O'Brien"}},
			"count_if(name = 'O''Brien')", []string{"name"}},
		{"count_if(score >= 700 and score < -1.0e3)",
			&agg{Func: "count_if", Cond: &logical{Op: "and", Left: &cmp{Column: "score", Op: ">=", Value: int64(700)}, Right: &cmp{Column: "score", Op: "<", Value: -1000.0}}},
			"count_if(score >= 700 and score < -1000.0)", []string{"score"}},
		{"count_if(a <> 1 or b == true and not c)",
			&agg{Func: "count_if", Cond: &logical{Op: "or",
				Left:  &cmp{Column: "a", Op: "!=", Value: int64(1)},
				Right: &logical{Op: "and", Left: &cmp{Column: "b", Op: "=", Value: true}, Right: &not{Cond: &boolCol{Column: "c"}}}}},
			"count_if(a != 1 or b = true and not c)", []string{"a", "b", "c"}},
		{"count_if((a or b) and not (c and d))",
			&agg{Func: "count_if", Cond: &logical{Op: "and",
				Left:  &logical{Op: "or", Left: &boolCol{Column: "a"}, Right: &boolCol{Column: "b"}},
				Right: &not{Cond: &logical{Op: "and", Left: &boolCol{Column: "c"}, Right: &boolCol{Column: "d"}}}}},
			"count_if((a or b) and not (c and d))", []string{"a", "b", "c", "d"}},
		{"count_if(status in ('approved', 'funded')) / count_if(status in ('approved', 'funded', 'rejected'))",
			&bin{Op: "/",
				Left:  &agg{Func: "count_if", Cond: &in{Column: "status", Values: []any{"approved", "funded"}}},
				Right: &agg{Func: "count_if", Cond: &in{Column: "status", Values: []any{"approved", "funded", "rejected"}}}},
			"count_if(status in ('approved', 'funded')) / count_if(status in ('approved', 'funded', 'rejected'))", []string{"status"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := catalog.ParseExpr(tt.in)
			if err != nil {
				t.Fatalf("ParseExpr: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tree = %#v, want %#v", got, tt.want)
			}
			if s := got.String(); s != tt.canonical {
				t.Errorf("String() = %q, want %q", s, tt.canonical)
			}
			if cols := catalog.ExprColumns(got); !reflect.DeepEqual(cols, tt.columns) {
				t.Errorf("ExprColumns = %q, want %q", cols, tt.columns)
			}
		})
	}
}

func TestParseExprErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "at character 1: empty expression"},
		{"sum(amount", `at character 11: expected ")" to close sum(, found the end of the expression`},
		{"sum(amount))", `at character 12: expected an operator (+ - * /) or the end, found ")"`},
		{"amount", "at character 1: column amount must be inside an aggregate, e.g. sum(amount)"},
		{"sum(amount) / amount", "at character 15: column amount must be inside an aggregate, e.g. sum(amount)"},
		{"median(amount)", `at character 1: unknown function "median"; functions are count, count_distinct, sum, avg, min, max, count_if`},
		{"count(distinct a)", "at character 7: write count_distinct(column), not count(distinct column)"},
		{"sum(*)", `at character 5: expected a column name after sum(, found "*"`},
		{"sum(Amount)", `at character 5: column names are lowercase: "Amount"`},
		{"42", "at character 1: no aggregate: a metric aggregates rows, e.g. count(*) or sum(amount)"},
		{"count_if(status = approved)", "at character 19: expected a value, found \"approved\"; quote strings: 'approved'"},
		{`count_if(status = "approved")`, "at character 19: strings are in single quotes ('europe'), not double quotes"},
		{"count_if(status = 'approved)", "at character 19: unterminated string: a quote ' is missing"},
		{"count_if(status in ())", `at character 21: expected a value ('text', a number, true or false), found ")"`},
		{"count_if(status not like 'a')", `at character 21: expected "in" after "status not", found "like"`},
		{"count_if(and)", `at character 10: expected a column name after a condition, found the keyword "and"`},
		{"sum(a) % 2", `at character 8: unexpected character '%'`},
		{"sum(a) * 1.", "at character 12: a decimal point must be followed by digits"},
		{"sum(a) * 1e", "at character 11: an exponent must be followed by digits"},
		{"sum(a) * 1e999", "at character 10: number 1e999 is out of range"},
		{"sum(a) * 2x", "at character 11: unexpected 'x' after the number 2"},
		{"-sum(a)", `at character 1: a minus sign applies only to a number here; write 0 - "sum"`},
		{"sum(a) +", "at character 9: expected a number, an aggregate such as sum(amount), or \"(\", found the end of the expression"},
		{strings.Repeat("(", 40) + "count(*)" + strings.Repeat(")", 40), "at character 33: nested more than 32 levels deep"},
		{"count_if(" + strings.Repeat("not ", 40) + "a)", "at character 138: nested more than 32 levels deep"},
		{"sum(a) + " + strings.Repeat("1+", 3000) + "1", "at character 4097: expression longer than 4096 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := catalog.ParseExpr(tt.in)
			if err == nil {
				t.Fatalf("ParseExpr = %v, want error %q", e, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\n         want %q", err.Error(), tt.want)
			}
			var ee *catalog.ExprError
			if !errors.As(err, &ee) {
				t.Errorf("error is %T, want *catalog.ExprError", err)
			}
		})
	}
}

// FuzzParseExpr: no input panics; errors say where; whatever parses prints
// as text that parses back to the same tree.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		"count(*)", "sum(amount) / count(*)", "count_if(status in ('approved', 'funded'))",
		"count_if(a = 'x''y' and not (b or c != -1.5e3))", "(sum(a) - 2) * avg(b)", "count_if(resolved) / count(*)",
		"sum(", "count_if(x not in (1, 2, true))", "max(a)--1", "'", "((((", "1e+", "count_if(not not a)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := catalog.ParseExpr(s)
		if err != nil {
			var ee *catalog.ExprError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is %T, want *ExprError", err, err)
			}
			if ee.Pos < 1 || ee.Pos > len(s)+1 || ee.Msg == "" {
				t.Fatalf("error %q has position %d outside 1..%d or no message", err, ee.Pos, len(s)+1)
			}
			return
		}
		text := e.String()
		again, err := catalog.ParseExpr(text)
		if err != nil {
			t.Fatalf("%q parsed, but its canonical form %q does not: %v", s, text, err)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("%q: canonical form %q parses to a different tree", s, text)
		}
		catalog.ExprColumns(e)
	})
}
