package auditlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/catalog"
)

// GenesisHash is the prev_hash of the first record of a chain.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// TimeLayout is how At is written in the canonical form and in the SQLite
// store: UTC, microseconds, fixed width (so text order is time order).
const TimeLayout = catalog.SQLiteTimeLayout

// Canonicalize returns the canonical form of a JSON value: object keys sorted
// (by byte order) at every depth, numbers kept exactly as written, strings
// re-escaped minimally, no insignificant whitespace. Two documents that
// differ only in key order, spacing or string escapes canonicalize to the
// same bytes. It fails on anything that is not exactly one JSON value. It
// reads JSON as encoding/json does (a duplicated key keeps its last value;
// invalid UTF-8 and lone surrogates in strings become U+FFFD).
func Canonicalize(raw json.RawMessage) (json.RawMessage, error) {
	out, err := appendCanonical(make([]byte, 0, len(raw)), raw)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appendCanonical appends raw's canonical form to b (Canonicalize), so
// that toRow writes it into its buffer without a copy. On error b is
// returned as far as it was written.
func appendCanonical(b, raw []byte) ([]byte, error) {
	p := canonParser{data: raw}
	p.skipSpace()
	b, err := p.value(b)
	if err == nil {
		if p.skipSpace(); p.pos < len(p.data) {
			err = p.errorf("trailing data after the JSON value")
		}
	}
	if err != nil {
		return b, fmt.Errorf("audit: canonicalize: %w", err)
	}
	return b, nil
}

// canonParser writes the canonical form while it parses, without building
// Go values: Append canonicalizes the arguments of every tool call.
type canonParser struct {
	data  []byte
	pos   int
	depth int
}

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

func (p *canonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *canonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *canonParser) value(out []byte) ([]byte, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(out)
	case c == '[':
		return p.array(out)
	case c == '"':
		v, plain, err := p.strBytes()
		if err != nil {
			return nil, err
		}
		return appendStr(out, v, plain), nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number(out)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
				p.pos += len(lit)
				return append(out, lit...), nil
			}
		}
		return nil, p.errorf("unexpected %q", c)
	}
}

func (p *canonParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nested too deeply")
	}
	return nil
}

func (p *canonParser) array(out []byte) ([]byte, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // [
	out = append(out, '[')
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return append(out, ']'), nil
	}
	for first := true; ; first = false {
		if !first {
			out = append(out, ',')
		}
		p.skipSpace()
		var err error
		if out, err = p.value(out); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			return append(out, ']'), nil
		default:
			return nil, p.errorf("unexpected %q in an array", p.data[p.pos])
		}
	}
}

// member is one "key":value of an object as written to the output, at
// out[start:end], with its decoded key.
type member struct {
	key        []byte
	start, end int
}

// object writes the members as they come, and reorders them only if their
// keys are not already sorted and unique: arguments encoded by Go usually
// are, and then canonicalizing an object allocates nothing but its member
// list.
func (p *canonParser) object(out []byte) ([]byte, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // {
	var inline [16]member
	members := inline[:0]
	out = append(out, '{')
	body := len(out)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
	} else {
		for {
			p.skipSpace()
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return nil, p.errorf("expected a member name")
			}
			key, plain, err := p.strBytes()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return nil, p.errorf("expected ':' after a member name")
			}
			p.pos++
			p.skipSpace()
			if len(members) > 0 {
				out = append(out, ',')
			}
			start := len(out)
			out = appendStr(out, key, plain)
			out = append(out, ':')
			if out, err = p.value(out); err != nil {
				return nil, err
			}
			members = append(members, member{key, start, len(out)})
			p.skipSpace()
			if p.pos >= len(p.data) {
				return nil, p.errorf("unexpected end of input in an object")
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == '}' {
				p.pos++
				break
			}
			return nil, p.errorf("unexpected %q in an object", p.data[p.pos])
		}
	}
	p.depth--
	ordered := true
	for i := 1; i < len(members) && ordered; i++ {
		ordered = bytes.Compare(members[i-1].key, members[i].key) < 0
	}
	if ordered {
		return append(out, '}'), nil
	}
	return sortMembers(out, body, members), nil
}

// sortMembers rewrites the object members at out[body:] in key order,
// dropping all but the last of equal keys, and closes the object. The
// members are copied aside first, on the stack when small: a function of
// its own, so the nested values' recursion does not carry that buffer.
func sortMembers(out []byte, body int, members []member) []byte {
	var scratch [1024]byte
	written := append(scratch[:0], out[body:]...)
	// Stable, so that of equal keys the last one written comes last and wins.
	slices.SortStableFunc(members, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	out = out[:body]
	n := 0
	for i, m := range members {
		if i+1 < len(members) && bytes.Equal(members[i+1].key, m.key) {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, written[m.start-body:m.end-body]...)
		n++
	}
	return append(out, '}')
}

// strBytes reads a JSON string like str. A string without escapes, control
// characters or invalid UTF-8 (plain) is returned as the input's own bytes,
// which its canonical form repeats verbatim; another is decoded.
func (p *canonParser) strBytes() (v []byte, plain bool, err error) {
	start := p.pos + 1
	d := p.data
	for i := start; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			if v := d[start:i]; utf8.Valid(v) {
				p.pos = i + 1
				return v, true, nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	s, err := p.str()
	return []byte(s), false, err
}

// appendStr writes a string read by strBytes in canonical form.
func appendStr(out, v []byte, plain bool) []byte {
	if plain {
		out = append(out, '"')
		out = append(out, v...)
		return append(out, '"')
	}
	return appendString(out, string(v))
}

// number copies a JSON number as written, after checking its grammar:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *canonParser) number(out []byte) ([]byte, error) {
	start := p.pos
	d := p.data
	digits := func() int {
		n := 0
		for p.pos < len(d) && d[p.pos] >= '0' && d[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if d[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(d) && d[p.pos] == '0':
		p.pos++
	case digits() == 0:
		return nil, p.errorf("invalid number")
	}
	if p.pos < len(d) && d[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	if p.pos < len(d) && (d[p.pos] == 'e' || d[p.pos] == 'E') {
		p.pos++
		if p.pos < len(d) && (d[p.pos] == '+' || d[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	return append(out, d[start:p.pos]...), nil
}

// str reads a JSON string and returns its value, decoded as encoding/json
// does: invalid UTF-8 and unpaired surrogates become U+FFFD.
func (p *canonParser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	d := p.data
	// Fast path: no escapes, valid UTF-8.
	for p.pos < len(d) {
		c := d[p.pos]
		if c == '"' {
			if v := d[start:p.pos]; utf8.Valid(v) {
				p.pos++
				return string(v), nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	p.pos = start
	var b []byte
	for p.pos < len(d) {
		c := d[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(b), nil
		case c < 0x20:
			return "", p.errorf("control character in a string")
		case c == '\\':
			if p.pos+1 >= len(d) {
				return "", p.errorf("unexpected end of input in a string")
			}
			e := d[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					// A pair makes one rune; anything else is U+FFFD, and the
					// second escape is read on its own.
					save := p.pos
					if r2, ok := p.lowSurrogate(); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							continue
						}
					}
					p.pos = save
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", p.errorf("invalid escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(d[p.pos:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d[p.pos:p.pos+size]...)
			}
			p.pos += size
		}
	}
	return "", p.errorf("unexpected end of input in a string")
}

func (p *canonParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

func (p *canonParser) lowSurrogate() (rune, bool) {
	if p.pos+2 > len(p.data) || p.data[p.pos] != '\\' || p.data[p.pos+1] != 'u' {
		return 0, false
	}
	p.pos += 2
	return p.hex4()
}

// jsonPlain marks the ASCII bytes appendString copies as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString writes s as a JSON string, escaping only what JSON requires;
// invalid UTF-8 becomes a literal U+FFFD (not an escape), so encoding what a
// decoder read back gives the same bytes again.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		// Copy the run of bytes that need no escaping at once: every record
		// is encoded when appended and again when hashed.
		j := i
		for j < len(s) && jsonPlain[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// row is a record in the form it is stored and hashed: text columns
// sanitized, JSON-valued columns as canonical JSON text, At as fixed-width
// text. The hash is computed from these bytes, so a stored row can be
// re-hashed without decoding it.
type row struct {
	id             string
	seq            int64
	at             string    // TimeLayout
	atTime         time.Time // the same instant, for stores with a time type
	requestID      string
	clientReqID    string
	conversationID string
	channel        string
	subject        string
	groups         string // JSON array of strings
	action         string
	tool           string
	product        string
	arguments      string // canonical JSON
	columns        string // JSON array of strings
	rowFilters     string // JSON array of {column, op, value}
	masks          string // JSON object, keys sorted
	decision       string
	reason         string
	rowsReturned   int64
	policyRevision string
	model          string
	question       string
	durationMS     int64
	prevHash       string
	hash           string
	// enc, when set, holds the canonical form's middle (enc[:encMid], see
	// appendMid) and the store's own encoding of the same columns
	// (enc[encMid:]), made ahead by encodeAhead.
	enc    *[]byte
	encMid int
}

// canonical is the record's canonical JSON: every field but hash, in the
// Record's field order, JSON-valued fields verbatim as stored.
func (r *row) canonical(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, r.id)
	b = appendNumField(b, "seq", r.seq)
	if r.enc != nil {
		b = append(b, (*r.enc)[:r.encMid]...)
	} else {
		b = r.appendMid(b)
	}
	b = appendStrField(b, "prev_hash", r.prevHash)
	if r.clientReqID != "" { // absent from records before it existed, whose hashes stand
		b = appendStrField(b, "client_request_id", r.clientReqID)
	}
	return append(b, '}')
}

// appendMid writes the canonical form's fields from at to duration_ms:
// all but those the chain decides (seq, prev_hash) and those around them.
func (r *row) appendMid(b []byte) []byte {
	b = appendStrField(b, "at", r.at)
	b = appendStrField(b, "request_id", r.requestID)
	b = appendStrField(b, "conversation_id", r.conversationID)
	b = appendStrField(b, "channel", r.channel)
	b = appendStrField(b, "subject", r.subject)
	b = appendRawField(b, "groups", r.groups)
	b = appendStrField(b, "action", r.action)
	b = appendStrField(b, "tool", r.tool)
	b = appendStrField(b, "product", r.product)
	b = appendRawField(b, "arguments", r.arguments)
	b = appendRawField(b, "columns", r.columns)
	b = appendRawField(b, "row_filters", r.rowFilters)
	b = appendRawField(b, "masks", r.masks)
	b = appendStrField(b, "decision", r.decision)
	b = appendStrField(b, "reason", r.reason)
	b = appendNumField(b, "rows_returned", r.rowsReturned)
	b = appendStrField(b, "policy_revision", r.policyRevision)
	b = appendStrField(b, "model", r.model)
	b = appendStrField(b, "question", r.question)
	return appendNumField(b, "duration_ms", r.durationMS)
}

// appendKey writes ,"name": -- every canonical field but the first.
func appendKey(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func appendStrField(b []byte, name, v string) []byte { return appendString(appendKey(b, name), v) }
func appendRawField(b []byte, name, v string) []byte { return append(appendKey(b, name), v...) }
func appendNumField(b []byte, name string, v int64) []byte {
	return strconv.AppendInt(appendKey(b, name), v, 10)
}

// aheadEncoder is a storage that encodes the columns the chain does not
// decide (at to duration_ms) before the writer takes the row, on the
// appending goroutine.
type aheadEncoder interface {
	appendAhead(b []byte, rw *row) []byte
}

// encBufs hold rows' ahead encodings.
var encBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// encodeAhead fills rw.enc on the appending goroutine, so that the single
// writer, which chains and encodes every record of every batch in turn,
// only copies these bytes.
func (rw *row) encodeAhead(st storage) {
	bp := encBufs.Get().(*[]byte)
	b := rw.appendMid((*bp)[:0])
	rw.encMid = len(b)
	if e, ok := st.(aheadEncoder); ok {
		b = e.appendAhead(b, rw)
	}
	*bp = b
	rw.enc = bp
}

// releaseEnc returns rw.enc to its pool once the row's batch is done with.
func (rw *row) releaseEnc() {
	if rw.enc != nil && cap(*rw.enc) <= 64<<10 { // an outsized record's buffer is not kept
		encBufs.Put(rw.enc)
	}
	rw.enc, rw.encMid = nil, 0
}

// computeHash is hex(sha256(prev_hash || canonical)), prev_hash being the
// 64 hex characters of the previous record's hash.
func (r *row) computeHash() string {
	bp := hashBufs.Get().(*[]byte)
	b := append((*bp)[:0], r.prevHash...)
	b = r.canonical(b)
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 { // an outsized record's buffer is not kept
		*bp = b[:0]
		hashBufs.Put(bp)
	}
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	return string(hx[:])
}

// hashBufs hold the bytes hashed for a record (prev_hash and canonical
// form), reused: every append and every record verified hashes once.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// ComputeHash returns hex(sha256(PrevHash || canonical(r))), where the
// canonical form is r's JSON without Hash: fields in declaration order, At in
// UTC with microseconds (TimeLayout), nil slices and maps as empty ones,
// Arguments and filter values canonicalized (see Canonicalize), and text
// fields as stored (invalid UTF-8 and NUL replaced by U+FFFD). It returns ""
// when r cannot be encoded (arguments that are not JSON, a filter value JSON
// cannot represent); Append rejects such records.
func ComputeHash(r *audit.Record) string {
	rw, err := toRow(r)
	if err != nil {
		return ""
	}
	return rw.computeHash()
}

// cleanText makes s storable in any text column: valid UTF-8, no NUL (which
// PostgreSQL text refuses). Both become U+FFFD, before hashing, so the
// stored bytes are the hashed bytes.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

func appendStrings(b []byte, v []string) []byte {
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// toRow encodes r as stored. It does not validate or fill anything: that is
// prepare's job.
func toRow(r *audit.Record) (*row, error) {
	rw := &row{
		id:             cleanText(r.ID),
		seq:            r.Seq,
		atTime:         r.At.UTC().Truncate(time.Microsecond),
		requestID:      cleanText(r.RequestID),
		clientReqID:    cleanText(r.ClientRequestID),
		conversationID: cleanText(r.ConversationID),
		channel:        cleanText(r.Channel),
		subject:        cleanText(r.Subject),
		action:         cleanText(r.Action),
		tool:           cleanText(r.Tool),
		product:        cleanText(r.Product),
		decision:       cleanText(r.Decision),
		reason:         cleanText(r.Reason),
		rowsReturned:   int64(r.RowsReturned),
		policyRevision: cleanText(r.PolicyRevision),
		model:          cleanText(r.Model),
		question:       cleanText(r.Question),
		durationMS:     r.DurationMS,
		prevHash:       cleanText(r.PrevHash),
		hash:           cleanText(r.Hash),
	}
	// The JSON-valued columns and at are written one after another into a
	// reused buffer, copied out as one string and sliced: one allocation
	// for six columns.
	bp := hashBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 {
			hashBufs.Put(bp)
		}
	}()
	var ends [6]int // where at, groups, columns, arguments, row_filters, masks end
	b := rw.atTime.AppendFormat((*bp)[:0], TimeLayout)
	ends[0] = len(b)
	b = appendStrings(b, r.Groups)
	ends[1] = len(b)
	b = appendStrings(b, r.Columns)
	ends[2] = len(b)

	if len(bytes.TrimSpace(r.Arguments)) == 0 {
		b = append(b, "{}"...)
	} else {
		var err error
		if b, err = appendCanonical(b, r.Arguments); err != nil {
			*bp = b[:0]
			return nil, fmt.Errorf("arguments: %w", err)
		}
	}
	ends[3] = len(b)

	b = append(b, '[')
	for i, f := range r.RowFilters {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"column":`...)
		b = appendString(b, f.Column)
		b = append(b, `,"op":`...)
		b = appendString(b, f.Op)
		b = append(b, `,"value":`...)
		if s, ok := f.Value.(string); ok && utf8.ValidString(s) {
			// The usual value; json.Marshal and Canonicalize would give
			// the same bytes.
			b = appendString(b, s)
		} else {
			v, err := json.Marshal(f.Value)
			if err == nil {
				b, err = appendCanonical(b, v)
			}
			if err != nil {
				*bp = b[:0]
				return nil, fmt.Errorf("row filter %d (%s): value: %w", i, f.Column, err)
			}
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	ends[4] = len(b)

	var inline [16]string
	keys := inline[:0]
	for k := range r.Masks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, r.Masks[k])
	}
	b = append(b, '}')
	ends[5] = len(b)

	all := string(b)
	*bp = b[:0]
	rw.at = all[:ends[0]]
	rw.groups = all[ends[0]:ends[1]]
	rw.columns = all[ends[1]:ends[2]]
	rw.arguments = all[ends[2]:ends[3]]
	rw.rowFilters = all[ends[3]:ends[4]]
	rw.masks = all[ends[4]:ends[5]]
	return rw, nil
}

// toRecord decodes a stored row. Numbers inside filter values come back as
// json.Number, so the record re-encodes to the same bytes.
func (rw *row) toRecord() (audit.Record, error) { return rw.decode(nil) }

// decode is toRecord. When src is the record rw was just made from, fields
// whose strings are all valid UTF-8 are taken from it rather than decoded
// (decoding would give them back unchanged): Append runs this for every
// record, and decoding JSON is most of its cost. They are src's own slices
// and map, not copies: Append puts the result back into src itself.
func (rw *row) decode(src *audit.Record) (audit.Record, error) {
	rec := audit.Record{
		ID:              rw.id,
		Seq:             rw.seq,
		RequestID:       rw.requestID,
		ClientRequestID: rw.clientReqID,
		ConversationID:  rw.conversationID,
		Channel:         rw.channel,
		Subject:         rw.subject,
		Action:          rw.action,
		Tool:            rw.tool,
		Product:         rw.product,
		Decision:        rw.decision,
		Reason:          rw.reason,
		RowsReturned:    int(rw.rowsReturned),
		PolicyRevision:  rw.policyRevision,
		Model:           rw.model,
		Question:        rw.question,
		DurationMS:      rw.durationMS,
		PrevHash:        rw.prevHash,
		Hash:            rw.hash,
	}
	if src != nil && string(src.Arguments) == rw.arguments {
		rec.Arguments = src.Arguments // already canonical: no copy
	} else {
		rec.Arguments = json.RawMessage(rw.arguments)
	}
	if !rw.atTime.IsZero() {
		rec.At = rw.atTime.UTC()
	} else {
		t, err := time.Parse(TimeLayout, rw.at)
		if err != nil {
			return audit.Record{}, fmt.Errorf("record seq %d: at %q: %w", rw.seq, rw.at, err)
		}
		rec.At = t
	}
	var err error
	if src != nil && validStrings(src.Groups) {
		rec.Groups = src.Groups
	} else if rec.Groups, err = decodeColumn[[]string](rw.seq, "groups", rw.groups); err != nil {
		return audit.Record{}, err
	}
	if src != nil && validStrings(src.Columns) {
		rec.Columns = src.Columns
	} else if rec.Columns, err = decodeColumn[[]string](rw.seq, "columns", rw.columns); err != nil {
		return audit.Record{}, err
	}
	if src != nil && validMap(src.Masks) {
		rec.Masks = src.Masks
	} else if rec.Masks, err = decodeColumn[map[string]string](rw.seq, "masks", rw.masks); err != nil {
		return audit.Record{}, err
	}
	// Filter values come back as generic JSON: decoded, unless they are all
	// valid strings, which decode to themselves.
	if src != nil && plainFilters(src.RowFilters) {
		rec.RowFilters = src.RowFilters
	} else if src == nil || len(src.RowFilters) > 0 {
		if rec.RowFilters, err = decodeColumn[[]audit.Filter](rw.seq, "row_filters", rw.rowFilters); err != nil {
			return audit.Record{}, err
		}
	}
	if rec.Groups == nil {
		rec.Groups = []string{}
	}
	if rec.Columns == nil {
		rec.Columns = []string{}
	}
	if rec.RowFilters == nil {
		rec.RowFilters = []audit.Filter{}
	}
	if rec.Masks == nil {
		rec.Masks = map[string]string{}
	}
	return rec, nil
}

// decodeColumn decodes a JSON-valued column. It is a function of its own so
// that only rows taking this path pay for a heap-allocated target (a
// closure over the record made every decoded record escape).
func decodeColumn[T any](seq int64, name, text string) (T, error) {
	var v T
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("record seq %d: %s: %w", seq, name, err)
	}
	return v, nil
}

func plainFilters(fs []audit.Filter) bool {
	for _, f := range fs {
		s, ok := f.Value.(string)
		if !ok || !utf8.ValidString(s) || !utf8.ValidString(f.Column) || !utf8.ValidString(f.Op) {
			return false
		}
	}
	return true
}

func validStrings(v []string) bool {
	for _, s := range v {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

func validMap(m map[string]string) bool {
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// validate rejects records the log must not hold, before they reach a batch
// (where one bad record would fail everyone else's).
func validate(r *audit.Record) error {
	switch r.Decision {
	case audit.DecisionAllow, audit.DecisionDeny, audit.DecisionError:
	default:
		return fmt.Errorf("decision %q is not one of allow, deny, error", r.Decision)
	}
	if r.RowsReturned < 0 || r.RowsReturned > math.MaxInt32 {
		return fmt.Errorf("rows_returned %d is out of range", r.RowsReturned)
	}
	if y := r.At.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("at %s is out of range", r.At)
	}
	return nil
}
