package authz_test

import (
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/examples/bank"
	"reflect"
	"strings"
	"testing"
)

func TestDemoDirectory(t *testing.T) {
	t.Parallel()
	d := demoDirectory(t)
	var ids []string
	for _, u := range d.Users() {
		ids = append(ids, u.ID)
	}
	want := []string{"carol@bank.example", "alice@bank.example", "bob@bank.example", "erin@bank.example", "dave@bank.example", "frank@bank.example"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("users %v, want %v", ids, want)
	}
	got := d.Lookup("Erin@Bank.Example")
	wantErin := authz.Subject{ID: "erin@bank.example", Name: "Erin Novak", Groups: []string{"retail-ops"}, Attributes: map[string]string{"region": "europe"}, Known: true}
	if !reflect.DeepEqual(got, wantErin) {
		t.Errorf("Lookup(Erin@Bank.Example) = %+v, want %+v", got, wantErin)
	}
	if u := d.Users()[3]; u.Title != "Retail Operations, Europe" {
		t.Errorf("erin's title %q", u.Title)
	}
	// Without attributes: an empty map, not nil, so the JSON is {}.
	if got := d.Lookup("frank@bank.example"); got.Attributes == nil || len(got.Attributes) != 0 || !got.Known {
		t.Errorf("frank: %+v", got)
	}
}

func TestLookupUnknown(t *testing.T) {
	t.Parallel()
	d := demoDirectory(t)
	if got, want := d.Lookup("mallory@elsewhere.example"), (authz.Subject{ID: "mallory@elsewhere.example"}); !reflect.DeepEqual(got, want) {
		t.Errorf("unknown: %+v", got)
	}
	if got := d.Lookup(""); got.Known {
		t.Errorf("empty id known: %+v", got)
	}
	var nilDir *authz.Directory
	if got := nilDir.Lookup("carol@bank.example"); got.Known {
		t.Errorf("nil directory knows carol")
	}
}

// Callers cannot change the directory through what it returns.
func TestLookupCopies(t *testing.T) {
	t.Parallel()
	d := demoDirectory(t)
	s := d.Lookup("erin@bank.example")
	s.Groups[0] = "executive"
	s.Attributes["region"] = "asia-pacific"
	u := d.Users()
	u[3].Groups[0] = "auditor"
	if again := d.Lookup("erin@bank.example"); again.Groups[0] != "retail-ops" || again.Attributes["region"] != "europe" {
		t.Errorf("directory changed through a returned value: %+v", again)
	}
}

func TestLoadDirectoryErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml string
		errors     []string
	}{
		{"empty", "", []string{"directory: empty"}},
		{"no users", "users: []\n", []string{"no users"}},
		{"missing id", "users:\n  - name: Nobody\n    groups: [x]\n", []string{"users[0]: id is required"}},
		{"blank id", "users:\n  - id: '  '\n", []string{"users[0]: id is required"}},
		{"duplicate ignoring case", "users:\n  - id: a@x\n  - id: b@x\n  - id: A@X\n", []string{`users[2] (A@X): id "A@X" is already used by users[0]`}},
		{"unknown key", "users:\n  - id: a@x\n    group: [admins]\n", []string{"field group not found"}},
		{"bad group", "users:\n  - id: a@x\n    groups: ['two words']\n", []string{`groups[0]: "two words" is not a group name`}},
		{"bad attribute", "users:\n  - id: a@x\n    attributes: {'my region': europe}\n", []string{`"my region" is not an attribute name`}},
		{"every fault", "users:\n  - id: a@x\n  - id: a@x\n  - groups: ['']\n", []string{"already used", "users[2]: id is required", `groups[0]: "" is not a group name`}},
		{"not yaml", "users: [\n", []string{"directory: yaml"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := authz.LoadDirectory(strings.NewReader(c.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range c.errors {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func demoDirectory(tb testing.TB) *authz.Directory {
	tb.Helper()
	f, err := bank.Files.Open(bank.DirectoryFile)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	d, err := authz.LoadDirectory(f)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
