package auditlog

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/internal/textfmt"
	"io"
	"strconv"
	"time"
)

// WriteJSONL writes one record per line as JSON (the Record's field names),
// without HTML escaping so questions read as asked.
func WriteJSONL(w io.Writer, recs []audit.Record) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return fmt.Errorf("audit: write jsonl: record seq %d: %w", recs[i].Seq, err)
		}
	}
	return nil
}

// CSVHeader is the header row WriteCSV writes: the record's field names,
// which are also the audit table's column names. (A copy: changing it
// changes nothing WriteCSV does.)
var CSVHeader = append([]string(nil), columnNames...)

// WriteCSV writes a header row and one row per record. Cells hold the values
// exactly as stored: at as TimeLayout, JSON-valued fields as their canonical
// JSON text, except that a text cell a spreadsheet would run as a formula
// (starting with = + - @, tab or CR) is prefixed with ' (textfmt.CSVCell):
// the log holds what users typed, and an auditor opening the export must
// not run it. JSONL keeps every value exactly.
func WriteCSV(w io.Writer, recs []audit.Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columnNames); err != nil {
		return fmt.Errorf("audit: write csv: %w", err)
	}
	for i := range recs {
		rw, err := toRow(&recs[i])
		if err != nil {
			return fmt.Errorf("audit: write csv: record seq %d: %w", recs[i].Seq, err)
		}
		cells := make([]string, 0, len(columnNames))
		for _, v := range rw.values(rw.at) {
			switch v := v.(type) {
			case string:
				cells = append(cells, textfmt.CSVCell(v))
			case int64:
				cells = append(cells, strconv.FormatInt(v, 10))
			default:
				return fmt.Errorf("audit: write csv: unexpected %T", v)
			}
		}
		if err := cw.Write(cells); err != nil {
			return fmt.Errorf("audit: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: write csv: %w", err)
	}
	return nil
}

// followPage is how many records Follow reads at a time when q.Limit is 0.
const followPage = 1000

// Follow calls fn for every record matching q with Seq > q.AfterSeq, in seq
// order, then keeps polling every interval for new ones until ctx ends (it
// then returns ctx's error) or fn or a search fails. q.Desc is ignored; a
// positive q.Limit is the page size. This is `audit tail -f`.
func Follow(ctx context.Context, store audit.Store, q audit.Query, every time.Duration, fn func(audit.Record) error) error {
	if every <= 0 {
		return fmt.Errorf("audit: follow: interval %s is not positive", every)
	}
	q.Desc = false
	if q.Limit <= 0 {
		q.Limit = followPage
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		recs, err := store.Search(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("audit: follow: %w", err)
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
			q.AfterSeq = r.Seq
		}
		if len(recs) == q.Limit {
			continue // more waiting: read on without sleeping
		}
		timer.Reset(every)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}
