package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/tools"
)

// The audit review page and its API. Who may use it is policy's business,
// not this file's: every endpoint first reads the access-audit product
// through the executor, which decides on the caller's behalf and records
// the read (or the refusal) in the very log being reviewed. The full detail
// of a record, the chain walk and the export then come from the audit store,
// but only for records the executor has just released to the caller.

// AuditProduct is the data product the audit log is published as.
const AuditProduct = "access-audit"

// auditReader is what the review needs of the audit store beyond Ping;
// audit.Store implements it.
type auditReader interface {
	Search(ctx context.Context, q audit.Query) ([]audit.Record, error)
	Verify(ctx context.Context) (audit.VerifyResult, error)
}

const (
	auditPageSize    = 50
	auditMaxPageSize = 500
	// auditExportMax bounds one export; narrow the filters for more.
	auditExportMax = 100_000
)

// auditListColumns are the columns the review table shows.
var auditListColumns = []string{"id", "seq", "at", "subject", "tool", "product", "decision", "reason", "rows_returned", "question"}

func (s *Server) auditRoutes() {
	s.handle("GET /audit", public, page("audit.html", "the audit page"))
	s.handle("GET /v1/audit/records", authed, s.auditRecords)
	s.handle("GET /v1/audit/records/{id}", authed, s.auditRecord)
	s.handle("POST /v1/audit/verify", authed, s.auditVerify)
	s.handle("GET /v1/audit/export", authed, s.auditExport)
}

// auditFilter is the review's filter, from the query string.
type auditFilter struct {
	User, Product, Decision, Since, Until string
}

func parseAuditFilter(r *http.Request) (auditFilter, error) {
	q := r.URL.Query()
	f := auditFilter{User: strings.TrimSpace(q.Get("user")), Product: strings.TrimSpace(q.Get("product")),
		Decision: strings.ToLower(strings.TrimSpace(q.Get("decision"))), Since: strings.TrimSpace(q.Get("since")),
		Until: strings.TrimSpace(q.Get("until"))}
	switch f.Decision {
	case "", "any", audit.DecisionAllow, audit.DecisionDeny, audit.DecisionError:
	default:
		return f, fmt.Errorf("decision %q is not allow, deny or error", f.Decision)
	}
	if f.Decision == "any" {
		f.Decision = ""
	}
	for name, v := range map[string]string{"since": f.Since, "until": f.Until} {
		if v == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", v); err == nil {
			continue
		}
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return f, fmt.Errorf("%s %q is neither a date (2026-11-15) nor an RFC 3339 time", name, v)
		}
	}
	return f, nil
}

// args are the tool filters and time range for f. A user without "@" is a
// first name and matches the start of the directory id, as the assistant
// reads "what did frank try".
func (f auditFilter) args() ([]tools.Filter, string) {
	var out []tools.Filter
	switch {
	case f.User == "":
	case strings.Contains(f.User, "@"):
		out = append(out, tools.Filter{Column: "subject", Op: tools.OpEq, Value: strings.ToLower(f.User)})
	default:
		out = append(out, tools.Filter{Column: "subject", Op: tools.OpContains, Value: strings.ToLower(f.User) + "@"})
	}
	if f.Product != "" {
		out = append(out, tools.Filter{Column: "product", Op: tools.OpEq, Value: f.Product})
	}
	if f.Decision != "" {
		out = append(out, tools.Filter{Column: "decision", Op: tools.OpEq, Value: f.Decision})
	}
	tr := ""
	if f.Since != "" || f.Until != "" {
		tr = f.Since + ".." + f.Until
	}
	return out, tr
}

func (f auditFilter) String() string {
	var parts []string
	for _, kv := range [][2]string{{"user", f.User}, {"product", f.Product}, {"decision", f.Decision}, {"since", f.Since}, {"until", f.Until}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(parts) == 0 {
		return "no filter"
	}
	return strings.Join(parts, ", ")
}

// auditCursor pages the review: the executor's cursor, and the chain head
// when the first page was read. Reading the log appends to it, so without
// the bound every page would shift the next one by the reads themselves.
type auditCursor struct {
	Exec string `json:"c,omitempty"`
	Head int64  `json:"h"`
}

func (c auditCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAuditCursor(s string) (auditCursor, error) {
	var c auditCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Head <= 0 {
		return c, errors.New("cursor is not valid: pass the next_cursor of a previous page, or omit it")
	}
	return c, nil
}

// auditStore returns the audit store, or answers 503 itself.
func (s *Server) auditStore(w http.ResponseWriter) (auditReader, bool) {
	st, ok := s.o.Audit.(auditReader)
	if !ok || s.o.Executor == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "audit review is not configured on this server")
		return nil, false
	}
	return st, true
}

// head is the chain's last seq (0 when empty).
func head(ctx context.Context, st auditReader) (int64, error) {
	recs, err := st.Search(ctx, audit.Query{Desc: true, Limit: 1})
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	return recs[0].Seq, nil
}

// auditCall runs one call on the access-audit product for the caller; what
// is recorded as the question says what the page did.
func (s *Server) auditCall(r *http.Request, tool string, args any, what string) (*tools.Result, error) {
	c := callerOf(r, ChannelWeb)
	c.Question = "audit review: " + what
	return s.call(r.Context(), c, tool, args)
}

// auditError answers an executor error: a denial is 403 and names the audit
// record that holds it.
func (s *Server) auditError(w http.ResponseWriter, r *http.Request, err error) {
	var denied *tools.DeniedError
	var arg *tools.ArgumentError
	var unavail *tools.UnavailableError
	if id := tools.AuditIDOf(err); id != "" {
		w.Header().Set("X-Askmesh-Audit-Id", id)
	}
	switch {
	case errors.As(err, &denied):
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf(
			"only auditors may review the audit log: %s. This refusal was recorded (audit record %s).", denied.Reason, denied.AuditID))
	case errors.As(err, &arg):
		writeError(w, http.StatusBadRequest, "invalid_request", arg.Message)
	case errors.Is(err, tools.ErrAuditUnavailable):
		writeError(w, http.StatusServiceUnavailable, "audit_unavailable", tools.ErrAuditUnavailable.Error())
	case errors.As(err, &unavail):
		s.log.WarnContext(r.Context(), "audit review failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the audit log cannot be read right now; quote request id "+RequestID(r.Context()))
	default:
		s.log.ErrorContext(r.Context(), "audit review failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error; quote request id "+RequestID(r.Context()))
	}
}

// auditListResponse is GET /v1/audit/records' body.
type auditListResponse struct {
	Records    []map[string]any `json:"records"`
	TotalCount int64            `json:"total_count"`
	NextCursor string           `json:"next_cursor,omitempty"`
	Head       int64            `json:"head_seq"` // the newest record the listing considers
	AuditID    string           `json:"audit_id"` // the record of this read
}

func (s *Server) auditRecords(w http.ResponseWriter, r *http.Request) {
	st, ok := s.auditStore(w)
	if !ok {
		return
	}
	f, err := parseAuditFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	limit := auditPageSize
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > auditMaxPageSize {
			writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("limit must be 1 to %d", auditMaxPageSize))
			return
		}
	}
	var cur auditCursor
	if c := r.URL.Query().Get("cursor"); c != "" {
		if cur, err = decodeAuditCursor(c); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
	} else if cur.Head, err = head(r.Context(), st); err != nil {
		s.auditError(w, r, err)
		return
	}
	res, err := s.auditPageOf(r, f, cur, limit, auditListColumns, "desc", "list records ("+f.String()+")")
	if err != nil {
		s.auditError(w, r, err)
		return
	}
	out := auditListResponse{Records: rowsAsObjects(res), Head: cur.Head, AuditID: res.AuditID}
	if res.TotalCount != nil {
		out.TotalCount = *res.TotalCount
	}
	if res.NextCursor != "" {
		out.NextCursor = auditCursor{Exec: res.NextCursor, Head: cur.Head}.encode()
	}
	writeJSON(w, http.StatusOK, out)
}

// auditPageOf reads one page of the filtered log up to cur.Head.
func (s *Server) auditPageOf(r *http.Request, f auditFilter, cur auditCursor, limit int, cols []string, dir, what string) (*tools.Result, error) {
	filters, tr := f.args()
	filters = append(filters, tools.Filter{Column: "seq", Op: tools.OpLe, Value: cur.Head})
	return s.auditCall(r, tools.ToolQueryRecords, tools.QueryRecordsArgs{Product: AuditProduct, Columns: cols, Filters: filters,
		TimeRange: tr, OrderBy: []tools.OrderBy{{Field: "seq", Direction: dir}}, Limit: limit, Cursor: cur.Exec}, what)
}

func rowsAsObjects(res *tools.Result) []map[string]any {
	out := make([]map[string]any, 0, len(res.Rows))
	for _, row := range res.Rows {
		m := make(map[string]any, len(res.Columns))
		for i, c := range res.Columns {
			if i < len(row) {
				m[c.Name] = row[i]
			}
		}
		out = append(out, m)
	}
	return out
}

// auditDetail is GET /v1/audit/records/{id}'s body.
type auditDetail struct {
	Record audit.Record `json:"record"`
	// HashMatches says whether the record's content still hashes to its
	// stored hash; the link to the previous record is the chain walk's job.
	HashMatches bool   `json:"hash_matches"`
	AuditID     string `json:"audit_id"`
}

func (s *Server) auditRecord(w http.ResponseWriter, r *http.Request) {
	st, ok := s.auditStore(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if !validID.MatchString(id) {
		writeError(w, http.StatusBadRequest, "invalid_request", "a record id is 1 to 128 letters, digits or . _ : @ -")
		return
	}
	res, err := s.auditCall(r, tools.ToolGetRecord, tools.GetRecordArgs{Product: AuditProduct, ID: id}, "open record "+id)
	if err != nil {
		s.auditError(w, r, err)
		return
	}
	rows := rowsAsObjects(res)
	if len(rows) == 0 {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no audit record %s that you may see", id))
		return
	}
	seq, err := toInt64(rows[0]["seq"])
	if err != nil {
		s.auditError(w, r, fmt.Errorf("audit record %s: seq: %w", id, err))
		return
	}
	recs, err := st.Search(r.Context(), audit.Query{AfterSeq: seq - 1, Limit: 1})
	if err != nil {
		s.auditError(w, r, err)
		return
	}
	if len(recs) == 0 || recs[0].ID != id {
		// The product and the store disagree: someone altered the table.
		writeError(w, http.StatusConflict, "inconsistent", fmt.Sprintf("audit record %s is not at seq %d in the store; verify the chain", id, seq))
		return
	}
	rec := recs[0]
	writeJSON(w, http.StatusOK, auditDetail{Record: rec, HashMatches: auditlog.ComputeHash(&rec) == rec.Hash, AuditID: res.AuditID})
}

// auditVerifyResponse is POST /v1/audit/verify's body.
type auditVerifyResponse struct {
	audit.VerifyResult
	CheckedAt time.Time `json:"checked_at"`
	AuditID   string    `json:"audit_id"`
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) {
	st, ok := s.auditStore(w)
	if !ok {
		return
	}
	// Walking the chain reads every record: allowed only to whoever may
	// count the log's records, and recorded like any read.
	res, err := s.auditCall(r, tools.ToolQueryMetrics, tools.QueryMetricsArgs{Product: AuditProduct, Metrics: []string{"access_count"}}, "verify the hash chain")
	if err != nil {
		s.auditError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	vr, err := st.Verify(ctx)
	if err != nil {
		s.auditError(w, r, fmt.Errorf("verify the audit chain: %w", err))
		return
	}
	if !vr.OK {
		s.log.WarnContext(r.Context(), "audit chain broken", "seq", vr.BrokenSeq, "id", vr.BrokenID, "problem", vr.Problem)
	}
	writeJSON(w, http.StatusOK, auditVerifyResponse{VerifyResult: vr, CheckedAt: time.Now().UTC(), AuditID: res.AuditID})
}

func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) {
	st, ok := s.auditStore(w)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "jsonl"
	}
	if format != "csv" && format != "jsonl" {
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("format %q: want csv or jsonl", format))
		return
	}
	f, err := parseAuditFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	recs, truncated, err := s.exportRecords(r, st, f, format)
	if err != nil {
		s.auditError(w, r, err)
		return
	}
	if truncated {
		// Said in a header: the body is the records, in a stable format.
		w.Header().Set("X-Askmesh-Export-Truncated", fmt.Sprintf("more than %d records match; narrow the filters", auditExportMax))
	}
	name := "askmesh-audit-" + time.Now().UTC().Format("20060102T150405Z") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Askmesh-Records", strconv.Itoa(len(recs)))
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		err = auditlog.WriteCSV(w, recs)
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		err = auditlog.WriteJSONL(w, recs)
	}
	if err != nil {
		s.log.WarnContext(r.Context(), "audit export interrupted", "err", err)
	}
}

// exportRecords pages through the filtered log with the executor (each page
// is an audited read), then loads those exact records in full from the
// store, in seq order. truncated reports that more matched than one export
// holds.
func (s *Server) exportRecords(r *http.Request, st auditReader, f auditFilter, format string) (out []audit.Record, truncated bool, err error) {
	h, err := head(r.Context(), st)
	if err != nil {
		return nil, false, err
	}
	cur := auditCursor{Head: h}
	for {
		res, err := s.auditPageOf(r, f, cur, tools.MaxLimit, []string{"id", "seq"}, "asc", "export "+format+" ("+f.String()+")")
		if err != nil {
			return nil, false, err
		}
		if out, err = appendReleased(r.Context(), st, f, res, out); err != nil {
			return nil, false, err
		}
		if res.NextCursor == "" {
			return out, false, nil
		}
		if len(out) >= auditExportMax {
			return out, true, nil
		}
		cur.Exec = res.NextCursor
	}
}

// appendReleased reads from the store, in bounded chunks, the records of
// one page the executor released, and appends them to out. The exact
// filters narrow the store's scan; the page's ids decide.
func appendReleased(ctx context.Context, st auditReader, f auditFilter, res *tools.Result, out []audit.Record) ([]audit.Record, error) {
	if len(res.Rows) == 0 {
		return out, nil
	}
	ids := make(map[string]bool, len(res.Rows))
	lo, hi := int64(-1), int64(0)
	for _, row := range rowsAsObjects(res) {
		id, _ := row["id"].(string)
		seq, err := toInt64(row["seq"])
		if err != nil {
			return nil, fmt.Errorf("export: seq of %s: %w", id, err)
		}
		ids[id] = true
		if lo < 0 || seq < lo {
			lo = seq
		}
		hi = max(hi, seq)
	}
	q := audit.Query{Product: f.Product, Decision: f.Decision, AfterSeq: lo - 1, Limit: tools.MaxLimit}
	if strings.Contains(f.User, "@") {
		q.Subject = strings.ToLower(f.User)
	}
	for found := 0; found < len(ids); {
		recs, err := st.Search(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		for _, rec := range recs {
			if rec.Seq > hi {
				return out, nil
			}
			if ids[rec.ID] {
				out = append(out, rec)
				found++
			}
			q.AfterSeq = rec.Seq
		}
		if len(recs) < q.Limit {
			break
		}
	}
	return out, nil
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
