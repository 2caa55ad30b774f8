package catalog

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Unassigned is the owner a generated descriptor names until a person is
// made accountable; Lint flags it.
const Unassigned = "unassigned"

// ReviewProperty marks a column whose classification was guessed by a
// generator (catalog init, import): a column custom property Lint reports
// until someone removes it.
const ReviewProperty = "askmeshReview"

// ODCS shapes, in the order a person reads a descriptor.
type (
	odcsDoc struct {
		APIVersion       string       `yaml:"apiVersion"`
		Kind             string       `yaml:"kind"`
		ID               string       `yaml:"id"`
		Name             string       `yaml:"name"`
		Version          string       `yaml:"version"`
		Status           string       `yaml:"status"`
		Domain           string       `yaml:"domain"`
		DataProduct      string       `yaml:"dataProduct"`
		Description      odcsDesc     `yaml:"description"`
		Tags             []string     `yaml:"tags,omitempty"`
		Team             []odcsMember `yaml:"team"`
		Schema           []odcsSchema `yaml:"schema"`
		CustomProperties []odcsCP     `yaml:"customProperties"`
	}
	odcsDesc struct {
		Purpose     string `yaml:"purpose"`
		Usage       string `yaml:"usage,omitempty"`
		Limitations string `yaml:"limitations,omitempty"`
	}
	odcsMember struct {
		Username string `yaml:"username"`
		Role     string `yaml:"role"`
	}
	odcsSchema struct {
		Name         string     `yaml:"name"`
		PhysicalName string     `yaml:"physicalName"`
		PhysicalType string     `yaml:"physicalType"`
		Description  string     `yaml:"description,omitempty"`
		Properties   []odcsProp `yaml:"properties"`
	}
	odcsProp struct {
		Name             string   `yaml:"name"`
		LogicalType      string   `yaml:"logicalType"`
		PrimaryKey       bool     `yaml:"primaryKey,omitempty"`
		Required         bool     `yaml:"required"`
		Description      string   `yaml:"description,omitempty"`
		Classification   string   `yaml:"classification"`
		CustomProperties []odcsCP `yaml:"customProperties,omitempty"`
	}
	odcsCP struct {
		Property string `yaml:"property"`
		Value    any    `yaml:"value"`
	}
	extDoc struct {
		Synonyms        []string    `yaml:"synonyms,omitempty"`
		TimeColumn      string      `yaml:"timeColumn,omitempty"`
		Capabilities    []string    `yaml:"capabilities"`
		Dimensions      []string    `yaml:"dimensions,omitempty"`
		Metrics         []extMetric `yaml:"metrics,omitempty"`
		HeadlineMetrics []string    `yaml:"headlineMetrics,omitempty"`
		Access          []extGrant  `yaml:"access"`
		Backend         extBackend  `yaml:"backend"`
	}
	extMetric struct {
		Name        string   `yaml:"name"`
		Expression  string   `yaml:"expression"`
		Description string   `yaml:"description,omitempty"`
		Unit        string   `yaml:"unit,omitempty"`
		Synonyms    []string `yaml:"synonyms,omitempty"`
	}
	extGrant struct {
		Groups  []string `yaml:"groups"`
		Actions []string `yaml:"actions"`
	}
	extBackend struct {
		Kind     string `yaml:"kind"`
		Database string `yaml:"database,omitempty"`
		Schema   string `yaml:"schema,omitempty"`
		Table    string `yaml:"table,omitempty"`
		DSNEnv   string `yaml:"dsnEnv,omitempty"`
	}
)

// Encode writes p as an ODCS v3.1 descriptor with the askmesh extension, as
// generators (dbt import, catalog init) produce them for people to review.
// Columns listed in review get the ReviewProperty with its note. Grants are
// written as they are: a generated product has none until someone writes
// them, so nobody may query it.
func Encode(p *Product, review map[string]string) ([]byte, error) {
	owner := p.Owner
	if owner == "" {
		owner = Unassigned
	}
	doc := odcsDoc{APIVersion: "v3.1.0", Kind: "DataContract", ID: p.ID, Name: p.Name, Version: p.Version, Status: p.Status,
		Domain: p.Domain, DataProduct: p.DataProduct, Description: odcsDesc{Purpose: p.Purpose, Usage: p.Usage, Limitations: p.Limitations},
		Tags: p.Tags, Team: []odcsMember{{Username: owner, Role: "owner"}}}
	if doc.ID == "" {
		doc.ID = "urn:askmesh:" + p.Domain + ":" + p.Name
	}
	if doc.Version == "" {
		doc.Version = "0.1.0"
	}
	if doc.Status == "" {
		doc.Status = "draft"
	}
	if doc.DataProduct == "" {
		doc.DataProduct = p.Name
	}
	if doc.Description.Purpose == "" {
		doc.Description.Purpose = p.Description
	}
	s := odcsSchema{Name: p.Binding.Table, PhysicalName: p.Binding.Table, PhysicalType: "table"}
	for _, c := range p.Columns {
		prop := odcsProp{Name: c.Name, LogicalType: c.Type, PrimaryKey: c.PrimaryKey, Required: !c.Nullable && !c.PrimaryKey,
			Description: c.Description, Classification: c.Classification}
		if c.PrimaryKey {
			prop.Required = true
		}
		if len(c.Values) > 0 {
			prop.CustomProperties = append(prop.CustomProperties, odcsCP{Property: "values", Value: c.Values})
		}
		if note, ok := review[c.Name]; ok {
			prop.CustomProperties = append(prop.CustomProperties, odcsCP{Property: ReviewProperty, Value: note})
		}
		s.Properties = append(s.Properties, prop)
	}
	doc.Schema = []odcsSchema{s}
	ext := extDoc{Synonyms: p.Synonyms, TimeColumn: p.TimeColumn, Capabilities: p.Capabilities, Dimensions: p.Dimensions,
		HeadlineMetrics: p.HeadlineMetrics, Access: []extGrant{},
		Backend: extBackend{Kind: p.Binding.Kind, Database: p.Binding.Database, Schema: p.Binding.Schema, Table: p.Binding.Table, DSNEnv: p.Binding.DSNEnv}}
	if ext.Capabilities == nil {
		ext.Capabilities = []string{}
	}
	for _, m := range p.Metrics {
		ext.Metrics = append(ext.Metrics, extMetric{Name: m.Name, Expression: m.Expression, Description: m.Description, Unit: m.Unit, Synonyms: m.Synonyms})
	}
	for _, g := range p.Access {
		ext.Access = append(ext.Access, extGrant{Groups: g.Groups, Actions: g.Actions})
	}
	doc.CustomProperties = []odcsCP{{Property: "askmesh", Value: ext}}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Generated by askmesh for review: check every column's classification,\n# name an owner and write grants (access) before anyone may query it.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode %s: %w", p.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ProductName turns a table or model name into a product name: lowercase,
// words joined by hyphens.
func ProductName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}
