package productapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/askmesh/askmesh/tools"
)

// ProblemBase prefixes the type URI of every problem this API returns.
const ProblemBase = "https://askmesh.dev/problems/"

// Problem is an RFC 9457 problem detail, with the audit record of the refused call.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	AuditID  string `json:"audit_id,omitempty"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, slug, title, detail string) {
	writeProblemAudit(w, r, status, slug, title, detail, "")
}

func writeProblemAudit(w http.ResponseWriter, r *http.Request, status int, slug, title, detail, auditID string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Type: ProblemBase + slug, Title: title, Status: status, Detail: detail,
		Instance: r.URL.Path, AuditID: auditID})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONHeader(w, status)
	_ = newEncoder(w).Encode(v)
}

func writeJSONHeader(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// encodeJSON is what writeJSON would write for v, for answers encoded once.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := newEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Response is the JSON body of records, record, metrics and anomalies:
// one object per row, keyed by column name, with the columns' types and
// roles, what policy did (masked, notes) and the audit record's id.
type Response struct {
	Product      string               `json:"product"`
	Columns      []tools.ResultColumn `json:"columns"`
	Data         []map[string]any     `json:"data"`
	RowCount     int                  `json:"row_count"`
	TotalCount   *int64               `json:"total_count,omitempty"`
	TimeRange    *tools.Range         `json:"time_range,omitempty"`
	CompareRange *tools.Range         `json:"compare_range,omitempty"`
	Masked       map[string]string    `json:"masked,omitempty"`
	Notes        []string             `json:"notes,omitempty"`
	AuditID      string               `json:"audit_id,omitempty"`
	Links        map[string]string    `json:"links,omitempty"`
}

// respond writes a result as JSON, or as CSV when the client asks for it
// (Accept: text/csv or format=csv).
func (s *Server) respond(w http.ResponseWriter, r *http.Request, res *tools.Result, links map[string]string) {
	if res.AuditID != "" {
		w.Header().Set("X-Audit-ID", res.AuditID)
	}
	if wantsCSV(r) {
		writeCSV(w, res)
		return
	}
	out := Response{Product: res.Product, Columns: res.Columns, Data: make([]map[string]any, 0, len(res.Rows)),
		RowCount: res.RowCount, TotalCount: res.TotalCount, TimeRange: res.TimeRange, CompareRange: res.CompareRange,
		Masked: res.Masked, Notes: res.Notes, AuditID: res.AuditID}
	if len(links) > 0 {
		out.Links = links
	}
	for _, row := range res.Rows {
		out.Data = append(out.Data, rowObject(res.Columns, row))
	}
	writeJSON(w, http.StatusOK, out)
}

func rowObject(cols []tools.ResultColumn, row []any) map[string]any {
	m := make(map[string]any, len(cols))
	for i, c := range cols {
		if i < len(row) {
			m[c.Name] = row[i]
		}
	}
	return m
}

func wantsCSV(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return strings.EqualFold(f, "csv")
	}
	return strings.Contains(r.Header.Get("Accept"), "text/csv")
}

func writeCSV(w http.ResponseWriter, res *tools.Result) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if res.TotalCount != nil {
		w.Header().Set("X-Total-Count", strconv.FormatInt(*res.TotalCount, 10))
	}
	cw := csv.NewWriter(w)
	head := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		head[i] = c.Name
	}
	_ = cw.Write(head)
	rec := make([]string, len(res.Columns))
	for _, row := range res.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				rec[i] = csvValue(row[i])
			}
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
}

func csvValue(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case string:
		return t
	}
	return fmt.Sprint(v)
}
