package web

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/internal/httpguard"
	"github.com/askmesh/askmesh/internal/textfmt"
	"github.com/askmesh/askmesh/tools"
)

// The audit review page and its API. Who may use it is policy's business,
// not this file's: every endpoint first reads the access-audit product
// through the executor, which decides on the caller's behalf and records
// the read (or the refusal) in the very log being reviewed. This file never
// reads the audit store: everything comes through the review port
// (tools.AuditReview), which releases only what the executor released, with
// the same withheld columns and masks as the access-audit product.

// AuditProduct is the data product the audit log is published as.
const AuditProduct = tools.AuditProduct

// AuditReviewer is the read-only audit port the review surfaces use;
// *tools.AuditReview implements it.
type AuditReviewer interface {
	List(ctx context.Context, c tools.Caller, args tools.QueryRecordsArgs) (*tools.Result, error)
	Record(ctx context.Context, c tools.Caller, id string) (*tools.RecordDetail, error)
	Export(ctx context.Context, c tools.Caller, args tools.QueryRecordsArgs, max int, fn func([]tools.Released) error) (bool, error)
	Verify(ctx context.Context, c tools.Caller) (audit.VerifyResult, string, error)
	Head(ctx context.Context) (int64, error)
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

// auditStore returns the review port, or answers 503 itself.
func (s *Server) auditStore(w http.ResponseWriter) (AuditReviewer, bool) {
	if s.o.AuditReview == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "audit review is not configured on this server")
		return nil, false
	}
	return s.o.AuditReview, true
}

// reviewer is the caller of a review read; what is recorded as the
// question says what the page did.
func reviewer(r *http.Request, what string) tools.Caller {
	c := callerOf(r, ChannelWeb)
	c.Question = "audit review: " + what
	return c
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
	} else if cur.Head, err = st.Head(r.Context()); err != nil {
		s.auditError(w, r, err)
		return
	}
	res, err := st.List(r.Context(), reviewer(r, "list records ("+f.String()+")"), auditArgs(f, cur, limit, auditListColumns, "desc"))
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

// auditArgs select one page of the filtered log up to cur.Head.
func auditArgs(f auditFilter, cur auditCursor, limit int, cols []string, dir string) tools.QueryRecordsArgs {
	filters, tr := f.args()
	filters = append(filters, tools.Filter{Column: "seq", Op: tools.OpLe, Value: cur.Head})
	return tools.QueryRecordsArgs{Product: AuditProduct, Columns: cols, Filters: filters,
		TimeRange: tr, OrderBy: []tools.OrderBy{{Field: "seq", Direction: dir}}, Limit: limit, Cursor: cur.Exec}
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
	// Record is the whole stored record when the reader may see all of it;
	// otherwise only the columns policy released, masked as it says.
	Record   tools.Released `json:"record"`
	Withheld []string       `json:"withheld,omitempty"`
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
	if !httpguard.ValidID(id) {
		writeError(w, http.StatusBadRequest, "invalid_request", "a record id is 1 to 128 letters, digits or . _ : @ -")
		return
	}
	d, err := st.Record(r.Context(), reviewer(r, "open record "+id), id)
	if errors.Is(err, tools.ErrInconsistent) {
		writeError(w, http.StatusConflict, "inconsistent", fmt.Sprintf("audit record %s is not where the product says in the store; verify the chain", id))
		return
	}
	if err != nil {
		s.auditError(w, r, err)
		return
	}
	if d.Record.Fields == nil {
		w.Header().Set("X-Askmesh-Audit-Id", d.AuditID)
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no audit record %s that you may see", id))
		return
	}
	writeJSON(w, http.StatusOK, auditDetail{Record: d.Record, Withheld: d.Record.Withheld, HashMatches: d.HashMatches, AuditID: d.AuditID})
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
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	vr, auditID, err := st.Verify(ctx, reviewer(r, "verify the hash chain"))
	if err != nil {
		s.auditError(w, r, err)
		return
	}
	if !vr.OK {
		s.log.WarnContext(r.Context(), "audit chain broken", "seq", vr.BrokenSeq, "id", vr.BrokenID, "problem", vr.Problem)
	}
	writeJSON(w, http.StatusOK, auditVerifyResponse{VerifyResult: vr, CheckedAt: time.Now().UTC(), AuditID: auditID})
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
	var recs []tools.Released
	h, err := st.Head(r.Context())
	var truncated bool
	if err == nil {
		truncated, err = st.Export(r.Context(), reviewer(r, "export "+format+" ("+f.String()+")"),
			auditArgs(f, auditCursor{Head: h}, tools.MaxLimit, nil, "asc"), auditExportMax,
			func(page []tools.Released) error { recs = append(recs, page...); return nil })
	}
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
		err = writeReleasedCSV(w, recs)
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		err = writeReleasedJSONL(w, recs)
	}
	if err != nil {
		s.log.WarnContext(r.Context(), "audit export interrupted", "err", err)
	}
}

// writeReleasedJSONL writes one record per line: the whole record where
// the reader may see it, else the released columns.
func writeReleasedJSONL(w io.Writer, recs []tools.Released) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("export jsonl: %w", err)
		}
	}
	return nil
}

// writeReleasedCSV writes the released columns, with formulas neutralised:
// a question such as =HYPERLINK(...) stays text in a spreadsheet.
func writeReleasedCSV(w io.Writer, recs []tools.Released) error {
	cw := csv.NewWriter(w)
	header := tools.AuditFields()
	if len(recs) > 0 && !recs[0].Complete() {
		header = recs[0].Columns
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("export csv: %w", err)
	}
	cells := make([]string, len(header))
	for _, r := range recs {
		for i, name := range header {
			cells[i] = textfmt.CSVCell(csvValue(r.Fields[name]))
		}
		if err := cw.Write(cells); err != nil {
			return fmt.Errorf("export csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case json.RawMessage:
		return string(x)
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}
