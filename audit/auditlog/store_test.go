package auditlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/askmesh/askmesh/audit"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendThenSearch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		in := []audit.Record{
			{
				// Nil slices and map, no arguments, a local-zone time with nanoseconds.
				At: time.Date(2026, 11, 2, 10, 0, 0, 123456789, time.FixedZone("CET", 3600)), Channel: "cli",
				Subject: "frank@bank.example", Action: "product.query_records", Tool: "query_records",
				Product: "loan-applications", Decision: audit.DecisionDeny, Reason: "you are not in a group that may query loan-applications",
				Model: "offline", Question: "List loans",
			},
			{
				ID: "rec-2", At: mustTime(t, "2026-11-02T09:00:00.000001Z"), RequestID: "req-2", ConversationID: "conv-1",
				Channel: "slack", Subject: "erin@bank.example", Groups: []string{"retail-ops", "europe"},
				Action: "product.query_records", Tool: "query_records", Product: "customer-transactions",
				Arguments:  json.RawMessage(` {"limit": 50, "columns": ["amount", "account_id"], "product": "customer-transactions", "min": 12.50} `),
				Columns:    []string{"amount", "account_id"},
				RowFilters: []audit.Filter{{Column: "region", Op: "=", Value: "europe"}, {Column: "amount", Op: ">=", Value: 12.5}, {Column: "tags", Op: "in", Value: map[string]any{"b": 1, "a": []int{1, 2}}}},
				Masks:      map[string]string{"account_id": "last4", "iban": "redact"},
				Decision:   audit.DecisionAllow, RowsReturned: 50, PolicyRevision: "rev-1", Model: "gpt-4o",
				Question: "Total deposits in Europe last week", DurationMS: 17,
			},
			{
				// Text a database or a spreadsheet might choke on (and COPY's
				// delimiters, escapes and end-of-data marker).
				At: mustTime(t, "2026-11-02T09:00:01Z"), Channel: "web", Subject: "mallory@bank.example",
				Action: "product.get_record", Tool: "get_record", Product: "customers", Decision: audit.DecisionError,
				Reason: "backend: connection refused\tat C:\\data\\n\r\n\\.\n\\N", Question: "nul\x00 bad\xff utf8 <script>\"quotes\"\n,=cmd|' /C calc'!A0",
				Arguments: json.RawMessage(`{"id":"cust-\u0000042","x":"\u003c"}`),
			},
		}
		got := appendAll(t, h.store, in)

		// What Append left in each record is the normalized, chained form.
		if got[0].ID == "" || len(got[0].ID) != 36 || got[0].ID[14] != '7' {
			t.Errorf("assigned ID %q is not a UUIDv7", got[0].ID)
		}
		if want := mustTime(t, "2026-11-02T09:00:00.123456Z"); !got[0].At.Equal(want) || got[0].At.Location() != time.UTC {
			t.Errorf("At = %v, want %v in UTC", got[0].At, want)
		}
		if got[0].Groups == nil || got[0].Columns == nil || got[0].RowFilters == nil || got[0].Masks == nil || string(got[0].Arguments) != "{}" {
			t.Errorf("nil fields not normalized: %+v", got[0])
		}
		if want := `{"columns":["amount","account_id"],"limit":50,"min":12.50,"product":"customer-transactions"}`; string(got[1].Arguments) != want {
			t.Errorf("arguments = %s, want %s", got[1].Arguments, want)
		}
		wantFilters := []audit.Filter{
			{Column: "region", Op: "=", Value: "europe"},
			{Column: "amount", Op: ">=", Value: json.Number("12.5")},
			{Column: "tags", Op: "in", Value: map[string]any{"a": []any{json.Number("1"), json.Number("2")}, "b": json.Number("1")}},
		}
		if !reflect.DeepEqual(got[1].RowFilters, wantFilters) {
			t.Errorf("row filters = %#v, want %#v", got[1].RowFilters, wantFilters)
		}
		if want := "nul\uFFFD bad\uFFFD utf8 <script>\"quotes\"\n,=cmd|' /C calc'!A0"; got[2].Question != want {
			t.Errorf("question = %q, want %q", got[2].Question, want)
		}
		if want := "backend: connection refused\tat C:\\data\\n\r\n\\.\n\\N"; got[2].Reason != want {
			t.Errorf("reason = %q, want %q", got[2].Reason, want)
		}
		if want := `{"id":"cust-\u0000042","x":"<"}`; string(got[2].Arguments) != want {
			t.Errorf("arguments = %s, want %s", got[2].Arguments, want)
		}
		prev := GenesisHash
		for i, r := range got {
			if r.Seq != int64(i+1) || r.PrevHash != prev || len(r.Hash) != 64 {
				t.Errorf("record %d: seq %d prev %s hash %s; want seq %d prev %s", i, r.Seq, r.PrevHash, r.Hash, i+1, prev)
			}
			if h := ComputeHash(&r); h != r.Hash {
				t.Errorf("record %d: ComputeHash %s, stored %s", i, h, r.Hash)
			}
			prev = r.Hash
		}

		found, err := h.store.Search(context.Background(), audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(found, got) {
			t.Errorf("Search returned\n%#v\nwant\n%#v", found, got)
		}
		for i, r := range found {
			if ComputeHash(&r) != r.Hash {
				t.Errorf("searched record %d does not re-hash to its hash", i)
			}
		}

		// A second store on the same database sees the same chain.
		again, err := h.reopen(t).Search(context.Background(), audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Errorf("reopened store returned different records")
		}

		res, err := h.store.Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := audit.VerifyResult{OK: true, Records: 3, HeadSeq: 3, Head: got[2].Hash}
		if res != want {
			t.Errorf("Verify = %+v, want %+v", res, want)
		}
		if err := h.store.Ping(context.Background()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

func TestSearch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		type e struct{ subject, product, decision, tool, at string }
		log := []e{
			{"erin", "customer-transactions", "allow", "query_records", "2026-11-02T09:00:00Z"},
			{"frank", "loan-applications", "deny", "query_metrics", "2026-11-02T10:30:00Z"},
			{"frank", "customers", "deny", "query_records", "2026-11-03T08:15:00.000001Z"},
			{"erin", "customer-transactions", "allow", "query_metrics", "2026-11-04T23:59:59.999999Z"},
			{"dave", "access-audit", "allow", "query_records", "2026-11-05T00:00:00Z"},
			{"frank", "loan-applications", "error", "get_record", "2026-11-06T12:00:00Z"},
			{"erin", "customer-transactions", "deny", "query_records", "2026-11-07T00:00:00Z"},
		}
		var recs []audit.Record
		for i, x := range log {
			recs = append(recs, audit.Record{ID: fmt.Sprintf("r%d", i+1), At: mustTime(t, x.at), Subject: x.subject + "@bank.example",
				Product: x.product, Decision: x.decision, Tool: x.tool, Action: "product." + x.tool})
		}
		appendAll(t, h.store, recs)

		cases := []struct {
			name string
			q    audit.Query
			want []int64
		}{
			{"everything", audit.Query{}, []int64{1, 2, 3, 4, 5, 6, 7}},
			{"subject", audit.Query{Subject: "frank@bank.example"}, []int64{2, 3, 6}},
			{"product and decision", audit.Query{Product: "customer-transactions", Decision: audit.DecisionAllow}, []int64{1, 4}},
			{"tool", audit.Query{Tool: "query_records"}, []int64{1, 3, 5, 7}},
			{"since inclusive, until exclusive", audit.Query{Since: mustTime(t, "2026-11-03T08:15:00.000001Z"), Until: mustTime(t, "2026-11-05T00:00:00Z")}, []int64{3, 4}},
			{"sub-microsecond bounds", audit.Query{Since: mustTime(t, "2026-11-03T08:15:00.0000005Z"), Until: mustTime(t, "2026-11-04T23:59:59.9999995Z")}, []int64{3, 4}},
			{"until a record's instant excludes it", audit.Query{Since: mustTime(t, "2026-11-03T00:00:00Z"), Until: mustTime(t, "2026-11-04T23:59:59.999999Z")}, []int64{3}},
			{"bounds in another zone", audit.Query{Since: mustTime(t, "2026-11-05T01:00:00+01:00")}, []int64{5, 6, 7}},
			{"after seq", audit.Query{AfterSeq: 4}, []int64{5, 6, 7}},
			{"limit", audit.Query{Limit: 2}, []int64{1, 2}},
			{"newest first", audit.Query{Desc: true, Limit: 3}, []int64{7, 6, 5}},
			{"subject, newest first, after seq", audit.Query{Subject: "frank@bank.example", Desc: true, AfterSeq: 2}, []int64{6, 3}},
			{"denials since the 3rd", audit.Query{Decision: audit.DecisionDeny, Since: mustTime(t, "2026-11-03T00:00:00Z")}, []int64{3, 7}},
			{"nothing matches", audit.Query{Subject: "nobody"}, []int64{}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				found, err := h.store.Search(context.Background(), c.q)
				if err != nil {
					t.Fatal(err)
				}
				seqs := []int64{}
				for _, r := range found {
					seqs = append(seqs, r.Seq)
					if r.ID != fmt.Sprintf("r%d", r.Seq) {
						t.Errorf("seq %d has id %s", r.Seq, r.ID)
					}
				}
				if !reflect.DeepEqual(seqs, c.want) {
					t.Errorf("seqs = %v, want %v", seqs, c.want)
				}
			})
		}
		if _, err := h.store.Search(context.Background(), audit.Query{Limit: -1}); err == nil {
			t.Error("a negative limit was accepted")
		}
	})
}

func TestConcurrentAppends(t *testing.T) {
	t.Parallel()
	const writers, each = 64, 20
	forEachBackend(t, func(t *testing.T, h *harness) {
		var wg sync.WaitGroup
		ids := make([][]string, writers)
		seqs := make([][]int64, writers)
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					rec := sampleRecord(w*each + i)
					if err := h.store.Append(context.Background(), &rec); err != nil {
						errs <- err
						return
					}
					ids[w] = append(ids[w], rec.ID)
					seqs[w] = append(seqs[w], rec.Seq)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}

		acked := map[string]int64{}
		seqSeen := map[int64]bool{}
		for w := range writers {
			for i, id := range ids[w] {
				if _, dup := acked[id]; dup {
					t.Fatalf("id %s acknowledged twice", id)
				}
				acked[id] = seqs[w][i]
				if seqSeen[seqs[w][i]] {
					t.Fatalf("seq %d given twice", seqs[w][i])
				}
				seqSeen[seqs[w][i]] = true
				// One writer's appends are sequential, so its seqs increase.
				if i > 0 && seqs[w][i] <= seqs[w][i-1] {
					t.Errorf("writer %d: seq %d after %d", w, seqs[w][i], seqs[w][i-1])
				}
			}
		}
		if len(acked) != writers*each {
			t.Fatalf("%d records acknowledged, want %d", len(acked), writers*each)
		}

		found, err := h.store.Search(context.Background(), audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != writers*each {
			t.Fatalf("%d records stored, want %d", len(found), writers*each)
		}
		for i, r := range found {
			if r.Seq != int64(i+1) {
				t.Fatalf("record %d has seq %d", i, r.Seq)
			}
			if seq, ok := acked[r.ID]; !ok || seq != r.Seq {
				t.Fatalf("stored id %s seq %d was acknowledged with seq %d (%v)", r.ID, r.Seq, seq, ok)
			}
		}
		res, err := h.store.Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK || res.Records != writers*each || res.HeadSeq != writers*each || res.Head != found[len(found)-1].Hash {
			t.Errorf("Verify = %+v", res)
		}
	})
}

func TestAppendOnlyEnforcedByTheDatabase(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		appendAll(t, h.store, []audit.Record{sampleRecord(1), sampleRecord(2)})
		stmts := []string{
			"UPDATE " + h.table + ` SET "rows_returned" = 0 WHERE "seq" = 1`,
			"UPDATE " + h.table + ` SET "reason" = 'x'`,
			"DELETE FROM " + h.table + ` WHERE "seq" = 2`,
			"DELETE FROM " + h.table,
		}
		if h.table == pgTable {
			stmts = append(stmts, "TRUNCATE "+h.table, "UPDATE "+h.table+` SET "reason" = 'x' WHERE false`)
		}
		for _, q := range stmts {
			err := h.exec(t, q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want the append-only refusal", q, err)
			}
		}
		res, err := h.store.Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK || res.Records != 2 {
			t.Errorf("after refused changes Verify = %+v, want 2 intact records", res)
		}
	})
}

func TestVerifyNamesTheTamperedRecord(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		tamper  func(h *harness, recs []audit.Record) string
		seq     int64 // the record Verify must name
		problem string
	}{
		{
			name: "rows_returned altered",
			tamper: func(h *harness, _ []audit.Record) string {
				return "UPDATE " + h.table + ` SET "rows_returned" = 4999 WHERE "seq" = 3`
			},
			seq:     3,
			problem: "does not match the recomputed hash",
		},
		{
			name: "reason altered",
			tamper: func(h *harness, _ []audit.Record) string {
				return "UPDATE " + h.table + ` SET "reason" = 'approved by policy' WHERE "seq" = 2`
			},
			seq:     2,
			problem: "does not match the recomputed hash",
		},
		{
			name: "arguments reformatted",
			tamper: func(h *harness, _ []audit.Record) string {
				return "UPDATE " + h.table + ` SET "arguments" = ' ' || "arguments" WHERE "seq" = 4`
			},
			seq:     4,
			problem: "does not match the recomputed hash",
		},
		{
			name:    "middle record deleted",
			tamper:  func(h *harness, _ []audit.Record) string { return "DELETE FROM " + h.table + ` WHERE "seq" = 3` },
			seq:     4,
			problem: "seq 4 follows seq 2: 1 record(s) missing",
		},
		{
			name:    "first record deleted",
			tamper:  func(h *harness, _ []audit.Record) string { return "DELETE FROM " + h.table + ` WHERE "seq" = 1` },
			seq:     2,
			problem: "the chain starts at seq 2",
		},
		{
			name: "record altered and re-hashed",
			tamper: func(h *harness, recs []audit.Record) string {
				r := recs[2]
				r.RowsReturned = 0
				return fmt.Sprintf(`UPDATE %s SET "rows_returned" = 0, "hash" = '%s' WHERE "seq" = 3`, h.table, ComputeHash(&r))
			},
			seq:     4,
			problem: "does not link to seq 3",
		},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					h := b.new(t)
					var in []audit.Record
					for i := range 5 {
						r := sampleRecord(i)
						r.ID = fmt.Sprintf("rec-%d", i+1)
						in = append(in, r)
					}
					recs := appendAll(t, h.store, in)
					h.bypass(t, c.tamper(h, recs))
					res, err := h.store.Verify(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if res.OK || res.BrokenSeq != c.seq || res.BrokenID != fmt.Sprintf("rec-%d", c.seq) || !strings.Contains(res.Problem, c.problem) {
						t.Errorf("Verify = %+v, want seq %d (rec-%d) broken: %q", res, c.seq, c.seq, c.problem)
					}
				})
			}
		})
	}
}

func TestAppendRejectsBadRecords(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		cases := []struct {
			name string
			edit func(r *audit.Record)
			want string
		}{
			{"unknown decision", func(r *audit.Record) { r.Decision = "maybe" }, `decision "maybe" is not one of allow, deny, error`},
			{"arguments not JSON", func(r *audit.Record) { r.Arguments = json.RawMessage(`{"a":`) }, "arguments"},
			{"two JSON values", func(r *audit.Record) { r.Arguments = json.RawMessage(`{} {}`) }, "trailing data"},
			{"negative rows", func(r *audit.Record) { r.RowsReturned = -1 }, "rows_returned -1 is out of range"},
			{"filter value JSON cannot hold", func(r *audit.Record) { r.RowFilters = []audit.Filter{{Column: "amount", Op: ">", Value: math.NaN()}} }, "row filter 0 (amount)"},
		}
		for _, c := range cases {
			rec := sampleRecord(0)
			c.edit(&rec)
			err := h.store.Append(context.Background(), &rec)
			if err == nil || !strings.Contains(err.Error(), "audit: record not committed") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.want)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := sampleRecord(0)
		if err := h.store.Append(ctx, &rec); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled context: err = %v", err)
		}
		if n := h.count(t); n != 0 {
			t.Errorf("%d records stored, want none", n)
		}
	})
}

func TestDuplicateIDFailsOnlyItsOwnAppend(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		first := sampleRecord(0)
		first.ID = "dup"
		appendAll(t, h.store, []audit.Record{first})

		const n = 40
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := sampleRecord(i + 1)
				if i == n/2 {
					r.ID = "dup"
				}
				errs[i] = h.store.Append(context.Background(), &r)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if i == n/2 {
				if err == nil || !strings.Contains(err.Error(), "audit: record not committed") {
					t.Errorf("duplicate id: err = %v, want not committed", err)
				}
			} else if err != nil {
				t.Errorf("append %d failed with the duplicate: %v", i, err)
			}
		}
		res, err := h.store.Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK || res.Records != n {
			t.Errorf("Verify = %+v, want %d intact records", res, n)
		}
	})
}

func TestCloseCommitsQueuedAppendsThenRefuses(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		const n = 100
		errs := make([]error, n)
		ids := make([]string, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := sampleRecord(i)
				r.ID = fmt.Sprintf("c%03d", i)
				ids[i] = r.ID
				<-start
				errs[i] = h.store.Append(context.Background(), &r)
			}()
		}
		close(start)
		if err := h.store.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if err := h.store.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		rec := sampleRecord(0)
		if err := h.store.Append(context.Background(), &rec); !errors.Is(err, ErrClosed) {
			t.Errorf("Append after Close: err = %v, want ErrClosed", err)
		}
		if err := h.store.Ping(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Ping after Close: err = %v, want ErrClosed", err)
		}

		acked := map[string]bool{}
		for i, err := range errs {
			switch {
			case err == nil:
				acked[ids[i]] = true
			case !errors.Is(err, ErrClosed):
				t.Errorf("append %d: %v, want success or ErrClosed", i, err)
			}
		}
		found, err := h.reopen(t).Search(context.Background(), audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != len(acked) {
			t.Errorf("%d records stored, %d acknowledged", len(found), len(acked))
		}
		for _, r := range found {
			if !acked[r.ID] {
				t.Errorf("record %s stored but its Append failed", r.ID)
			}
		}
	})
}
