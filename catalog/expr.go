package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Metric expressions are a tiny, safe language: aggregates over columns,
// combined with + - * / and numbers. They are parsed into the AST below,
// which the SQL compilers (SQLite, PostgreSQL) translate; no expression text
// ever reaches a database.
//
//	expr    := term (("+" | "-") term)*
//	term    := factor (("*" | "/") factor)*
//	factor  := number | "-" number | "(" expr ")" | agg
//	agg     := "count" "(" ("*" | column) ")"
//	         | ("count_distinct" | "sum" | "avg" | "min" | "max") "(" column ")"
//	         | "count_if" "(" cond ")"
//	cond    := and ("or" and)*
//	and     := unary ("and" unary)*
//	unary   := "not" unary | "(" cond ")" | column
//	         | column op literal | column ["not"] "in" "(" literal ("," literal)* ")"
//	op      := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//	literal := 'string' ('' escapes a quote) | ["-"] number | true | false
//
// Keywords and function names are case-insensitive; column names are
// lowercase identifiers.

// Expr is a metric expression: *Agg, *Binary or *Number.
type Expr interface {
	String() string
	isExpr()
}

// Cond is a row condition inside count_if: *Compare, *InList, *BoolColumn,
// *Not or *Logical.
type Cond interface {
	String() string
	isCond()
}

// Aggregate functions.
const (
	AggCount         = "count"          // count(*) when Column is empty, else non-null values of Column
	AggCountDistinct = "count_distinct" // distinct non-null values of Column
	AggSum           = "sum"
	AggAvg           = "avg"
	AggMin           = "min"
	AggMax           = "max"
	AggCountIf       = "count_if" // rows for which Cond is true (null counts as false)
)

// Agg is an aggregate over the rows of a group.
type Agg struct {
	Func   string // one of the Agg* constants
	Column string // empty for count(*) and count_if
	Cond   Cond   // count_if only
}

// Binary is Left Op Right, Op one of + - * /. Division is real division:
// compilers must not let integer operands truncate (sum(clicks) /
// sum(impressions) is a ratio), and a zero divisor gives null, not an error.
type Binary struct {
	Op          string
	Left, Right Expr
}

// Number is a numeric constant.
type Number struct {
	Value float64
}

// Compare is Column Op Value. Op is one of = != < <= > >= ("<>" is read as
// "!="). Value is a string, int64, float64 or bool; dates and timestamps
// are strings (YYYY-MM-DD, RFC 3339), checked against the column's type
// when the descriptor is loaded.
type Compare struct {
	Column string
	Op     string
	Value  any
}

// InList is Column [not] in (Values...), values typed as in Compare.
type InList struct {
	Column string
	Not    bool
	Values []any
}

// BoolColumn is a boolean column used as a condition: true rows match.
type BoolColumn struct {
	Column string
}

// Not negates a condition.
type Not struct {
	Cond Cond
}

// Logical is Left and|or Right.
type Logical struct {
	Op          string // "and" or "or"
	Left, Right Cond
}

func (*Agg) isExpr()    {}
func (*Binary) isExpr() {}
func (*Number) isExpr() {}

func (*Compare) isCond()    {}
func (*InList) isCond()     {}
func (*BoolColumn) isCond() {}
func (*Not) isCond()        {}
func (*Logical) isCond()    {}

// Limits keep parsing cheap and the compilers' recursion shallow.
const (
	maxExprLen   = 4096
	maxExprDepth = 32
)

// ExprError is a syntax error in a metric expression. Pos is the 1-based
// character where the fault is.
type ExprError struct {
	Pos int
	Msg string
}

func (e *ExprError) Error() string { return fmt.Sprintf("at character %d: %s", e.Pos, e.Msg) }

// ParseExpr parses a metric expression. It checks grammar only; whether the
// columns exist and have suitable types is checked against a product when
// a descriptor is loaded.
func ParseExpr(s string) (Expr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &ExprError{Pos: 1, Msg: "empty expression"}
	}
	if len(s) > maxExprLen {
		return nil, &ExprError{Pos: maxExprLen + 1, Msg: fmt.Sprintf("expression longer than %d characters", maxExprLen)}
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "expected an operator (+ - * /) or the end, found %s", t.describe())
	}
	if !hasAgg(e) {
		return nil, &ExprError{Pos: 1, Msg: "no aggregate: a metric aggregates rows, e.g. count(*) or sum(amount)"}
	}
	return e, nil
}

// ExprColumns lists the columns an expression reads, each once, in order
// of first appearance.
func ExprColumns(e Expr) []string {
	var out []string
	seen := map[string]bool{}
	add := func(c string) {
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	walkExpr(e, func(a *Agg) { add(a.Column) }, func(c Cond) {
		switch c := c.(type) {
		case *Compare:
			add(c.Column)
		case *InList:
			add(c.Column)
		case *BoolColumn:
			add(c.Column)
		}
	})
	return out
}

// walkExpr visits every aggregate and every leaf condition of e.
func walkExpr(e Expr, agg func(*Agg), leaf func(Cond)) {
	switch e := e.(type) {
	case *Agg:
		agg(e)
		if e.Cond != nil {
			walkCond(e.Cond, leaf)
		}
	case *Binary:
		walkExpr(e.Left, agg, leaf)
		walkExpr(e.Right, agg, leaf)
	}
}

func walkCond(c Cond, leaf func(Cond)) {
	switch c := c.(type) {
	case *Not:
		walkCond(c.Cond, leaf)
	case *Logical:
		walkCond(c.Left, leaf)
		walkCond(c.Right, leaf)
	default:
		leaf(c)
	}
}

func hasAgg(e Expr) bool {
	found := false
	walkExpr(e, func(*Agg) { found = true }, func(Cond) {})
	return found
}

// --- printing: canonical text that parses back to the same tree ---

func (a *Agg) String() string {
	switch {
	case a.Func == AggCountIf:
		return "count_if(" + a.Cond.String() + ")"
	case a.Column == "":
		return a.Func + "(*)"
	}
	return a.Func + "(" + a.Column + ")"
}

func (n *Number) String() string { return formatNumber(n.Value) }

func (b *Binary) String() string {
	prec := opPrec(b.Op)
	left := b.Left.String()
	if l, ok := b.Left.(*Binary); ok && opPrec(l.Op) < prec {
		left = "(" + left + ")"
	}
	right := b.Right.String()
	// a - (b - c) and a / (b * c) need their parentheses; a + (b + c) does not
	// change value, but keeping them keeps the tree identical on re-parsing.
	if r, ok := b.Right.(*Binary); ok && opPrec(r.Op) <= prec {
		right = "(" + right + ")"
	}
	return left + " " + b.Op + " " + right
}

func opPrec(op string) int {
	if op == "*" || op == "/" {
		return 2
	}
	return 1
}

func (c *Compare) String() string { return c.Column + " " + c.Op + " " + formatLiteral(c.Value) }

func (c *InList) String() string {
	vals := make([]string, len(c.Values))
	for i, v := range c.Values {
		vals[i] = formatLiteral(v)
	}
	op := " in ("
	if c.Not {
		op = " not in ("
	}
	return c.Column + op + strings.Join(vals, ", ") + ")"
}

func (c *BoolColumn) String() string { return c.Column }

func (c *Not) String() string {
	if _, ok := c.Cond.(*Logical); ok {
		return "not (" + c.Cond.String() + ")"
	}
	return "not " + c.Cond.String()
}

func (c *Logical) String() string {
	wrap := func(x Cond, right bool) string {
		if l, ok := x.(*Logical); ok && (logicPrec(l.Op) < logicPrec(c.Op) || right && logicPrec(l.Op) == logicPrec(c.Op)) {
			return "(" + x.String() + ")"
		}
		return x.String()
	}
	return wrap(c.Left, false) + " " + c.Op + " " + wrap(c.Right, true)
}

func logicPrec(op string) int {
	if op == "and" {
		return 2
	}
	return 1
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func formatLiteral(v any) string {
	switch v := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		// Keep a float a float when read back: 1.0 must not become int64 1.
		t := formatNumber(v)
		if !strings.ContainsAny(t, ".eE") {
			t += ".0"
		}
		return t
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// --- lexer ---

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tPunct // ( ) , * + - / and comparison operators
)

type token struct {
	kind tokKind
	text string // identifier (as written), operator, number text, or the unquoted string
	pos  int    // 1-based
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the expression"
	case tString:
		return "the string " + formatLiteral(t.text)
	case tNumber:
		return "the number " + t.text
	}
	return strconv.Quote(t.text)
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j], i + 1})
			i = j
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j < len(s) && s[j] == '.' {
				j++
				if j >= len(s) || !isDigit(s[j]) {
					return nil, &ExprError{Pos: j + 1, Msg: "a decimal point must be followed by digits"}
				}
				for j < len(s) && isDigit(s[j]) {
					j++
				}
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				k := j + 1
				if k < len(s) && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if k >= len(s) || !isDigit(s[k]) {
					return nil, &ExprError{Pos: j + 1, Msg: "an exponent must be followed by digits"}
				}
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				j = k
			}
			if j < len(s) && isIdentChar(s[j]) {
				return nil, &ExprError{Pos: j + 1, Msg: fmt.Sprintf("unexpected %q after the number %s", s[j], s[i:j])}
			}
			toks = append(toks, token{tNumber, s[i:j], i + 1})
			i = j
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, &ExprError{Pos: i + 1, Msg: "unterminated string: a quote ' is missing"}
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{tString, b.String(), i + 1})
			i = j + 1
		case c == '"':
			return nil, &ExprError{Pos: i + 1, Msg: `strings are in single quotes ('europe'), not double quotes`}
		default:
			op := ""
			for _, o := range []string{"<=", ">=", "!=", "<>", "==", "(", ")", ",", "*", "+", "-", "/", "=", "<", ">"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &ExprError{Pos: i + 1, Msg: fmt.Sprintf("unexpected character %q", rune0(s[i:]))}
			}
			toks = append(toks, token{tPunct, op, i + 1})
			i += len(op)
		}
	}
	return append(toks, token{kind: tEOF, pos: len(s) + 1}), nil
}

func rune0(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// --- parser ---

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, a ...any) error {
	return &ExprError{Pos: t.pos, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) isPunct(text string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == text
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) expect(text, after string) error {
	if !p.isPunct(text) {
		t := p.peek()
		return p.errAt(t, "expected %q %s, found %s", text, after, t.describe())
	}
	p.next()
	return nil
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > maxExprDepth {
		return p.errAt(t, "nested more than %d levels deep", maxExprDepth)
	}
	return nil
}

func (p *parser) expr() (Expr, error) {
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.isPunct("+") || p.isPunct("-") {
		op := p.next().text
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: op, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) term() (Expr, error) {
	left, err := p.factor()
	if err != nil {
		return nil, err
	}
	for p.isPunct("*") || p.isPunct("/") {
		op := p.next().text
		right, err := p.factor()
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: op, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) factor() (Expr, error) {
	t := p.next()
	switch {
	case t.kind == tNumber:
		v, err := parseFloat(t)
		if err != nil {
			return nil, err
		}
		return &Number{Value: v}, nil
	case t.kind == tPunct && t.text == "-":
		n := p.next()
		if n.kind != tNumber {
			return nil, p.errAt(t, "a minus sign applies only to a number here; write 0 - %s", n.describe())
		}
		v, err := parseFloat(n)
		if err != nil {
			return nil, err
		}
		return &Number{Value: -v}, nil
	case t.kind == tPunct && t.text == "(":
		if err := p.enter(t); err != nil {
			return nil, err
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		p.depth--
		if err := p.expect(")", "to close the parenthesis"); err != nil {
			return nil, err
		}
		return e, nil
	case t.kind == tIdent:
		return p.agg(t)
	}
	return nil, p.errAt(t, "expected a number, an aggregate such as sum(amount), or \"(\", found %s", t.describe())
}

func (p *parser) agg(name token) (Expr, error) {
	fn := strings.ToLower(name.text)
	switch fn {
	case AggCount, AggCountDistinct, AggSum, AggAvg, AggMin, AggMax, AggCountIf:
	default:
		if !p.isPunct("(") {
			return nil, p.errAt(name, "column %s must be inside an aggregate, e.g. sum(%s)", name.text, name.text)
		}
		return nil, p.errAt(name, "unknown function %q; functions are count, count_distinct, sum, avg, min, max, count_if", name.text)
	}
	if err := p.expect("(", "after "+fn); err != nil {
		return nil, err
	}
	a := &Agg{Func: fn}
	switch {
	case fn == AggCountIf:
		c, err := p.cond()
		if err != nil {
			return nil, err
		}
		a.Cond = c
	case fn == AggCount && p.isPunct("*"):
		p.next()
	default:
		if fn == AggCount && p.isKeyword("distinct") {
			return nil, p.errAt(p.peek(), "write count_distinct(column), not count(distinct column)")
		}
		col, err := p.column(fn + "(")
		if err != nil {
			return nil, err
		}
		a.Column = col
	}
	if err := p.expect(")", "to close "+fn+"("); err != nil {
		return nil, err
	}
	return a, nil
}

var reserved = map[string]bool{"and": true, "or": true, "not": true, "in": true, "true": true, "false": true}

// column reads a column name.
func (p *parser) column(after string) (string, error) {
	t := p.next()
	if t.kind != tIdent {
		return "", p.errAt(t, "expected a column name after %s, found %s", after, t.describe())
	}
	if reserved[strings.ToLower(t.text)] {
		return "", p.errAt(t, "expected a column name after %s, found the keyword %q", after, t.text)
	}
	if t.text != strings.ToLower(t.text) {
		return "", p.errAt(t, "column names are lowercase: %q", t.text)
	}
	return t.text, nil
}

func (p *parser) cond() (Cond, error) {
	left, err := p.andCond()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		p.next()
		right, err := p.andCond()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: "or", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) andCond() (Cond, error) {
	left, err := p.unaryCond()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		p.next()
		right, err := p.unaryCond()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: "and", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) unaryCond() (Cond, error) {
	t := p.peek()
	if p.isKeyword("not") {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		c, err := p.unaryCond()
		if err != nil {
			return nil, err
		}
		p.depth--
		return &Not{Cond: c}, nil
	}
	if p.isPunct("(") {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		c, err := p.cond()
		if err != nil {
			return nil, err
		}
		p.depth--
		if err := p.expect(")", "to close the parenthesis"); err != nil {
			return nil, err
		}
		return c, nil
	}
	col, err := p.column("a condition")
	if err != nil {
		return nil, err
	}
	switch op := p.peek(); {
	case op.kind == tPunct && isCompareOp(op.text):
		p.next()
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		o := op.text
		switch o {
		case "<>":
			o = "!="
		case "==":
			o = "="
		}
		return &Compare{Column: col, Op: o, Value: v}, nil
	case p.isKeyword("in"):
		p.next()
		return p.inList(col, false)
	case p.isKeyword("not"):
		p.next()
		if !p.isKeyword("in") {
			t := p.peek()
			return nil, p.errAt(t, "expected \"in\" after \"%s not\", found %s", col, t.describe())
		}
		p.next()
		return p.inList(col, true)
	}
	return &BoolColumn{Column: col}, nil
}

func isCompareOp(s string) bool {
	switch s {
	case "=", "==", "!=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func (p *parser) inList(col string, not bool) (Cond, error) {
	if err := p.expect("(", "after in"); err != nil {
		return nil, err
	}
	l := &InList{Column: col, Not: not}
	for {
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		l.Values = append(l.Values, v)
		if p.isPunct(",") {
			p.next()
			continue
		}
		if err := p.expect(")", "or \",\" in the in list"); err != nil {
			return nil, err
		}
		return l, nil
	}
}

func (p *parser) literal() (any, error) {
	t := p.next()
	switch {
	case t.kind == tString:
		return t.text, nil
	case t.kind == tNumber:
		return numberLiteral(t, false)
	case t.kind == tPunct && t.text == "-":
		n := p.next()
		if n.kind != tNumber {
			return nil, p.errAt(t, "expected a number after \"-\", found %s", n.describe())
		}
		return numberLiteral(n, true)
	case t.kind == tIdent && strings.EqualFold(t.text, "true"):
		return true, nil
	case t.kind == tIdent && strings.EqualFold(t.text, "false"):
		return false, nil
	case t.kind == tIdent:
		return nil, p.errAt(t, "expected a value, found %s; quote strings: '%s'", t.describe(), t.text)
	}
	return nil, p.errAt(t, "expected a value ('text', a number, true or false), found %s", t.describe())
}

// numberLiteral keeps whole numbers as int64 so that they bind exactly to
// integer columns.
func numberLiteral(t token, neg bool) (any, error) {
	if !strings.ContainsAny(t.text, ".eE") {
		text := t.text
		if neg {
			text = "-" + text
		}
		if v, err := strconv.ParseInt(text, 10, 64); err == nil {
			return v, nil
		}
	}
	v, err := parseFloat(t)
	if err != nil {
		return nil, err
	}
	if neg {
		v = -v
	}
	return v, nil
}

func parseFloat(t token) (float64, error) {
	v, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, &ExprError{Pos: t.pos, Msg: fmt.Sprintf("number %s is out of range", t.text)}
	}
	return v, nil
}
