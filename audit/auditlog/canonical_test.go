package auditlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/askmesh/askmesh/audit"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCanonicalize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
	}{
		{"keys sorted at every depth", `{"b":1,"a":{"d":[3,{"z":true,"y":null}],"c":"x"}}`, `{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}`},
		{"numbers kept as written", `{"n": 1.50, "e": 1E3, "big": 12345678901234567890123, "neg": -0}`, `{"big":12345678901234567890123,"e":1E3,"n":1.50,"neg":-0}`},
		{"whitespace removed", " [ 1 ,\n\t2 ] \n", `[1,2]`},
		{"escapes made minimal", `"\u0041\u00e9\/\n<>&\u2028"`, "\"A\u00e9/\\n<>&\u2028\""},
		{"control characters escaped", `"a\u0001b\u001fc\td\r"`, `"a\u0001b\u001fc\td\r"`},
		{"keys sorted by bytes", `{"b":1,"B":2,"é":3,"a":4}`, `{"B":2,"a":4,"b":1,"é":3}`},
		{"duplicate keys: the last wins, as Go decodes", `{"a":1,"a":2}`, `{"a":2}`},
		{"scalars", `"x"`, `"x"`},
		{"empty object", `{ }`, `{}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Canonicalize(json.RawMessage(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("Canonicalize(%s) = %s, want %s", c.in, got, c.want)
			}
			again, err := Canonicalize(got)
			if err != nil || string(again) != string(got) {
				t.Errorf("not idempotent: %s -> %s (%v)", got, again, err)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"a":1} x`, `{"a":1}{"b":2}`, `[1,]`, `nul`} {
		if got, err := Canonicalize(json.RawMessage(bad)); err == nil {
			t.Errorf("Canonicalize(%q) = %s, want an error", bad, got)
		}
	}
}

// The canonical form and the hash, written out by hand: this pins the
// format auditors' tools reimplement.
func TestComputeHashKnownAnswer(t *testing.T) {
	t.Parallel()
	rec := audit.Record{
		ID: "0190f5c2-7c3a-7000-8000-000000000001", Seq: 7,
		At:        time.Date(2026, 11, 2, 10, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		RequestID: "req-1", ConversationID: "conv-1", Channel: "slack", Subject: "erin@bank.example",
		Groups: []string{"retail-ops"}, Action: "product.query_records", Tool: "query_records",
		Product:    "customer-transactions",
		Arguments:  json.RawMessage(`{"product": "customer-transactions", "limit": 50}`),
		Columns:    []string{"amount", "account_id"},
		RowFilters: []audit.Filter{{Column: "region", Op: "=", Value: "europe"}},
		Masks:      map[string]string{"iban": "redact", "account_id": "last4"},
		Decision:   audit.DecisionAllow, Reason: "", RowsReturned: 50, PolicyRevision: "rev-1", Model: "offline",
		Question: `Deposits "in Europe"`, DurationMS: 12,
		PrevHash: "1111111111111111111111111111111111111111111111111111111111111111",
	}
	canonical := `{"id":"0190f5c2-7c3a-7000-8000-000000000001","seq":7,"at":"2026-11-02T09:00:00.123456Z",` +
		`"request_id":"req-1","conversation_id":"conv-1","channel":"slack","subject":"erin@bank.example",` +
		`"groups":["retail-ops"],"action":"product.query_records","tool":"query_records","product":"customer-transactions",` +
		`"arguments":{"limit":50,"product":"customer-transactions"},"columns":["amount","account_id"],` +
		`"row_filters":[{"column":"region","op":"=","value":"europe"}],"masks":{"account_id":"last4","iban":"redact"},` +
		`"decision":"allow","reason":"","rows_returned":50,"policy_revision":"rev-1","model":"offline",` +
		`"question":"Deposits \"in Europe\"","duration_ms":12,` +
		`"prev_hash":"1111111111111111111111111111111111111111111111111111111111111111"}`
	sum := sha256.Sum256([]byte(rec.PrevHash + canonical))
	want := hex.EncodeToString(sum[:])

	rw, err := toRow(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(rw.canonical(nil)); got != canonical {
		t.Errorf("canonical form\n got %s\nwant %s", got, canonical)
	}
	if got := ComputeHash(&rec); got != want {
		t.Errorf("ComputeHash = %s, want %s", got, want)
	}
	// Hash is not part of what is hashed.
	rec.Hash = "anything"
	if got := ComputeHash(&rec); got != want {
		t.Errorf("ComputeHash depends on Hash")
	}

	// Nil and empty hash alike; so do key order and spacing in arguments.
	a := audit.Record{Decision: audit.DecisionDeny, At: rec.At, Arguments: json.RawMessage(`{"b":1, "a":2}`)}
	b := audit.Record{Decision: audit.DecisionDeny, At: rec.At, Arguments: json.RawMessage(`{"a":2,"b":1}`), Groups: []string{},
		Columns: []string{}, RowFilters: []audit.Filter{}, Masks: map[string]string{}}
	if ComputeHash(&a) != ComputeHash(&b) {
		t.Error("nil and empty fields hash differently")
	}
	// Every field counts.
	for name, edit := range map[string]func(r *audit.Record){
		"id": func(r *audit.Record) { r.ID = "x" }, "seq": func(r *audit.Record) { r.Seq = 8 },
		"at":           func(r *audit.Record) { r.At = r.At.Add(time.Microsecond) },
		"groups":       func(r *audit.Record) { r.Groups = []string{"retail-ops", "x"} },
		"arguments":    func(r *audit.Record) { r.Arguments = json.RawMessage(`{"limit":51,"product":"customer-transactions"}`) },
		"filter value": func(r *audit.Record) { r.RowFilters = []audit.Filter{{Column: "region", Op: "=", Value: "asia"}} },
		"masks":        func(r *audit.Record) { r.Masks = map[string]string{"iban": "redact"} },
		"rows":         func(r *audit.Record) { r.RowsReturned = 49 }, "duration": func(r *audit.Record) { r.DurationMS = 13 },
		"reason": func(r *audit.Record) { r.Reason = " " }, "prev_hash": func(r *audit.Record) { r.PrevHash = GenesisHash },
	} {
		r := rec
		edit(&r)
		if ComputeHash(&r) == want {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
	unencodable := audit.Record{Arguments: json.RawMessage(`{`)}
	if bad := ComputeHash(&unencodable); bad != "" {
		t.Errorf("ComputeHash of unencodable record = %q, want empty", bad)
	}
}

// A stored row decodes to a record that encodes back to the same bytes,
// whatever the strings hold.
func TestRowRoundTrip(t *testing.T) {
	t.Parallel()
	rec := audit.Record{
		ID: "id\x00\xff", At: time.Unix(1, 999), Decision: audit.DecisionAllow,
		Groups:     []string{"a\x00", "b\xffc", "\u2028<&>", "tab\there"},
		Columns:    []string{"é", ""},
		RowFilters: []audit.Filter{{Column: "c\x01", Op: "in", Value: []any{1.0, "x\x00", nil, true, map[string]any{"z": 1e300, "a": int64(-5)}}}},
		Masks:      map[string]string{"\x7f": "\x00"},
		Arguments:  json.RawMessage(`{"s":"\ud83d\ude00 \u0000","n":[1e-7, 0.1]}`),
	}
	rw, err := toRow(&rec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := rw.toRecord()
	if err != nil {
		t.Fatal(err)
	}
	rw2, err := toRow(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rw, rw2) {
		t.Errorf("round trip changed the stored form:\n%+v\n%+v", rw, rw2)
	}
	// Append's shortcut (copying what need not be decoded) gives the same
	// record as decoding, for clean and for invalid strings alike.
	for _, src := range []audit.Record{rec, sampleRecord(3), {Decision: audit.DecisionDeny, Groups: []string{"ok"}, Masks: map[string]string{"a": "b"}}} {
		srw, err := toRow(&src)
		if err != nil {
			t.Fatal(err)
		}
		slow, err1 := srw.toRecord()
		fast, err2 := srw.decode(&src)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(slow, fast) {
			t.Errorf("decode shortcut differs:\n%#v\n%#v (%v, %v)", fast, slow, err1, err2)
		}
	}
	if ComputeHash(&back) != ComputeHash(&rec) {
		t.Error("round trip changed the hash")
	}
	if strings.ContainsRune(rw.id, 0) || !json.Valid([]byte(rw.groups)) || !json.Valid([]byte(rw.rowFilters)) || !json.Valid([]byte(rw.masks)) {
		t.Errorf("stored form is not clean: %+v", rw)
	}
}

// referenceCanonicalize is the plain definition of the canonical form, over
// encoding/json: decode (numbers as json.Number), re-encode with sorted keys.
// Canonicalize must agree with it on every input.
func referenceCanonicalize(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return referenceAppend(nil, v), nil
}

func referenceAppend(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		return append(b, v...)
	case string:
		return appendString(b, v)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = referenceAppend(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = referenceAppend(b, v[k])
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("unexpected %T", v))
}

func FuzzCanonicalize(f *testing.F) {
	for _, seed := range []string{
		`{"b":1,"a":{"d":[3,{"z":true,"y":null}],"c":"x"}}`, `{"a":1,"a":2}`, `[1.50,-0,1E+3,2e-7]`,
		`"\u0041\ud83d\ude00\ud800\u0041\udc00x\/"`, "\"bad \xff\xfe utf8 \xed\xa0\x80\"", `{"":{"":[]}}`,
		` [ 1 , 2 ] `, `01`, `1.`, `-`, `tru`, `{"a" 1}`, `[1,]`, "\"a\x01\"", `"\u12"`, `{"a":1}}`,
		`{"é":1,"e":2,"E":3}`, `[[[[[]]]]]`, `{"a":{"b":{"a":1,"b":2},"a":[true,false,null]}}`,
		`"\ud800\ud800\udc00"`, `{"a":1,"b":2,"a":3}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Canonicalize(raw)
		want, werr := referenceCanonicalize(raw)
		if (err != nil) != (werr != nil) {
			t.Fatalf("Canonicalize(%q): err %v, reference err %v", raw, err, werr)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Canonicalize(%q) = %s, reference %s", raw, got, want)
		}
		if !json.Valid(got) {
			t.Fatalf("Canonicalize(%q) = %s is not valid JSON", raw, got)
		}
		again, err := Canonicalize(got)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("not idempotent: %s -> %s (%v)", got, again, err)
		}
	})
}
