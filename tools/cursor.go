package tools

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// cursors are opaque page tokens: an offset bound, by an HMAC, to the asker
// and the query's other arguments. A tampered cursor, or one replayed against
// another query or by another person, is rejected rather than trusted.
type cursors struct{ key []byte }

const cursorMACSize = 16

func (c cursors) encode(offset int, binding []byte) string {
	buf := make([]byte, 8, 8+cursorMACSize)
	binary.BigEndian.PutUint64(buf, uint64(offset))
	buf = append(buf, c.mac(buf[:8], binding)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

var errBadCursor = errors.New("cursor is not valid for this query: pass the next_cursor of a previous call with the same arguments, or omit it")

func (c cursors) decode(s string, binding []byte) (int, error) {
	buf, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(buf) != 8+cursorMACSize {
		return 0, errBadCursor
	}
	if !hmac.Equal(buf[8:], c.mac(buf[:8], binding)) {
		return 0, errBadCursor
	}
	off := binary.BigEndian.Uint64(buf[:8])
	if off > 1<<31 {
		return 0, errBadCursor
	}
	return int(off), nil
}

func (c cursors) mac(offset, binding []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(offset)
	m.Write(binding)
	return m.Sum(nil)[:cursorMACSize]
}
