package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/audit"
)

// AuditProduct is the data product the audit log is published as.
const AuditProduct = "access-audit"

// AuditReview is the read-only port every audit review surface (the web
// page and its API, exports, reports) reads the log through. Each read is
// first a call on the access-audit product through the runner: policy
// decides, masks and withheld columns apply, and the read is itself
// recorded. Only what that call released leaves this type; the store is
// read only to add what needs the whole record (the hash check, the chain
// walk, a full record for a reviewer who may see every column of it).
type AuditReview struct {
	run   Runner
	store audit.Store
	hash  func(*audit.Record) string
}

// NewAuditReview returns the review port over run (the executor, within
// the users' budgets) and the audit store it writes; hash computes a
// record's chain hash (auditlog.ComputeHash).
func NewAuditReview(run Runner, store audit.Store, hash func(*audit.Record) string) *AuditReview {
	return &AuditReview{run: run, store: store, hash: hash}
}

// recordFields are the audit record's fields, as the access-audit
// product's columns name them.
var recordFields = func() []string {
	t := reflect.TypeFor[audit.Record]()
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}()

// Released is one audit record as its reviewer may see it. When every
// column was released unmasked it is the stored record itself (its JSON is
// audit.Record's, so its hash can be checked); otherwise only the released
// columns, masked as policy says, and Withheld names the rest.
type Released struct {
	Full     *audit.Record
	Columns  []string // released columns, in the product's order
	Fields   map[string]any
	Withheld []string // columns withheld or masked for this reviewer
}

// MarshalJSON is the full record, or the released fields only.
func (r Released) MarshalJSON() ([]byte, error) {
	if r.Full != nil {
		return json.Marshal(r.Full)
	}
	return json.Marshal(r.Fields)
}

// AuditFields are the audit record's fields in order: the columns of a
// complete record.
func AuditFields() []string { return append([]string(nil), recordFields...) }

// Complete reports whether the reviewer saw the whole record.
func (r Released) Complete() bool { return r.Full != nil }

func (a *AuditReview) call(ctx context.Context, c Caller, tool string, args any) (*Result, error) {
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("encode %s arguments: %w", tool, err)
	}
	return a.run.Call(ctx, c, Call{Tool: tool, Arguments: raw})
}

// List reads one page of the log for c: the executor's result as is.
func (a *AuditReview) List(ctx context.Context, c Caller, args QueryRecordsArgs) (*Result, error) {
	args.Product = AuditProduct
	return a.call(ctx, c, ToolQueryRecords, args)
}

// RecordDetail is one record opened for review.
type RecordDetail struct {
	Record Released
	// HashMatches says whether the stored record still hashes to its stored
	// hash. It is computed from the whole record, and says nothing of the
	// withheld columns beyond that.
	HashMatches bool
	AuditID     string
}

// ErrInconsistent is a record the product released but the store does not
// hold at its seq: someone altered the table.
var ErrInconsistent = errors.New("the audit product and the store disagree; verify the chain")

// Record opens one record for c, or returns nil when c may see no record
// with that id.
func (a *AuditReview) Record(ctx context.Context, c Caller, id string) (*RecordDetail, error) {
	res, err := a.call(ctx, c, ToolGetRecord, GetRecordArgs{Product: AuditProduct, ID: id})
	if err != nil {
		return nil, err
	}
	rows := released(res)
	if len(rows) == 0 {
		return &RecordDetail{AuditID: res.AuditID}, nil
	}
	full, err := a.stored(ctx, rows[0])
	if err != nil {
		return nil, err
	}
	d := &RecordDetail{Record: rows[0], HashMatches: a.hash(full) == full.Hash, AuditID: res.AuditID}
	if d.Record.Complete() {
		d.Record.Full = full
	}
	return d, nil
}

// stored loads the stored record a released row names.
func (a *AuditReview) stored(ctx context.Context, r Released) (*audit.Record, error) {
	id, _ := r.Fields["id"].(string)
	seq, err := toInt64(r.Fields["seq"])
	if err != nil || id == "" {
		return nil, fmt.Errorf("audit review: a released record lacks its id or seq: %w", ErrInconsistent)
	}
	recs, err := a.store.Search(ctx, audit.Query{AfterSeq: seq - 1, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("audit review: %w", err)
	}
	if len(recs) == 0 || recs[0].ID != id {
		return nil, fmt.Errorf("audit record %s at seq %d: %w", id, seq, ErrInconsistent)
	}
	return &recs[0], nil
}

// released turns a query_records or get_record result into records,
// marking whether each is complete: every column of the record released
// and none masked.
func released(res *Result) []Released {
	cols := make([]string, len(res.Columns))
	have := map[string]bool{}
	for i, c := range res.Columns {
		cols[i] = c.Name
		have[c.Name] = true
	}
	var withheld []string
	for _, name := range recordFields {
		if !have[name] {
			withheld = append(withheld, name)
		} else if _, masked := res.Masked[name]; masked {
			withheld = append(withheld, name)
		}
	}
	out := make([]Released, 0, len(res.Rows))
	for _, row := range res.Rows {
		f := make(map[string]any, len(cols))
		for i, name := range cols {
			if i < len(row) {
				f[name] = row[i]
			}
		}
		r := Released{Columns: cols, Fields: f, Withheld: withheld}
		if len(withheld) == 0 {
			r.Full = &audit.Record{} // filled from the store by the caller
		}
		out = append(out, r)
	}
	return out
}

// Export pages through the records args select (ascending seq, at most
// maxRecords) and hands each page's released records to fn. truncated
// reports that more matched.
func (a *AuditReview) Export(ctx context.Context, c Caller, args QueryRecordsArgs, maxRecords int, fn func([]Released) error) (truncated bool, err error) {
	args.Product, args.Columns, args.Limit = AuditProduct, nil, MaxLimit
	n := 0
	for {
		res, err := a.call(ctx, c, ToolQueryRecords, args)
		if err != nil {
			return false, err
		}
		page := released(res)
		if err := a.fill(ctx, page); err != nil {
			return false, err
		}
		if err := fn(page); err != nil {
			return false, err
		}
		n += len(page)
		if res.NextCursor == "" {
			return false, nil
		}
		if n >= maxRecords {
			return true, nil
		}
		args.Cursor = res.NextCursor
	}
}

// fill loads the stored records of a page's complete records with one
// bounded scan over their seq range, instead of one read each.
func (a *AuditReview) fill(ctx context.Context, page []Released) error {
	want := map[string]int{}
	lo, hi := int64(-1), int64(0)
	for i := range page {
		if page[i].Full == nil {
			continue
		}
		id, _ := page[i].Fields["id"].(string)
		seq, err := toInt64(page[i].Fields["seq"])
		if err != nil || id == "" {
			return fmt.Errorf("audit review: a released record lacks its id or seq: %w", ErrInconsistent)
		}
		want[id] = i
		if lo < 0 || seq < lo {
			lo = seq
		}
		hi = max(hi, seq)
	}
	if len(want) == 0 {
		return nil
	}
	q := audit.Query{AfterSeq: lo - 1, Limit: MaxLimit}
	for found := 0; found < len(want); {
		recs, err := a.store.Search(ctx, q)
		if err != nil {
			return fmt.Errorf("audit review: %w", err)
		}
		for j := range recs {
			if recs[j].Seq > hi {
				break
			}
			if i, ok := want[recs[j].ID]; ok {
				page[i].Full = &recs[j]
				found++
			}
			q.AfterSeq = recs[j].Seq
		}
		if len(recs) < q.Limit || q.AfterSeq >= hi {
			break
		}
	}
	for id, i := range want {
		if page[i].Full.ID != id {
			return fmt.Errorf("audit record %s: %w", id, ErrInconsistent)
		}
	}
	return nil
}

// Verify walks the chain for c, who must be allowed to count the log's
// records: the walk reads every record. It returns the walk and the audit
// id of c's read.
func (a *AuditReview) Verify(ctx context.Context, c Caller) (audit.VerifyResult, string, error) {
	res, err := a.call(ctx, c, ToolQueryMetrics, QueryMetricsArgs{Product: AuditProduct, Metrics: []string{"access_count"}})
	if err != nil {
		return audit.VerifyResult{}, "", err
	}
	vr, err := a.store.Verify(ctx)
	if err != nil {
		return vr, res.AuditID, fmt.Errorf("verify the audit chain: %w", err)
	}
	return vr, res.AuditID, nil
}

// Head is the chain's last seq (0 when empty): listings page up to it, so
// the reads they record do not shift their own pages. It reveals a count,
// nothing of any record.
func (a *AuditReview) Head(ctx context.Context) (int64, error) {
	recs, err := a.store.Search(ctx, audit.Query{Desc: true, Limit: 1})
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	return recs[0].Seq, nil
}

func toInt64(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case float64:
		return int64(n), nil
	case json.Number:
		return n.Int64()
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}
