package auditlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/askmesh/askmesh/audit"
)

func exportRecord() audit.Record {
	return audit.Record{
		ID: "r1", Seq: 1, At: time.Date(2026, 11, 2, 9, 0, 0, 5000, time.UTC), RequestID: "req", ConversationID: "conv",
		Channel: "web", Subject: "erin@bank.example", Groups: []string{"retail-ops"}, Action: "product.query_records",
		Tool: "query_records", Product: "customer-transactions", Arguments: json.RawMessage(`{"limit":5}`),
		Columns: []string{"amount"}, RowFilters: []audit.Filter{{Column: "region", Op: "=", Value: "europe"}},
		Masks: map[string]string{"account_id": "last4"}, Decision: audit.DecisionAllow, Reason: "", RowsReturned: 5,
		PolicyRevision: "rev", Model: "offline", Question: `Deposits, "Europe" & <co>`, DurationMS: 3,
		PrevHash: GenesisHash, Hash: "h1",
	}
}

func TestWriteJSONL(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, []audit.Record{exportRecord(), exportRecord()}); err != nil {
		t.Fatal(err)
	}
	line := `{"id":"r1","seq":1,"at":"2026-11-02T09:00:00.000005Z","request_id":"req","conversation_id":"conv","channel":"web",` +
		`"subject":"erin@bank.example","groups":["retail-ops"],"action":"product.query_records","tool":"query_records",` +
		`"product":"customer-transactions","arguments":{"limit":5},"columns":["amount"],` +
		`"row_filters":[{"column":"region","op":"=","value":"europe"}],"masks":{"account_id":"last4"},"decision":"allow",` +
		`"reason":"","rows_returned":5,"policy_revision":"rev","model":"offline","question":"Deposits, \"Europe\" & <co>",` +
		`"duration_ms":3,"prev_hash":"` + GenesisHash + `","hash":"h1"}` + "\n"
	if got := buf.String(); got != line+line {
		t.Errorf("JSONL\n got %s\nwant %s", got, line+line)
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []audit.Record{exportRecord()}); err != nil {
		t.Fatal(err)
	}
	want := "id,seq,at,request_id,conversation_id,channel,subject,groups,action,tool,product,arguments,columns,row_filters,masks," +
		"decision,reason,rows_returned,policy_revision,model,question,duration_ms,prev_hash,hash,client_request_id\n" +
		`r1,1,2026-11-02T09:00:00.000005Z,req,conv,web,erin@bank.example,"[""retail-ops""]",product.query_records,query_records,` +
		`customer-transactions,"{""limit"":5}","[""amount""]","[{""column"":""region"",""op"":""="",""value"":""europe""}]",` +
		`"{""account_id"":""last4""}",allow,,5,rev,offline,"Deposits, ""Europe"" & <co>",3,` + GenesisHash + ",h1,\n"
	if got := buf.String(); got != want {
		t.Errorf("CSV\n got %s\nwant %s", got, want)
	}
	// The header is the record's JSON field names, in order.
	var names []string
	rt := reflect.TypeFor[audit.Record]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	if !reflect.DeepEqual(names, CSVHeader) {
		t.Errorf("CSVHeader = %v, want %v", CSVHeader, names)
	}
}

func TestFollow(t *testing.T) {
	t.Parallel()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// sampleRecord(i) becomes seq i+1; subjects rotate over four people, so
	// the first one's records are seqs 1, 5, 9, 13.
	appendRange := func(from, to int) {
		for i := from; i <= to; i++ {
			appendAll(t, s, []audit.Record{sampleRecord(i)})
		}
	}
	appendRange(0, 5)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan int64)
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, s, audit.Query{AfterSeq: 1, Limit: 2, Desc: true, Subject: sampleRecord(0).Subject}, 5*time.Millisecond, func(r audit.Record) error {
			got <- r.Seq
			return nil
		})
	}()
	if seq := <-got; seq != 5 {
		t.Fatalf("first followed seq %d, want 5 (after 1, same subject)", seq)
	}
	appendRange(6, 10)
	if seq := <-got; seq != 9 {
		t.Fatalf("next followed seq %d, want 9", seq)
	}
	appendRange(11, 12)
	if seq := <-got; seq != 13 {
		t.Fatalf("next followed seq %d, want 13", seq)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow returned %v, want context.Canceled", err)
	}

	stop := errors.New("enough")
	// Page size 2 reads on through the backlog without waiting.
	var seen []int64
	err = Follow(context.Background(), s, audit.Query{Limit: 2}, time.Hour, func(r audit.Record) error {
		seen = append(seen, r.Seq)
		if r.Seq == 7 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("Follow returned %v, want fn's error", err)
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7}; !reflect.DeepEqual(seen, want) {
		t.Errorf("followed %v, want %v", seen, want)
	}
	if err := Follow(context.Background(), s, audit.Query{}, 0, func(audit.Record) error { return nil }); err == nil || !strings.Contains(err.Error(), "not positive") {
		t.Errorf("zero interval: %v", err)
	}
}
