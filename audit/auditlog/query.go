package auditlog

import (
	"github.com/askmesh/askmesh/audit"
	"strconv"
	"strings"
	"time"
)

// columnNames are the stored columns, in Record order. Both stores use them
// quoted ("groups" and "columns" are keywords in places).
var columnNames = []string{
	"id", "seq", "at", "request_id", "conversation_id", "channel", "subject", "groups",
	"action", "tool", "product", "arguments", "columns", "row_filters", "masks", "decision",
	"reason", "rows_returned", "policy_revision", "model", "question", "duration_ms",
	"prev_hash", "hash", "client_request_id",
}

var quotedColumns = func() string {
	q := make([]string, len(columnNames))
	for i, c := range columnNames {
		q[i] = `"` + c + `"`
	}
	return strings.Join(q, ", ")
}()

// values lays a row out in columnNames order; at is the store's own
// representation of the time.
func (rw *row) values(at any) []any {
	return []any{
		rw.id, rw.seq, at, rw.requestID, rw.conversationID, rw.channel, rw.subject, rw.groups,
		rw.action, rw.tool, rw.product, rw.arguments, rw.columns, rw.rowFilters, rw.masks, rw.decision,
		rw.reason, rw.rowsReturned, rw.policyRevision, rw.model, rw.question, rw.durationMS,
		rw.prevHash, rw.hash, rw.clientReqID,
	}
}

// texts calls fn with the index in columnNames and the value of each text
// column, without boxing them as values does.
func (rw *row) texts(fn func(j int, s string)) {
	for j, s := range [...]string{0: rw.id, 3: rw.requestID, 4: rw.conversationID, 5: rw.channel, 6: rw.subject, 7: rw.groups,
		8: rw.action, 9: rw.tool, 10: rw.product, 11: rw.arguments, 12: rw.columns, 13: rw.rowFilters, 14: rw.masks, 15: rw.decision,
		16: rw.reason, 18: rw.policyRevision, 19: rw.model, 20: rw.question, 22: rw.prevHash, 23: rw.hash, 24: rw.clientReqID} {
		if j != 1 && j != 2 && j != 17 && j != 21 {
			fn(j, s)
		}
	}
}

// scanTargets returns pointers in columnNames order; at is where the store
// scans its time representation.
func (rw *row) scanTargets(at any) []any {
	return []any{
		&rw.id, &rw.seq, at, &rw.requestID, &rw.conversationID, &rw.channel, &rw.subject, &rw.groups,
		&rw.action, &rw.tool, &rw.product, &rw.arguments, &rw.columns, &rw.rowFilters, &rw.masks, &rw.decision,
		&rw.reason, &rw.rowsReturned, &rw.policyRevision, &rw.model, &rw.question, &rw.durationMS,
		&rw.prevHash, &rw.hash, &rw.clientReqID,
	}
}

// dialect is how a store spells placeholders and time values.
type dialect struct {
	placeholder func(n int) string // n counts from 1
	timeArg     func(t time.Time) any
}

var (
	postgresDialect = dialect{
		placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
		timeArg:     func(t time.Time) any { return t },
	}
	sqliteDialect = dialect{
		placeholder: func(int) string { return "?" },
		timeArg:     func(t time.Time) any { return t.UTC().Format(TimeLayout) },
	}
)

// ceilMicro rounds t up to the next microsecond (stored times have
// microsecond precision): at >= t and at >= ceilMicro(t) select the same
// records, and so do at < t and at < ceilMicro(t).
func ceilMicro(t time.Time) time.Time {
	tr := t.Truncate(time.Microsecond)
	if tr.Before(t) {
		tr = tr.Add(time.Microsecond)
	}
	return tr
}

// searchSQL builds the review query over table for q; every value is a
// parameter.
func (d dialect) searchSQL(table string, q audit.Query) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", d.placeholder(len(args))))
	}
	if q.Subject != "" {
		add(`"subject" = ?`, q.Subject)
	}
	if q.Product != "" {
		add(`"product" = ?`, q.Product)
	}
	if q.Decision != "" {
		add(`"decision" = ?`, q.Decision)
	}
	if q.Tool != "" {
		add(`"tool" = ?`, q.Tool)
	}
	if q.RequestID != "" {
		add(`"request_id" = ?`, q.RequestID)
	}
	if !q.Since.IsZero() {
		add(`"at" >= ?`, d.timeArg(ceilMicro(q.Since)))
	}
	if !q.Until.IsZero() {
		add(`"at" < ?`, d.timeArg(ceilMicro(q.Until)))
	}
	if q.AfterSeq > 0 {
		add(`"seq" > ?`, q.AfterSeq)
	}
	var b strings.Builder
	b.WriteString("SELECT " + quotedColumns + " FROM " + table)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if q.Desc {
		b.WriteString(` ORDER BY "seq" DESC`)
	} else {
		b.WriteString(` ORDER BY "seq"`)
	}
	if q.Limit > 0 {
		args = append(args, int64(q.Limit))
		b.WriteString(" LIMIT " + d.placeholder(len(args)))
	}
	return b.String(), args
}

// walkSQL selects rows in seq order, up to upTo when it is positive.
func (d dialect) walkSQL(table string, upTo int64) (string, []any) {
	if upTo > 0 {
		return "SELECT " + quotedColumns + " FROM " + table + ` WHERE "seq" <= ` + d.placeholder(1) + ` ORDER BY "seq"`, []any{upTo}
	}
	return "SELECT " + quotedColumns + " FROM " + table + ` ORDER BY "seq"`, nil
}
