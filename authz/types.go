// Package authz decides, with OPA policies evaluated in-process, what a
// person may do with a data product. The input follows the shape of the Trino
// OPA contract so that policy authors feel at home.
package authz

// Actions, one per tool.
const (
	ActionSearch        = "catalog.search"
	ActionDescribe      = "product.describe"
	ActionQueryRecords  = "product.query_records"
	ActionQueryMetrics  = "product.query_metrics"
	ActionGetRecord     = "product.get_record"
	ActionFindAnomalies = "product.find_anomalies"
)

// Subject is the person asking. Known is false for an identity the directory
// does not list (a Slack user with an unknown email, say): policies see it.
type Subject struct {
	ID         string            `json:"id"`
	Name       string            `json:"name,omitempty"`
	Groups     []string          `json:"groups"`
	Attributes map[string]string `json:"attributes"`
	Known      bool              `json:"known"`
	// IdP is set when the identity provider is the directory for this
	// subject (OIDC with directory: claims): its groups and attributes
	// come from a signed token, and policy treats it as known even when
	// the directory file does not list it.
	IdP bool `json:"idp"`
}

// Input is what a policy decides on.
type Input struct {
	Subject  Subject  `json:"subject"`
	Action   string   `json:"action"`
	Resource Resource `json:"resource"`
	Context  Context  `json:"context"`
}

// Resource is the product and columns a call touches.
type Resource struct {
	Product string `json:"product,omitempty"`
	Domain  string `json:"domain,omitempty"`
	Owner   string `json:"owner,omitempty"`
	// Columns are the columns whose values the call returns.
	Columns []string `json:"columns,omitempty"`
	// Referenced are columns the call computes with without returning them
	// verbatim: filters, group by, sort keys, metric expressions. A masked or
	// withheld column may not be referenced, or aggregates would leak it.
	// Classifications are not input: policies read them from
	// data.askmesh.products, which keeps the input small.
	Referenced []string `json:"referenced,omitempty"`
}

// Context is where the call comes from.
type Context struct {
	Channel      string `json:"channel,omitempty"`
	Conversation string `json:"conversation,omitempty"`
	Time         string `json:"time,omitempty"` // RFC 3339, from the clock
}

// RowFilter is an obligation: only rows where Column Op Value are returned.
type RowFilter struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Value  any    `json:"value"`
}

// Mask kinds.
const (
	MaskRedact = "redact"
	MaskLast4  = "last4"
	MaskHash   = "hash"
)

// Decision is a policy's answer. A denied call has Allow false and at least
// one reason written for the person asking.
type Decision struct {
	Allow         bool              `json:"allow"`
	Reasons       []string          `json:"reasons,omitempty"`
	RowFilters    []RowFilter       `json:"row_filters,omitempty"`
	ColumnMasks   map[string]string `json:"column_masks,omitempty"`
	DeniedColumns []string          `json:"denied_columns,omitempty"`
	// PolicyRevision is the hash of the policy bundle that decided.
	PolicyRevision string `json:"policy_revision"`
}
