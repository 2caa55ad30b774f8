package textfmt

import (
	"fmt"
	"strings"
	"unicode"
)

// CSVCell neutralises a spreadsheet formula: a cell that starts with = + - @
// or a tab or carriage return is prefixed with ' so Excel, LibreOffice and
// Sheets show it as text instead of running it (=HYPERLINK(...), =cmd|...).
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Terminal escapes control characters (ESC, BEL, CR, backspace, C1 codes,
// bidi overrides) as \x.. / \u.... so text from users or data printed on a
// terminal cannot move the cursor, clear the screen or retitle the window.
// Newlines and tabs are kept only when keepLines is set.
func Terminal(s string, keepLines bool) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r, keepLines) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r, keepLines):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func unsafeRune(r rune, keepLines bool) bool {
	if keepLines && (r == '\n' || r == '\t') {
		return false
	}
	// Cc covers C0, DEL and C1; Cf covers the bidi overrides and isolates
	// (U+202A..E, U+2066..9) that reorder what the reader sees.
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r)
}
