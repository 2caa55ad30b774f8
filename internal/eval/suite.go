// Package eval runs a question suite against one or more models through the
// whole askmesh stack (policy and audit included) and scores each answer
// against ground truth: SQL run on the product's own database, expected
// values, expected tool calls, or an expected decline or clarification.
package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Suite is a set of cases, read from YAML (see docs/evaluation.md).
type Suite struct {
	Name  string `yaml:"name" json:"name"`
	Cases []Case `yaml:"cases" json:"cases"`
	// Source is the file the suite came from.
	Source string `yaml:"-" json:"source,omitempty"`
}

// Case is one question and what a right answer holds.
type Case struct {
	ID       string `yaml:"id" json:"id"`
	Question string `yaml:"question" json:"question"`
	Asker    string `yaml:"asker" json:"asker"` // a directory user: carol or carol@bank.example

	// Truth is SQL run on the database of a product; every number it
	// returns must be in the answer.
	Truth *Truth `yaml:"truth,omitempty" json:"truth,omitempty"`
	// Values must each be in the answer.
	Values []float64 `yaml:"values,omitempty" json:"values,omitempty"`
	// Calls must each be made (tool, and the arguments given, which may be
	// a subset of the call's).
	Calls []ExpectedCall `yaml:"calls,omitempty" json:"calls,omitempty"`
	// MustDecline: a right answer computes nothing (no access, no match).
	MustDecline bool `yaml:"must_decline,omitempty" json:"must_decline,omitempty"`
	// MustClarify: a right answer asks back.
	MustClarify bool `yaml:"must_clarify,omitempty" json:"must_clarify,omitempty"`

	// Note says why the case is there (imported feedback says whose).
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
	// Pending marks a case that does not yet say what is right (one
	// imported from a down-vote): it is listed, not asked or scored.
	Pending string `yaml:"pending,omitempty" json:"pending,omitempty"`
}

// Truth is ground-truth SQL against the database of Product. The SQL may
// use {{table}} (the product's table), {{from "last_month"}} and
// {{to "last_month"}} (the period's bounds as timestamps) and
// {{fromDay "..."}} and {{toDay "..."}} (as dates, for date columns), so one
// suite runs on SQLite and PostgreSQL alike.
type Truth struct {
	Product string `yaml:"product" json:"product"`
	SQL     string `yaml:"sql" json:"sql"`
}

// ExpectedCall is a tool call a right answer makes.
type ExpectedCall struct {
	Tool      string         `yaml:"tool" json:"tool"`
	Arguments map[string]any `yaml:"arguments,omitempty" json:"arguments,omitempty"`
}

// maxSuiteSize bounds a suite file; real ones are tens of KiB.
const maxSuiteSize = 4 << 20

var caseID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,79}$`)

// LoadSuite reads a suite file.
func LoadSuite(path string) (*Suite, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSuiteSize+1))
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", path, err)
	}
	if len(data) > maxSuiteSize {
		return nil, fmt.Errorf("suite %s: larger than %d bytes", path, maxSuiteSize)
	}
	s, err := ParseSuite(data)
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", path, err)
	}
	s.Source = path
	return s, nil
}

// ParseSuite reads a suite from YAML and checks every case, reporting every
// fault at once.
func ParseSuite(data []byte) (*Suite, error) {
	var s Suite
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty suite")
		}
		return nil, err
	}
	return &s, s.Check()
}

// Check reports every fault of every case.
func (s *Suite) Check() error {
	var errs []error
	if len(s.Cases) == 0 {
		errs = append(errs, errors.New("no cases"))
	}
	seen := map[string]int{}
	for i := range s.Cases {
		c := &s.Cases[i]
		where := fmt.Sprintf("cases[%d]", i)
		if c.ID != "" {
			where += " (" + c.ID + ")"
		}
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, a...)))
		}
		switch {
		case c.ID == "":
			bad("id is required")
		case !caseID.MatchString(c.ID):
			bad("id %q: use lowercase letters, digits, '.', '_' and '-'", c.ID)
		}
		if j, dup := seen[c.ID]; dup && c.ID != "" {
			bad("id is also cases[%d]'s", j)
		}
		seen[c.ID] = i
		if strings.TrimSpace(c.Question) == "" {
			bad("question is required")
		}
		if c.Asker == "" {
			bad("asker is required: the directory user who asks (policy applies to them)")
		}
		kinds := 0
		if c.Truth != nil || len(c.Values) > 0 || len(c.Calls) > 0 {
			kinds++
		}
		if c.MustDecline {
			kinds++
		}
		if c.MustClarify {
			kinds++
		}
		switch {
		case kinds == 0 && c.Pending != "":
			// to be written: listed by the run, not scored
		case kinds == 0:
			bad("says nothing about a right answer: give truth, values, calls, must_decline or must_clarify")
		case kinds > 1:
			bad("must_decline and must_clarify exclude each other and any expected result")
		}
		if t := c.Truth; t != nil && (t.Product == "" || strings.TrimSpace(t.SQL) == "") {
			bad("truth needs a product (whose database it runs on) and sql")
		}
		for j, call := range c.Calls {
			if call.Tool == "" {
				bad("calls[%d].tool is required", j)
			}
			if _, err := json.Marshal(call.Arguments); err != nil {
				bad("calls[%d].arguments: %v", j, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Marshal writes the suite as YAML (import-feedback appends cases with it).
func (s *Suite) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}
