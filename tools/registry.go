package tools

import (
	"context"
	"reflect"

	"github.com/askmesh/askmesh/authz"
)

// tool is one row of the registry: everything askmesh knows about a tool.
// The model's schema (Specs), the executor's dispatch, the policy action,
// the MCP and model adapters' tool lists and the channels' progress text are
// all read from here, so adding a tool is adding a row (plus its argument
// type and handler, and a policy rule for its action).
type tool struct {
	name        string
	description string
	action      string       // what policy decides on (authz.Action*)
	args        reflect.Type // the argument type; its JSON Schema is the model's contract
	progress    string       // what a channel shows while it runs; %s is the product
	run         func(e *Executor, ctx context.Context, c *call, spec *Spec) (*Result, error)
}

var registry = []tool{
	{ToolSearch, "Find data products in the catalog by topic. Returns product names, domains and one-line descriptions, best match first. Start here: product names are not known in advance.",
		authz.ActionSearch, reflect.TypeFor[SearchArgs](), "searching the catalog", (*Executor).search},
	{ToolDescribe, "Describe one data product: owner, domain, description, columns (type, classification, and whether they are visible, masked or withheld for the asker), metrics, dimensions, time column, freshness and example questions.",
		authz.ActionDescribe, reflect.TypeFor[DescribeArgs](), "reading the description of %s", (*Executor).describe},
	{ToolQueryRecords, "List individual records of a product, with chosen columns, filters, a time range, sorting and a row limit. Use query_metrics instead for counts, totals, averages and rates.",
		authz.ActionQueryRecords, reflect.TypeFor[QueryRecordsArgs](), "querying %s", (*Executor).queryRecords},
	{ToolQueryMetrics, "Compute a product's declared metrics (counts, totals, averages, rates), optionally grouped by dimensions and by a time grain, over a time range, optionally compared with the previous period or year (adds previous value, change and percent change). Prefer this for any aggregate question.",
		authz.ActionQueryMetrics, reflect.TypeFor[QueryMetricsArgs](), "querying %s", (*Executor).queryMetrics},
	{ToolGetRecord, "Fetch one record of a product by its key.",
		authz.ActionGetRecord, reflect.TypeFor[GetRecordArgs](), "querying %s", (*Executor).getRecord},
	{ToolFindAnomalies, "Find unusual records in a product that declares anomaly detection (e.g. transactions far above the customer's usual amounts), over a time range.",
		authz.ActionFindAnomalies, reflect.TypeFor[FindAnomaliesArgs](), "looking for anomalies in %s", (*Executor).findAnomalies},
}
