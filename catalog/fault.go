package catalog

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Fault is one thing wrong with a descriptor. Loading reports every fault
// of every file at once (errors.Join), each naming file, line and path:
//
//	products/loans.yaml:48: schema[0].properties[3].logicalType: "strng" is not one of string, integer, number, boolean, date, timestamp
type Fault struct {
	Source string // the descriptor file (or product name for products built in code)
	Line   int    // 1-based YAML line; 0 when unknown
	Path   string // e.g. schema[0].properties[3].logicalType; empty for the whole file
	Msg    string
}

func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString(f.Source)
	if f.Line > 0 {
		fmt.Fprintf(&b, ":%d", f.Line)
	}
	b.WriteString(": ")
	if f.Path != "" {
		b.WriteString(f.Path)
		b.WriteString(": ")
	}
	b.WriteString(f.Msg)
	return b.String()
}

// Faults returns every Fault inside err (as returned by Parse, LoadFS,
// LoadDir or NewRegistry), in order.
func Faults(err error) []*Fault {
	var out []*Fault
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if f, ok := e.(*Fault); ok {
			out = append(out, f)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// faults collects the faults of one descriptor. One fault per path: a
// value already reported as malformed is not reported again as missing.
type faults struct {
	source string
	lines  map[string]int // path -> line, filled while decoding YAML
	list   []*Fault
	paths  map[string]bool
}

func newFaults(source string) *faults {
	return &faults{source: source, lines: map[string]int{}, paths: map[string]bool{}}
}

func (fs *faults) add(path, format string, a ...any) {
	fs.addAt(fs.line(path), path, format, a...)
}

func (fs *faults) addAt(line int, path, format string, a ...any) {
	if fs.paths[path] {
		return
	}
	fs.paths[path] = true
	fs.list = append(fs.list, &Fault{Source: fs.source, Line: line, Path: path, Msg: fmt.Sprintf(format, a...)})
}

// setLine records where path is, unless known: a key's line is where a
// reader looks, not the line its block value starts on.
func (fs *faults) setLine(path string, line int) {
	if path == "" {
		path = rootPath
	}
	if _, ok := fs.lines[path]; !ok {
		fs.lines[path] = line
	}
}

// rootPath keys the document's own line.
const rootPath = "(root)"

// line finds the line of path, or of its nearest ancestor that has one.
func (fs *faults) line(path string) int {
	if path == "" {
		return fs.lines[rootPath]
	}
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := fs.lines[p]; ok {
			return l
		}
	}
	return 0
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// err returns the faults in file order, or nil.
func (fs *faults) err() error {
	if len(fs.list) == 0 {
		return nil
	}
	sort.SliceStable(fs.list, func(i, j int) bool { return fs.list[i].Line < fs.list[j].Line })
	errs := make([]error, len(fs.list))
	for i, f := range fs.list {
		errs[i] = f
	}
	return errors.Join(errs...)
}

func idx(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func dot(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
