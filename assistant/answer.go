package assistant

import (
	"encoding/json"
	"time"

	"github.com/askmesh/askmesh/tools"
)

// Request is one question from one person.
type Request struct {
	Caller   tools.Caller // who asks, from where; Caller.ConversationID threads follow-ups
	Question string
}

// Answer is what askmesh says back: text for people, and the tables, charts,
// sources and denials behind it for channels to render.
type Answer struct {
	ConversationID string           `json:"conversation_id"`
	RequestID      string           `json:"request_id"`
	Text           string           `json:"text"`
	Tables         []Table          `json:"tables,omitempty"`
	Charts         []Chart          `json:"charts,omitempty"`
	Sources        []Source         `json:"sources,omitempty"`
	Denials        []Denial         `json:"denials,omitempty"`
	ToolCalls      []ToolCallRecord `json:"tool_calls,omitempty"`
	Model          string           `json:"model"`
	Usage          Usage            `json:"usage"`
	Steps          int              `json:"steps"`
	// Flags are warnings about the answer itself, e.g. a number in the text
	// that no tool returned.
	Flags []string `json:"flags,omitempty"`

	// Outcome says what kind of answer this is before anyone reads a number:
	// answered, partial, declined or clarify (see the Outcome constants).
	Outcome string `json:"outcome,omitempty"`
	// Unmatched names the concepts of the question that matched nothing in
	// the catalog ("default rate"); nothing is computed in their place.
	Unmatched []string `json:"unmatched,omitempty"`
	// Clarification is a question back to the asker when two readings fit.
	Clarification *Clarification `json:"clarification,omitempty"`
	// Provenance traces each number shown to the call that produced it.
	Provenance []Provenance `json:"provenance,omitempty"`
	// Computed says in plain words how each data call of the answer was
	// computed: product, metrics and definitions, filters (the asker's and
	// policy's), period, audit record, and the call itself.
	Computed []Computation `json:"computed,omitempty"`
	// Verified is set when the answer follows a question its product's
	// owners verified; it was still authorized and audited for this asker.
	Verified *Verified `json:"verified,omitempty"`
	// Brief is set on an executive brief: the same figures as the text,
	// laid out as cards (see Brief).
	Brief *Brief `json:"brief,omitempty"`
}

// Outcomes of an answer.
const (
	OutcomeAnswered = "answered" // every part of the question answered
	OutcomePartial  = "partial"  // some parts answered; the rest named in Unmatched
	OutcomeDeclined = "declined" // nothing computed: no match in the catalog, or nothing the asker may see
	OutcomeClarify  = "clarify"  // a question back, with choices
)

// Clarification asks back when a question has more than one reading.
type Clarification struct {
	Question string                `json:"question"`
	Options  []ClarificationOption `json:"options"`
}

// ClarificationOption is one reading. Choosing it sends Question as the
// next question, which is unambiguous by construction: a chosen option
// answers and never asks back again.
type ClarificationOption struct {
	Label    string `json:"label"`
	Question string `json:"question"`
}

// Provenance is where one number shown came from: product, metric and its
// definition, the filters (the asker's and the ones policy added), the
// period (partial when not over yet), the unit and the audit record.
type Provenance struct {
	Value      string             `json:"value"`           // as shown
	Label      string             `json:"label,omitempty"` // what the answer calls it
	Product    string             `json:"product"`
	Metric     string             `json:"metric,omitempty"`
	Definition string             `json:"definition,omitempty"`
	Filters    []ProvenanceFilter `json:"filters,omitempty"`
	Period     string             `json:"period,omitempty"`
	Partial    bool               `json:"partial,omitempty"`
	Unit       string             `json:"unit,omitempty"`
	AuditID    string             `json:"audit_id"`
}

// ProvenanceFilter is one filter behind a number; Origin is "question"
// (the asker's) or "policy" (a row filter policy added).
type ProvenanceFilter struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Value  any    `json:"value"`
	Origin string `json:"origin"`
}

// Verified marks an answer built from a question its owners verified.
type Verified struct {
	Question   string `json:"question"`
	Product    string `json:"product"`
	VerifiedBy string `json:"verified_by"`
	VerifiedAt string `json:"verified_at"`
}

// Table is a tool result shown as a table.
type Table struct {
	Title   string               `json:"title"`
	Columns []tools.ResultColumn `json:"columns"`
	Rows    [][]any              `json:"rows"`
	// Display is each cell as people read it (rates as percentages,
	// amounts with their currency); channels show these, not raw values.
	Display   [][]string `json:"display,omitempty"`
	TotalRows int64      `json:"total_rows"` // rows matching, when more exist than shown
	Source    Source     `json:"source"`
	Notes     []string   `json:"notes,omitempty"`
}

// Chart kinds.
const (
	ChartLine = "line"
	ChartBar  = "bar"
)

// Chart is a chart spec; channels render it (SVG in the web chat, PNG in Slack).
type Chart struct {
	Kind string `json:"kind"`
	// Stacked draws a bar chart's series stacked rather than side by side.
	Stacked bool     `json:"stacked,omitempty"`
	Title   string   `json:"title"`
	XLabel  string   `json:"x_label"`
	YLabel  string   `json:"y_label"`
	Unit    string   `json:"unit,omitempty"`
	Series  []Series `json:"series"`
	Source  Source   `json:"source"`
}

// Series is one line or set of bars.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// Point is one x (a period or a category) and its value. Partial: the
// period is not over yet (drawn hollow or dashed, never as a fall).
type Point struct {
	X       string  `json:"x"`
	Y       float64 `json:"y"`
	Partial bool    `json:"partial,omitempty"`
}

// Source is where a number came from: the product, the call and its audit record.
type Source struct {
	Product   string          `json:"product"`
	Domain    string          `json:"domain,omitempty"`
	Owner     string          `json:"owner,omitempty"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	AuditID   string          `json:"audit_id"`
	TimeRange *tools.Range    `json:"time_range,omitempty"`
}

// Denial is a call policy refused, with the reason for the person asking.
type Denial struct {
	Product string `json:"product,omitempty"`
	Tool    string `json:"tool"`
	Reason  string `json:"reason"`
	AuditID string `json:"audit_id"`
}

// ToolCallRecord is one tool call made while answering.
type ToolCallRecord struct {
	ID         string          `json:"id"`
	Tool       string          `json:"tool"`
	Product    string          `json:"product,omitempty"`
	Arguments  json.RawMessage `json:"arguments"`
	Decision   string          `json:"decision,omitempty"` // allow, deny, error
	Error      string          `json:"error,omitempty"`
	AuditID    string          `json:"audit_id,omitempty"`
	RowCount   int             `json:"row_count"`
	DurationMS int64           `json:"duration_ms"`
}

// Event types a streaming answer emits, in this order: thinking, then for
// each call tool_started and tool_finished, text deltas, and one answer (or
// one error) last.
const (
	EventThinking     = "thinking"
	EventToolStarted  = "tool_started"
	EventToolFinished = "tool_finished"
	EventText         = "text"
	EventAnswer       = "answer"
	EventError        = "error"
)

// Event is one step of a streaming answer.
type Event struct {
	Type     string          `json:"type"`
	At       time.Time       `json:"at"`
	Text     string          `json:"text,omitempty"`
	ToolCall *ToolCallRecord `json:"tool_call,omitempty"`
	Answer   *Answer         `json:"answer,omitempty"`
	Error    string          `json:"error,omitempty"`
}
