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
}

// Table is a tool result shown as a table.
type Table struct {
	Title     string               `json:"title"`
	Columns   []tools.ResultColumn `json:"columns"`
	Rows      [][]any              `json:"rows"`
	TotalRows int64                `json:"total_rows"` // rows matching, when more exist than shown
	Source    Source               `json:"source"`
	Notes     []string             `json:"notes,omitempty"`
}

// Chart kinds.
const (
	ChartLine = "line"
	ChartBar  = "bar"
)

// Chart is a chart spec; channels render it (SVG in the web chat, PNG in Slack).
type Chart struct {
	Kind   string   `json:"kind"`
	Title  string   `json:"title"`
	XLabel string   `json:"x_label"`
	YLabel string   `json:"y_label"`
	Unit   string   `json:"unit,omitempty"`
	Series []Series `json:"series"`
	Source Source   `json:"source"`
}

// Series is one line or set of bars.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// Point is one x (a period or a category) and its value.
type Point struct {
	X string  `json:"x"`
	Y float64 `json:"y"`
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
