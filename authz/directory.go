package authz

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// User is one person in the directory.
type User struct {
	ID         string            `yaml:"id" json:"id"`
	Name       string            `yaml:"name" json:"name,omitempty"`
	Title      string            `yaml:"title" json:"title,omitempty"`
	Groups     []string          `yaml:"groups" json:"groups"`
	Attributes map[string]string `yaml:"attributes" json:"attributes,omitempty"`
}

// Directory is who may use askmesh: users, their groups and attributes.
// Identities from Slack, tokens and OIDC are resolved against it, and
// policies read it as data.askmesh.directory. It is read-only once loaded.
type Directory struct {
	users []User
	byID  map[string]int // lower-cased id -> index in users
	// groups are declared with no members yet (a team not onboarded), so
	// that grants naming them are not taken for misspellings.
	groups []string
}

// maxDirectorySize bounds a directory file; a real one of thousands of
// users is a few MiB.
const maxDirectorySize = 64 << 20

var (
	groupRE     = regexp.MustCompile(`^[^\s]+$`)
	attributeRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
)

// LoadDirectory reads a directory as YAML:
//
//	users:
//	  - id: erin@bank.example
//	    name: Erin Novak
//	    title: Retail Operations, Europe
//	    groups: [retail-ops]
//	    attributes: {region: europe}
//	groups: [customer-service]  # optional: groups no user has yet
//
// Ids must be present and unique, ignoring case; unknown keys are errors,
// since a misspelt "group:" would silently take access away (or give it).
// Every problem found is reported.
func LoadDirectory(r io.Reader) (*Directory, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDirectorySize+1))
	if err != nil {
		return nil, fmt.Errorf("directory: reading: %w", err)
	}
	if len(data) > maxDirectorySize {
		return nil, fmt.Errorf("directory: larger than %d bytes", maxDirectorySize)
	}
	var doc struct {
		Users  []User   `yaml:"users"`
		Groups []string `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("directory: empty; list users under users:")
		}
		return nil, fmt.Errorf("directory: %w", err)
	}
	d, err := NewDirectory(doc.Users)
	if err != nil {
		return nil, err
	}
	for i, g := range doc.Groups {
		if !groupRE.MatchString(g) {
			return nil, fmt.Errorf("directory: groups[%d]: %q is not a group name", i, g)
		}
	}
	d.groups = doc.Groups
	return d, nil
}

// NewDirectory builds a directory from users, validating them as
// LoadDirectory does. The users are copied.
func NewDirectory(users []User) (*Directory, error) {
	if len(users) == 0 {
		return nil, errors.New("directory: no users; list them under users:")
	}
	d := &Directory{users: make([]User, 0, len(users)), byID: make(map[string]int, len(users))}
	var errs []error
	for i, u := range users {
		where := fmt.Sprintf("users[%d]", i)
		u.ID = strings.TrimSpace(u.ID)
		if u.ID != "" {
			where += " (" + u.ID + ")"
		}
		switch key := strings.ToLower(u.ID); {
		case u.ID == "":
			errs = append(errs, fmt.Errorf("directory: %s: id is required", where))
		case d.byID[key] > 0:
			errs = append(errs, fmt.Errorf("directory: %s: id %q is already used by users[%d]; ids are unique, ignoring case", where, u.ID, d.byID[key]-1))
		default:
			d.byID[key] = i + 1 // +1 until the end, so that 0 means absent
		}
		for j, g := range u.Groups {
			if !groupRE.MatchString(g) {
				errs = append(errs, fmt.Errorf("directory: %s: groups[%d]: %q is not a group name", where, j, g))
			}
		}
		keys := make([]string, 0, len(u.Attributes))
		for k := range u.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !attributeRE.MatchString(k) {
				errs = append(errs, fmt.Errorf("directory: %s: attributes: %q is not an attribute name", where, k))
			}
		}
		d.users = append(d.users, copyUser(u))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for k, v := range d.byID {
		d.byID[k] = v - 1
	}
	return d, nil
}

func copyUser(u User) User {
	u.Groups = append([]string(nil), u.Groups...)
	if u.Attributes != nil {
		attrs := make(map[string]string, len(u.Attributes))
		for k, v := range u.Attributes {
			attrs[k] = v
		}
		u.Attributes = attrs
	}
	return u
}

// Lookup resolves an id (ignoring case) to a subject. An id the directory
// does not list gives Subject{ID: id, Known: false}, which every policy
// decision denies. The subject's slices and maps are the caller's own.
func (d *Directory) Lookup(id string) Subject {
	if d == nil {
		return Subject{ID: id}
	}
	i, ok := d.byID[strings.ToLower(strings.TrimSpace(id))]
	if !ok {
		return Subject{ID: id}
	}
	u := copyUser(d.users[i])
	if u.Groups == nil {
		u.Groups = []string{}
	}
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	return Subject{ID: u.ID, Name: u.Name, Groups: u.Groups, Attributes: u.Attributes, Known: true}
}

// Users lists the directory's users in file order (copies).
func (d *Directory) Users() []User {
	if d == nil {
		return nil
	}
	out := make([]User, len(d.users))
	for i, u := range d.users {
		out[i] = copyUser(u)
	}
	return out
}

// Groups lists the directory's groups, sorted, once each: those its users
// belong to and those declared without members.
func (d *Directory) Groups() []string {
	if d == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for _, u := range d.users {
		for _, g := range u.Groups {
			add(g)
		}
	}
	for _, g := range d.groups {
		add(g)
	}
	sort.Strings(out)
	return out
}
