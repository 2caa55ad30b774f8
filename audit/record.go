// Package audit keeps the tamper-evident log of every tool call: who asked,
// what was asked for, what policy decided and what was returned. Records are
// hash-chained; stores are append-only and a call's data is released only
// after its record is durably committed.
package audit

import (
	"context"
	"encoding/json"
	"time"
)

// Decisions.
const (
	DecisionAllow = "allow"
	DecisionDeny  = "deny"
	DecisionError = "error"
)

// Filter is a row filter applied to a call, as recorded.
type Filter struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Value  any    `json:"value"`
}

// Record is one audit entry. Seq, PrevHash and Hash are assigned by the
// store when the record joins the chain; everything else by the caller.
type Record struct {
	ID             string            `json:"id"`
	Seq            int64             `json:"seq"`
	At             time.Time         `json:"at"`
	RequestID      string            `json:"request_id"`
	ConversationID string            `json:"conversation_id"`
	Channel        string            `json:"channel"`
	Subject        string            `json:"subject"`
	Groups         []string          `json:"groups"`
	Action         string            `json:"action"`
	Tool           string            `json:"tool"`
	Product        string            `json:"product"`
	Arguments      json.RawMessage   `json:"arguments"` // canonical JSON
	Columns        []string          `json:"columns"`
	RowFilters     []Filter          `json:"row_filters"`
	Masks          map[string]string `json:"masks"`
	Decision       string            `json:"decision"`
	Reason         string            `json:"reason"`
	RowsReturned   int               `json:"rows_returned"`
	PolicyRevision string            `json:"policy_revision"`
	Model          string            `json:"model"`
	Question       string            `json:"question"`
	DurationMS     int64             `json:"duration_ms"`
	PrevHash       string            `json:"prev_hash"`
	Hash           string            `json:"hash"`
	// ClientRequestID is the id a client sent for its own tracing
	// (X-Request-Id), kept apart from RequestID, which askmesh issues: a
	// client cannot reuse another's id to mix calls into their request.
	// Last, and left out of the canonical form when empty, so records
	// written before it existed keep their hashes.
	ClientRequestID string `json:"client_request_id,omitempty"`
}

// Query selects records for review. Zero fields do not filter.
type Query struct {
	Subject  string
	Product  string
	Decision string
	Tool     string
	// RequestID selects the records of one request (one answer's calls).
	RequestID string
	Since     time.Time // inclusive
	Until     time.Time // exclusive
	AfterSeq  int64     // records with Seq > AfterSeq (for tail -f and paging)
	Limit     int       // 0 means no limit
	Desc      bool      // newest first
}

// VerifyResult is the outcome of walking the chain.
type VerifyResult struct {
	OK      bool   `json:"ok"`
	Records int64  `json:"records"`
	HeadSeq int64  `json:"head_seq"`
	Head    string `json:"head_hash"`
	// BrokenSeq and BrokenID name the first record whose hash or link does
	// not match, when OK is false; Problem says what is wrong with it.
	BrokenSeq int64  `json:"broken_seq,omitempty"`
	BrokenID  string `json:"broken_id,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

// Store is an append-only, hash-chained audit log.
type Store interface {
	// Append chains the record and returns once it is durably committed,
	// filling Seq, PrevHash and Hash. On error nothing was committed and the
	// caller must not release the data the record describes.
	Append(ctx context.Context, rec *Record) error
	// Search returns the records matching q, in Seq order (or reverse).
	Search(ctx context.Context, q Query) ([]Record, error)
	// Verify walks the whole chain from the first record.
	Verify(ctx context.Context) (VerifyResult, error)
	// Ping reports whether the store can take appends (readiness).
	Ping(ctx context.Context) error
	Close() error
}
