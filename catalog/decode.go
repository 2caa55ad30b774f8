package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxDescriptorSize bounds one descriptor file; real ones are a few KiB.
const maxDescriptorSize = 1 << 20

// LoadDir loads every descriptor (*.yaml, *.yml) under dir, recursively,
// and builds a registry. Errors name each file by its path under dir.
func LoadDir(dir string) (*Registry, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("catalog directory: %w", err)
	}
	return loadFS(os.DirFS(dir), ".", func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) })
}

// LoadFS loads every descriptor (*.yaml, *.yml) under dir in fsys,
// recursively, and builds a registry. Every fault of every file is
// reported, each naming file, line and path; duplicate product names name
// both files.
func LoadFS(fsys fs.FS, dir string) (*Registry, error) {
	return loadFS(fsys, dir, func(p string) string { return p })
}

func loadFS(fsys fs.FS, dir string, display func(string) string) (*Registry, error) {
	var files []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != dir && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: reading %s: %w", display(dir), err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("catalog: no descriptors (*.yaml) in %s", display(dir))
	}
	sort.Strings(files)
	var errs []error
	products := make([]*Product, 0, len(files))
	for _, f := range files {
		data, err := readLimited(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", display(f), err))
			continue
		}
		p, err := Parse(display(f), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		products = append(products, p)
	}
	reg, err := NewRegistry(products...)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return reg, nil
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDescriptorSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxDescriptorSize {
		return nil, fmt.Errorf("larger than %d bytes; is it a descriptor?", maxDescriptorSize)
	}
	return data, nil
}

// Parse reads one descriptor: ODCS v3 YAML with the askmesh extension.
// source names it in errors (usually its file path). The error, if any,
// lists every fault found (see Faults).
func Parse(source string, data []byte) (*Product, error) {
	fl := newFaults(source)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			fl.add("", "empty descriptor")
			return nil, fl.err()
		}
		return nil, yamlFault(source, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		fl.addAt(extra.Line, "", "a second YAML document; a descriptor file holds one product")
	case !errors.Is(err, io.EOF):
		return nil, yamlFault(source, err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 0 {
		fl.add("", "empty descriptor")
		return nil, fl.err()
	}
	d := &decoder{f: fl}
	p := d.product(&doc)
	if p != nil {
		resolve(p, fl, d.ext, d.precisionGiven, true)
		p.lines = &sourceLines{ext: d.ext, lines: fl.lines}
	}
	if err := fl.err(); err != nil {
		return nil, err
	}
	return p, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlFault turns a YAML syntax error into a Fault with its line.
func yamlFault(source string, err error) error {
	msg := err.Error()
	f := &Fault{Source: source, Msg: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		f.Line, _ = strconv.Atoi(m[1])
		f.Msg = "invalid YAML: " + msg[len(m[0]):]
	}
	return f
}

// decoder walks the YAML tree, recording each path's line and reporting
// shape faults (a list where a mapping belongs, a missing required field).
type decoder struct {
	f   *faults
	ext string // path of the askmesh extension's value
	// precisionGiven[i] says metric i set its precision; others get defaults.
	precisionGiven []bool
}

// node is a YAML mapping with its path.
type node struct {
	d    *decoder
	path string
	keys []*yaml.Node // key nodes, in order
	vals map[string]*yaml.Node
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func (d *decoder) mapping(path string, n *yaml.Node) (*node, bool) {
	n = deref(n)
	if n == nil {
		return nil, false
	}
	d.f.setLine(path, n.Line)
	if n.Kind != yaml.MappingNode {
		d.f.add(path, "expected a mapping (key: value lines), found %s", kindName(n))
		return nil, false
	}
	m := &node{d: d, path: path, vals: make(map[string]*yaml.Node, len(n.Content)/2)}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		kp := dot(path, key)
		if _, dup := m.vals[key]; dup {
			d.f.add(kp, "is set twice, on lines %d and %d; YAML keeps only one", d.f.lines[kp], k.Line)
			continue
		}
		d.f.lines[kp] = k.Line
		m.keys = append(m.keys, k)
		m.vals[key] = v
	}
	return m, true
}

func (d *decoder) sequence(path string, n *yaml.Node) ([]*yaml.Node, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, false
	}
	d.f.setLine(path, n.Line)
	if n.Kind != yaml.SequenceNode {
		d.f.add(path, "expected a list, found %s", kindName(n))
		return nil, false
	}
	for i, item := range n.Content {
		d.f.lines[idx(path, i)] = deref(item).Line
	}
	return n.Content, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// strict reports keys outside allowed; used inside the askmesh extension,
// where a misspelt key would silently change behaviour.
func (m *node) strict(allowed ...string) {
	for _, k := range m.keys {
		if !contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s, ok := Closest(k.Value, allowed); ok {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += "; keys here are " + strings.Join(allowed, ", ")
			}
			m.d.f.add(dot(m.path, k.Value), "%s", msg)
		}
	}
}

func (m *node) get(key string) *yaml.Node {
	n := deref(m.vals[key])
	if isNull(n) {
		return nil
	}
	return n
}

// str reads a scalar as text; required reports it when absent.
func (m *node) str(key string, required bool) string {
	p := dot(m.path, key)
	n := m.get(key)
	if n == nil {
		if required {
			m.d.f.add(p, "is required")
		}
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		m.d.f.add(p, "expected a single value, found %s", kindName(n))
		return ""
	}
	if required && strings.TrimSpace(n.Value) == "" {
		m.d.f.add(p, "is empty")
	}
	return n.Value
}

// strs reads a list of scalars (a single scalar is not accepted: lists are
// written [a, b] so that a typo cannot turn one into the other).
func (m *node) strs(key string) []string {
	p := dot(m.path, key)
	items, ok := m.d.sequence(p, m.get(key))
	if !ok {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		it = deref(it)
		if it.Kind != yaml.ScalarNode || isNull(it) {
			m.d.f.add(idx(p, i), "expected a value, found %s", kindName(it))
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

func (m *node) boolean(key string) bool {
	n := m.get(key)
	if n == nil {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		m.d.f.add(dot(m.path, key), "must be true or false, found %s", kindName(n))
		return false
	}
	return n.Value == "true"
}

// number reads a numeric scalar; ok is false when absent or malformed.
func (m *node) number(key string) (float64, bool) {
	n := m.get(key)
	if n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		m.d.f.add(dot(m.path, key), "must be a number, found %s", kindName(n))
		return 0, false
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		m.d.f.add(dot(m.path, key), "must be a number, found %q", n.Value)
		return 0, false
	}
	return v, true
}

func (m *node) integer(key string) (int, bool) {
	n := m.get(key)
	if n == nil {
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		m.d.f.add(dot(m.path, key), "must be a whole number, found %s", kindName(n))
		return 0, false
	}
	return v, true
}

// list walks a sequence of mappings.
func (m *node) list(key string, each func(i int, item *node)) {
	p := dot(m.path, key)
	items, ok := m.d.sequence(p, m.get(key))
	if !ok {
		return
	}
	for i, it := range items {
		if item, ok := m.d.mapping(idx(p, i), it); ok {
			each(i, item)
		}
	}
}

var apiVersionRE = regexp.MustCompile(`^v3\.[0-9]+\.[0-9]+$`)

// product decodes the ODCS document. ODCS fields askmesh does not use are
// ignored; the askmesh extension is read strictly.
func (d *decoder) product(doc *yaml.Node) *Product {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	m, ok := d.mapping("", root)
	if !ok {
		return nil
	}
	p := &Product{Source: d.f.source}
	if v := m.str("apiVersion", true); v != "" && !apiVersionRE.MatchString(v) {
		d.f.add("apiVersion", "%q is not supported; askmesh reads ODCS v3 (e.g. v3.1.0)", v)
	}
	if k := m.str("kind", true); k != "" && k != "DataContract" {
		d.f.add("kind", "%q: expected DataContract", k)
	}
	p.ID = m.str("id", true)
	p.Name = m.str("name", true)
	p.Version = m.str("version", true)
	p.Status = m.str("status", true)
	p.Domain = m.str("domain", true)
	p.DataProduct = m.str("dataProduct", false)
	d.description(m, p)
	p.Tags = m.strs("tags")
	p.Owner = d.owner(m)
	d.freshness(m, p)
	d.schema(m, p)
	d.extension(m, p)
	return p
}

func (d *decoder) description(m *node, p *Product) {
	n := m.get("description")
	switch {
	case n == nil:
		d.f.add("description", "is required (purpose, usage, limitations): people and the assistant choose products by it")
		return
	case n.Kind == yaml.ScalarNode:
		d.f.lines["description"] = n.Line
		p.Purpose = strings.TrimSpace(n.Value)
	default:
		dm, ok := d.mapping("description", n)
		if !ok {
			return
		}
		p.Purpose = strings.TrimSpace(dm.str("purpose", true))
		p.Usage = strings.TrimSpace(dm.str("usage", false))
		p.Limitations = strings.TrimSpace(dm.str("limitations", false))
	}
	p.Description = JoinDescription(p.Purpose, p.Usage, p.Limitations)
}

func JoinDescription(purpose, usage, limitations string) string {
	parts := []string{purpose}
	if usage != "" {
		parts = append(parts, "Usage: "+usage)
	}
	if limitations != "" {
		parts = append(parts, "Limitations: "+limitations)
	}
	return strings.Join(parts, " ")
}

// owner reads the team: the ODCS v3.0 list of members or the v3.1 object
// with members. Current members (no dateOut) with role owner are owners.
func (d *decoder) owner(m *node) string {
	n := m.get("team")
	if n == nil {
		d.f.add("team", "is required: a team member with role owner is accountable for the product")
		return ""
	}
	membersOf := m
	key := "team"
	if n.Kind == yaml.MappingNode {
		tm, ok := d.mapping("team", n)
		if !ok {
			return ""
		}
		membersOf, key = tm, "members"
	}
	var owners []string
	membersOf.list(key, func(i int, mem *node) {
		role := mem.str("role", false)
		if strings.EqualFold(role, "owner") && mem.get("dateOut") == nil {
			if u := mem.str("username", true); u != "" {
				owners = append(owners, u)
			}
		}
	})
	if len(owners) == 0 {
		d.f.add("team", "no current member with role owner; one is accountable for the product")
	}
	return strings.Join(owners, ", ")
}

func (d *decoder) freshness(m *node, p *Product) {
	m.list("slaProperties", func(i int, sla *node) {
		if sla.str("property", false) != "freshness" {
			return
		}
		v, ok := sla.number("value")
		if !ok {
			if sla.get("value") == nil {
				d.f.add(dot(sla.path, "value"), "is required")
			}
			return
		}
		if v < 0 {
			d.f.add(dot(sla.path, "value"), "must not be negative")
			return
		}
		var unit time.Duration
		switch u := sla.str("unit", true); u {
		case "d", "day", "days":
			unit = 24 * time.Hour
		case "h", "hour", "hours":
			unit = time.Hour
		case "m", "minute", "minutes":
			unit = time.Minute
		case "":
			return
		default:
			d.f.add(dot(sla.path, "unit"), "%q is not one of d, h, m (days, hours, minutes)", u)
			return
		}
		p.Freshness = time.Duration(v * float64(unit))
	})
}

func (d *decoder) schema(m *node, p *Product) {
	items, ok := d.sequence("schema", m.get("schema"))
	if !ok {
		if m.get("schema") == nil {
			d.f.add("schema", "is required: one schema object describing the product's table")
		}
		return
	}
	switch {
	case len(items) == 0:
		d.f.add("schema", "is empty: one schema object describing the product's table is required")
		return
	case len(items) > 1:
		d.f.add("schema[1]", "a descriptor describes one table; found %d schema objects (split them into one descriptor each)", len(items))
	}
	so, ok := d.mapping("schema[0]", items[0])
	if !ok {
		return
	}
	if name := so.str("name", true); name != "" {
		checkIdent(d.f, "schema[0].name", name)
	}
	if pn := so.str("physicalName", false); pn != "" {
		checkIdent(d.f, "schema[0].physicalName", pn)
	}
	props, ok := d.sequence("schema[0].properties", so.get("properties"))
	if !ok {
		if so.get("properties") == nil {
			d.f.add("schema[0].properties", "is required: the product's columns")
		}
		return
	}
	for i, it := range props {
		path := idx("schema[0].properties", i)
		pm, ok := d.mapping(path, it)
		if !ok {
			// Keep indexes aligned with the YAML for later faults.
			p.Columns = append(p.Columns, Column{})
			continue
		}
		c := Column{
			Name:           pm.str("name", true),
			Type:           pm.str("logicalType", true),
			Description:    strings.TrimSpace(pm.str("description", false)),
			Classification: pm.str("classification", false),
			PrimaryKey:     pm.boolean("primaryKey"),
			Unique:         pm.boolean("unique"),
			Examples:       pm.strs("examples"),
		}
		if pm.get("classification") == nil {
			d.f.add(dot(path, "classification"), "is required: every column is classified (public, internal, confidential, pii or restricted)")
		}
		c.Nullable = !pm.boolean("required") && !c.PrimaryKey
		if pn := pm.str("physicalName", false); pn != "" && pn != c.Name {
			d.f.add(dot(path, "physicalName"), "%q differs from the name %q; askmesh queries columns by name, so name the property as the column is named", pn, c.Name)
		}
		pm.list("customProperties", func(j int, cp *node) {
			switch cp.str("property", false) {
			case "values":
				c.Values = cp.strs("value")
			case "synonyms":
				c.Synonyms = cp.strs("value")
			case ReviewProperty:
				c.Review = cp.str("value", false)
			}
		})
		p.Columns = append(p.Columns, c)
	}
}

// Keys of the askmesh extension and its parts.
var (
	extKeys     = []string{"synonyms", "timeColumn", "capabilities", "dimensions", "metrics", "headlineMetrics", "anomalies", "units", "exampleQuestions", "access", "backend", "verifiedQuestions"}
	unitKeys    = []string{"column", "unitColumn", "kind"}
	metricKeys  = []string{"name", "expression", "combine", "description", "unit", "precision", "synonyms"}
	anomalyKeys = []string{"column", "groupBy", "stdDevs"}
	grantKeys   = []string{"groups", "actions", "see", "mask", "rowFilters"}
	filterKeys  = []string{"column", "op", "value", "subjectAttribute"}
	backendKeys = []string{"kind", "database", "schema", "table", "dsnEnv", "url", "tokenEnv", "join"}
)

func (d *decoder) extension(m *node, p *Product) {
	var found []int
	var ext *yaml.Node
	m.list("customProperties", func(i int, cp *node) {
		if cp.str("property", false) == "askmesh" {
			found = append(found, i)
			if ext == nil {
				ext = cp.get("value")
				d.ext = idx("customProperties", i) + ".value"
			}
		}
	})
	switch {
	case len(found) == 0:
		d.f.add("customProperties", "no entry with property: askmesh; it declares how askmesh serves the product (backend, metrics, access)")
		return
	case len(found) > 1:
		d.f.add(idx("customProperties", found[1]), "a second askmesh entry; declare the extension once")
	}
	if ext == nil {
		d.f.add(d.ext, "is required: the askmesh extension's settings")
		d.ext = ""
		return
	}
	x, ok := d.mapping(d.ext, ext)
	if !ok {
		d.ext = ""
		return
	}
	x.strict(extKeys...)
	p.Synonyms = x.strs("synonyms")
	p.TimeColumn = x.str("timeColumn", false)
	if x.get("capabilities") == nil {
		d.f.add(dot(d.ext, "capabilities"), "is required: what askmesh may do with the product (%s); [] for discovery only", strings.Join(capabilities, ", "))
	}
	p.Capabilities = x.strs("capabilities")
	if p.Capabilities == nil {
		p.Capabilities = []string{}
	}
	p.Dimensions = x.strs("dimensions")
	p.HeadlineMetrics = x.strs("headlineMetrics")
	p.ExampleQuestions = x.strs("exampleQuestions")
	d.verified(x, p)

	metricsPath := dot(d.ext, "metrics")
	if items, ok := d.sequence(metricsPath, x.get("metrics")); ok {
		for i, it := range items {
			var mt Metric
			given := false
			if mm, ok := d.mapping(idx(metricsPath, i), it); ok {
				mm.strict(metricKeys...)
				mt.Name = mm.str("name", true)
				if c := mm.str("combine", false); c != "" {
					var err error
					if mt.Combine, err = ParseCombination(c); err != nil {
						d.f.add(dot(idx(metricsPath, i), "combine"), "%v", err)
					}
				}
				mt.Expression = mm.str("expression", mt.Combine == nil)
				mt.Description = strings.TrimSpace(mm.str("description", false))
				mt.Unit = mm.str("unit", false)
				mt.Synonyms = mm.strs("synonyms")
				mt.Precision, given = mm.integer("precision")
			}
			p.Metrics = append(p.Metrics, mt)
			d.precisionGiven = append(d.precisionGiven, given)
		}
	}

	if n := x.get("anomalies"); n != nil {
		if am, ok := d.mapping(dot(d.ext, "anomalies"), n); ok {
			am.strict(anomalyKeys...)
			a := &AnomalySpec{Column: am.str("column", true), GroupBy: am.str("groupBy", true), StdDevs: 3}
			if v, ok := am.number("stdDevs"); ok {
				a.StdDevs = v
			}
			p.Anomalies = a
		}
	}

	unitsPath := dot(d.ext, "units")
	if items, ok := d.sequence(unitsPath, x.get("units")); ok {
		for i, it := range items {
			var u UnitSpec
			if um, ok := d.mapping(idx(unitsPath, i), it); ok {
				um.strict(unitKeys...)
				u = UnitSpec{Column: um.str("column", true), UnitColumn: um.str("unitColumn", true), Kind: um.str("kind", false)}
				if u.Kind == "" {
					u.Kind = UnitKindUnit
				}
			}
			p.Units = append(p.Units, u)
		}
	}

	accessPath := dot(d.ext, "access")
	if items, ok := d.sequence(accessPath, x.get("access")); ok {
		for i, it := range items {
			var g Grant
			gp := idx(accessPath, i)
			if gm, ok := d.mapping(gp, it); ok {
				gm.strict(grantKeys...)
				g.Groups = gm.strs("groups")
				if gm.get("groups") == nil {
					d.f.add(dot(gp, "groups"), "is required: the directory groups this grant is for")
				}
				g.Actions = gm.strs("actions")
				if gm.get("actions") == nil {
					d.f.add(dot(gp, "actions"), "is required: records, metrics or both")
				}
				g.See = gm.strs("see")
				if n := gm.get("mask"); n != nil {
					if mm, ok := d.mapping(dot(gp, "mask"), n); ok {
						g.Mask = make(map[string]string, len(mm.keys))
						for _, k := range mm.keys {
							g.Mask[k.Value] = mm.str(k.Value, true)
						}
					}
				}
				gm.list("rowFilters", func(j int, fm *node) {
					fm.strict(filterKeys...)
					g.RowFilters = append(g.RowFilters, d.rowFilter(fm))
				})
			}
			p.Access = append(p.Access, g)
		}
	}

	bp := dot(d.ext, "backend")
	if n := x.get("backend"); n == nil {
		d.f.add(bp, "is required: where the product's data lives (kind: %s)", strings.Join(backendKinds, ", "))
	} else if bm, ok := d.mapping(bp, n); ok {
		// Credentials never live in descriptors; say so plainly.
		for _, k := range []string{"dsn", "token"} {
			if _, set := bm.vals[k]; set {
				d.f.add(dot(bp, k), "credentials never go in a descriptor; name the environment variable that holds them with %sEnv", k)
			}
		}
		bm.strict(append(backendKeys, "dsn", "token")...)
		p.Binding = Binding{
			Kind:     bm.str("kind", true),
			Database: bm.str("database", false),
			Schema:   bm.str("schema", false),
			Table:    bm.str("table", false),
			DSNEnv:   bm.str("dsnEnv", false),
			URL:      bm.str("url", false),
			TokenEnv: bm.str("tokenEnv", false),
		}
		if n := bm.get("join"); n != nil {
			jp := dot(bp, "join")
			if jm, ok := d.mapping(jp, n); ok {
				p.Join = map[string]map[string]string{}
				for _, k := range jm.keys {
					sides, ok := d.mapping(dot(jp, k.Value), jm.vals[k.Value])
					if !ok {
						continue
					}
					cols := map[string]string{}
					for _, sk := range sides.keys {
						cols[sk.Value] = sides.str(sk.Value, true)
					}
					p.Join[k.Value] = cols
				}
			}
		}
	}
}

// rowFilter reads a grant's row filter; the value keeps its YAML type
// (string, int64, float64, bool, or a list of them for "in") and is checked
// against the column later.
func (d *decoder) rowFilter(fm *node) GrantRowFilter {
	rf := GrantRowFilter{
		Column:           fm.str("column", true),
		Op:               fm.str("op", true),
		SubjectAttribute: fm.str("subjectAttribute", false),
	}
	vp := dot(fm.path, "value")
	n := fm.get("value")
	switch {
	case n == nil:
	case n.Kind == yaml.SequenceNode:
		var vals []any
		for i, it := range n.Content {
			it = deref(it)
			d.f.lines[idx(vp, i)] = it.Line
			v, ok := scalarValue(it)
			if !ok {
				d.f.add(idx(vp, i), "expected a value, found %s", kindName(it))
				continue
			}
			vals = append(vals, v)
		}
		if vals == nil {
			vals = []any{}
		}
		rf.Value = vals
	default:
		v, ok := scalarValue(n)
		if !ok {
			d.f.add(vp, "expected a value or a list of values, found %s", kindName(n))
		}
		rf.Value = v
	}
	return rf
}

func scalarValue(n *yaml.Node) (any, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return nil, false
	}
	switch n.Tag {
	case "!!int":
		if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return v, true
		}
	case "!!float":
		if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return v, true
		}
	case "!!bool":
		return n.Value == "true", true
	}
	return n.Value, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
