package productapi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/askmesh/askmesh/catalog"
)

// maxRecordID bounds a record id; real keys are short.
const maxRecordID = 256

// ValidRecordID checks that id can be a value of p's key column: not empty,
// not a path segment that means something else ("." or ".."), no slashes,
// no control characters, and of the key column's type. The REST backend refuses to
// send any other id, so an id can never change which resource it reaches
// (".." was the product's description, "." its records); a product API
// refuses it too.
func ValidRecordID(p *catalog.Product, id string) error {
	switch {
	case id == "":
		return errors.New("the record id is empty")
	case id == "." || id == "..":
		return fmt.Errorf("%q is not a record id", id)
	case strings.ContainsAny(id, "/\\"):
		// Escaped or not, a slash makes "." and ".." segments that servers clean.
		return errors.New("a record id has no / or \\")
	case len(id) > maxRecordID:
		return fmt.Errorf("a record id is at most %d bytes", maxRecordID)
	}
	for _, r := range id {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return errors.New("a record id has no control characters")
		}
	}
	col, ok := p.Column(p.KeyColumn)
	if !ok {
		return nil
	}
	var err error
	switch col.Type {
	case catalog.TypeInteger:
		_, err = strconv.ParseInt(id, 10, 64)
	case catalog.TypeNumber:
		_, err = strconv.ParseFloat(id, 64)
	case catalog.TypeBoolean:
		_, err = strconv.ParseBool(id)
	case catalog.TypeDate:
		_, err = time.Parse("2006-01-02", id)
	case catalog.TypeTimestamp:
		_, err = time.Parse(time.RFC3339Nano, id)
	}
	if err != nil {
		return fmt.Errorf("%q is not a %s, the type of %s's key %s", id, col.Type, p.Name, p.KeyColumn)
	}
	return nil
}
