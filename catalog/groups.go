package catalog

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// sourceLines keeps where a parsed descriptor's parts are: the askmesh
// extension's path and each path's YAML line.
type sourceLines struct {
	ext   string
	lines map[string]int
}

// CheckGroups reports every grant that names a group the directory does
// not have: such a grant can never match anyone, so a misspelt group
// silently takes access away. groups are the directory's groups. Each
// fault names the descriptor's file, line and path and lists the
// directory's groups.
func CheckGroups(products []*Product, groups []string) error {
	known := make(map[string]bool, len(groups))
	var list []string
	for _, g := range groups {
		if !known[g] {
			known[g] = true
			list = append(list, g)
		}
	}
	sort.Strings(list)
	var errs []error
	for _, p := range products {
		fl := newFaults(productSource(p))
		ext := codeExt
		if p.lines != nil {
			fl.lines, ext = p.lines.lines, p.lines.ext
		}
		for i, gr := range p.Access {
			for j, g := range gr.Groups {
				if known[g] {
					continue
				}
				path := idx(dot(idx(dot(ext, "access"), i), "groups"), j)
				fl.add(path, "%s", unknownGroupMsg(g, list))
			}
		}
		if err := fl.err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func unknownGroupMsg(g string, known []string) string {
	msg := fmt.Sprintf("group %q is not in the directory, so this grant matches nobody", g)
	if s, ok := Closest(g, known); ok {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	const most = 30
	switch {
	case len(known) == 0:
		return msg + "; the directory has no groups"
	case len(known) > most:
		return msg + fmt.Sprintf("; the directory's groups are %s and %d more", strings.Join(known[:most], ", "), len(known)-most)
	}
	return msg + "; the directory's groups are " + strings.Join(known, ", ")
}
