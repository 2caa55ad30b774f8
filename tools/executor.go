package tools

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
)

// Catalog is what the executor needs of the product registry.
type Catalog interface {
	Get(name string) (*catalog.Product, bool)
	List() []*catalog.Product
	Search(query string, limit int) []catalog.Hit
}

// Authorizer decides a call; authz/opa.Engine implements it.
type Authorizer interface {
	Decide(ctx context.Context, in authz.Input) (authz.Decision, error)
}

// Caller is who makes a call, and where from. Every call carries it: the
// executor decides and records on the caller's behalf, never the model's.
type Caller struct {
	Subject        authz.Subject
	Channel        string // slack, web, api, openai, mcp, cli
	ConversationID string
	RequestID      string
	// ClientRequestID is the client's own id for the request (validated),
	// recorded beside RequestID and never in its place.
	ClientRequestID string
	Question        string
	Model           string
}

// Call is one tool call as the model made it.
type Call struct {
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
}

// Executor is the only path from a tool call to data: validate, decide,
// (deny: record and refuse), apply obligations, run, mask, record, return.
// Nothing leaves Call unless its audit record was committed.
type Executor struct {
	catalog  Catalog
	authz    Authorizer
	audit    audit.Store
	backends map[string]Backend
	clock    Clock
	cursors  cursors
	masker   masker
	timeout  time.Duration
	log      *slog.Logger
	tracer   trace.Tracer
}

// ExecutorOptions configure an Executor. Catalog, Authorizer and Audit are
// required; Backends maps a binding kind (sqlite, postgres, mysql, rest, combined, audit) to
// the backend that serves it.
type ExecutorOptions struct {
	Catalog    Catalog
	Authorizer Authorizer
	Audit      audit.Store
	Backends   map[string]Backend
	Clock      Clock
	// CursorKey signs page cursors; replicas behind one load balancer must
	// share it. A random key is used when empty (cursors then only work on
	// the replica that issued them).
	CursorKey []byte
	// MaskKey keys hash masks, so pseudonyms are stable across replicas and
	// restarts when set; a random key is used when empty.
	MaskKey []byte
	// CallTimeout bounds one backend call (default 30s).
	CallTimeout time.Duration
	Logger      *slog.Logger
	// TracerProvider traces the policy decision and the audit append of
	// each call, as children of the caller's span; nil traces nothing.
	TracerProvider trace.TracerProvider
}

// NewExecutor checks the options and builds an executor.
func NewExecutor(o ExecutorOptions) (*Executor, error) {
	if o.Catalog == nil || o.Authorizer == nil || o.Audit == nil {
		return nil, errors.New("tools: an executor needs a catalog, an authorizer and an audit store")
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if len(o.CursorKey) == 0 {
		o.CursorKey = make([]byte, 32)
		if _, err := rand.Read(o.CursorKey); err != nil {
			return nil, fmt.Errorf("tools: cursor key: %w", err)
		}
	}
	if len(o.MaskKey) == 0 {
		o.MaskKey = make([]byte, 32)
		if _, err := rand.Read(o.MaskKey); err != nil {
			return nil, fmt.Errorf("tools: mask key: %w", err)
		}
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.TracerProvider == nil {
		o.TracerProvider = noop.NewTracerProvider()
	}
	return &Executor{catalog: o.Catalog, authz: o.Authorizer, audit: o.Audit, backends: o.Backends,
		clock: o.Clock, cursors: cursors{key: o.CursorKey}, masker: masker{key: o.MaskKey}, timeout: o.CallTimeout, log: o.Logger,
		tracer: o.TracerProvider.Tracer(TracerName)}, nil
}

// Clock is the executor's clock.
func (e *Executor) Clock() Clock { return e.clock }

// Catalog is the executor's catalog.
func (e *Executor) Catalog() Catalog { return e.catalog }

// call is the state of one call as it moves through the executor.
type call struct {
	caller   Caller
	tool     string
	action   string
	args     json.RawMessage
	product  *catalog.Product
	columns  []string
	filters  []authz.RowFilter
	masks    map[string]string
	decision authz.Decision
	started  time.Time
	notes    []string
}

// Call runs one tool call for the caller. It returns a Result, or one of
// *ArgumentError, *DeniedError, *UnavailableError, or an error wrapping
// ErrAuditUnavailable; in every error case no data is returned.
func (e *Executor) Call(ctx context.Context, caller Caller, tc Call) (*Result, error) {
	c := &call{caller: caller, tool: tc.Tool, args: tc.Arguments, started: time.Now()}
	spec, ok := SpecFor(tc.Tool)
	if !ok {
		msg := fmt.Sprintf("unknown tool %q; tools are %s", tc.Tool, strings.Join(ToolNames(), ", "))
		if s, ok := catalog.Closest(tc.Tool, ToolNames()); ok {
			msg = fmt.Sprintf("unknown tool %q; did you mean %q?", tc.Tool, s)
		}
		return nil, e.reject(ctx, c, msg)
	}
	c.action = spec.Action
	return spec.tool.run(e, ctx, c, spec)
}

// Admit refuses, before any model reads the question, an asker policy
// does not let use the catalog at all (catalog.search: a stranger to the
// directory). A model that reads the catalog itself (the offline planner's
// closest metrics and example questions) or a prompt with verified
// examples would otherwise tell them what the catalog holds. The refusal
// is recorded, with no tool; an admitted asker leaves no record here.
// Policy is asked only about subjects the directory (or the identity
// provider) does not vouch for: asking for everyone cost about 40% more
// allocations per question, and policy still decides every call a known
// subject makes.
func (e *Executor) Admit(ctx context.Context, caller Caller) error {
	if caller.Subject.Known {
		return nil
	}
	c := &call{caller: caller, action: authz.ActionSearch, args: json.RawMessage(`{}`), started: time.Now()}
	d, err := e.decide(ctx, c, authz.ActionSearch, authz.Resource{})
	if err != nil {
		return e.undecidable(ctx, c, err)
	}
	if !d.Allow {
		return e.deny(ctx, c, d)
	}
	return nil
}

// decode validates arguments against the tool's schema.
func (e *Executor) decode(ctx context.Context, c *call, spec *Spec, dst any) error {
	if err := spec.decodeArgs(c.args, dst); err != nil {
		return e.reject(ctx, c, err.Error())
	}
	return nil
}

// productArgs are the arguments of a tool that works on one product.
type productArgs interface{ productName() string }

// decodeProduct decodes a call's arguments into a and looks up the product
// they name, which must offer capability ("" for any); it sets c.product. A
// failure is recorded and returned as an ArgumentError.
func (e *Executor) decodeProduct(ctx context.Context, c *call, spec *Spec, a productArgs, capability string) (*catalog.Product, error) {
	if err := e.decode(ctx, c, spec, a); err != nil {
		return nil, err
	}
	p, err := lookupProduct(e.catalog, a.productName(), capability, c.tool)
	var unknown *unknownProduct
	if errors.As(err, &unknown) {
		return nil, e.rejectUnknownProduct(ctx, c, unknown)
	}
	c.product = p
	if err != nil {
		return nil, e.rejectPlan(ctx, c, err)
	}
	return p, nil
}

// rejectUnknownProduct refuses a call naming no product. A suggestion is
// a search of the catalog, so it needs the asker to be allowed to search,
// and names only a product the asker may describe; someone policy refuses
// (a stranger to the directory) is refused, learning no product name.
func (e *Executor) rejectUnknownProduct(ctx context.Context, c *call, up *unknownProduct) error {
	d, err := e.decide(ctx, c, authz.ActionSearch, authz.Resource{})
	if err != nil {
		return e.undecidable(ctx, c, err)
	}
	if !d.Allow {
		return e.deny(ctx, c, d)
	}
	return e.reject(ctx, c, up.message(func(name string) bool {
		p, ok := e.catalog.Get(name)
		if !ok {
			return false
		}
		d, err := e.decide(ctx, c, authz.ActionDescribe, authz.Resource{Product: p.Name, Domain: p.Domain, Owner: p.Owner})
		return err == nil && d.Allow
	}))
}

// rejectPlan refuses a call whose arguments do not fit its product. Policy
// decides first: an asker it refuses gets the refusal, never the product's
// columns, values or capabilities; one it allows is told only what their
// describe decision shows. An error about a column the asker may not see
// in clear is decided as the call using that column would be, so neither
// its values nor its type can be probed.
func (e *Executor) rejectPlan(ctx context.Context, c *call, err error) error {
	var h *hintError
	if !errors.As(err, &h) {
		h = &hintError{render: func(view) string { return err.Error() }}
	}
	if err := e.authorize(ctx, c, authz.Resource{}); err != nil {
		return err
	}
	d, derr := e.decide(ctx, c, authz.ActionDescribe, e.resource(c, authz.Resource{}))
	if derr != nil {
		d = authz.Decision{} // undecidable: show nothing
	}
	v := viewOf(c.product, d)
	if h.column != "" && !v.clear(h.column) {
		if err := e.authorize(ctx, c, authz.Resource{Referenced: []string{h.column}}); err != nil {
			return err
		}
	}
	// Nothing runs: the allow's obligations do not belong in the record.
	c.filters, c.masks = nil, nil
	return e.reject(ctx, c, h.render(v))
}

// reject records a call that could not be accepted as written and returns
// the ArgumentError the model sees.
func (e *Executor) reject(ctx context.Context, c *call, msg string) error {
	id, err := e.record(ctx, c, audit.DecisionError, msg, 0)
	if err != nil {
		return err
	}
	return &ArgumentError{Tool: c.tool, Message: msg, AuditID: id}
}

// resource names the call's product in res.
func (e *Executor) resource(c *call, res authz.Resource) authz.Resource {
	if c.product != nil {
		res.Product, res.Domain, res.Owner = c.product.Name, c.product.Domain, c.product.Owner
	}
	return res
}

// decide asks policy about action on res for the caller; it records nothing.
func (e *Executor) decide(ctx context.Context, c *call, action string, res authz.Resource) (authz.Decision, error) {
	in := authz.Input{Subject: c.caller.Subject, Action: action, Resource: res,
		Context: authz.Context{Channel: c.caller.Channel, Conversation: c.caller.ConversationID, Time: e.clock.Now().Format(time.RFC3339)}}
	sctx, span := e.tracer.Start(ctx, "authz.decide", trace.WithAttributes(
		attribute.String("askmesh.policy.action", action), attribute.String("askmesh.product", res.Product)))
	d, err := e.authz.Decide(sctx, in)
	endDecision(span, d, err)
	return d, err
}

// undecidable fails closed: a call policy could not decide is refused and
// recorded as an error.
func (e *Executor) undecidable(ctx context.Context, c *call, err error) error {
	e.log.ErrorContext(ctx, "authorization failed", "tool", c.tool, "subject", c.caller.Subject.ID, "err", err)
	id, rerr := e.record(ctx, c, audit.DecisionError, "authorization failed: "+err.Error(), 0)
	if rerr != nil {
		return rerr
	}
	return &UnavailableError{Tool: c.tool, Product: productName(c), Err: errors.New("authorization is unavailable"), AuditID: id}
}

// deny records a refusal with policy's reasons and returns it.
func (e *Executor) deny(ctx context.Context, c *call, d authz.Decision) error {
	c.decision = d
	reason := reasonOf(d)
	id, err := e.record(ctx, c, audit.DecisionDeny, reason, 0)
	if err != nil {
		return err
	}
	return &DeniedError{Tool: c.tool, Product: productName(c), Reason: reason, AuditID: id}
}

// authorize asks policy and records a denial.
func (e *Executor) authorize(ctx context.Context, c *call, res authz.Resource) error {
	res = e.resource(c, res)
	d, err := e.decide(ctx, c, c.action, res)
	if err != nil {
		return e.undecidable(ctx, c, err)
	}
	if !d.Allow {
		return e.deny(ctx, c, d)
	}
	c.decision = d
	c.masks = d.ColumnMasks
	c.filters = append(c.filters, d.RowFilters...)
	// Defence in depth: whatever a policy module says, a column used to
	// compute must be visible in clear, or aggregates would leak it.
	for _, col := range res.Referenced {
		if _, masked := d.ColumnMasks[col]; masked || slices.Contains(d.DeniedColumns, col) {
			reason := fmt.Sprintf("%s is not visible to you in clear, so it cannot be used in metrics, filters, grouping or sorting", col)
			id, err := e.record(ctx, c, audit.DecisionDeny, reason, 0)
			if err != nil {
				return err
			}
			return &DeniedError{Tool: c.tool, Product: productName(c), Reason: reason, AuditID: id}
		}
	}
	return nil
}

// reasonOf is a refusal's reason for the asker.
func reasonOf(d authz.Decision) string {
	if len(d.Reasons) == 0 {
		return "policy does not allow this"
	}
	return strings.Join(d.Reasons, "; ")
}

func productName(c *call) string {
	if c.product == nil {
		return ""
	}
	return c.product.Name
}

// visibleColumns drops withheld columns, with a note; restricted columns are
// never returned even if a policy module forgot to withhold them.
func (c *call) visibleColumns(cols []string) []string {
	out := make([]string, 0, len(cols))
	var dropped []string
	for _, col := range cols {
		meta, _ := c.product.Column(col)
		if slices.Contains(c.decision.DeniedColumns, col) || meta.Classification == catalog.ClassRestricted {
			dropped = append(dropped, col)
			continue
		}
		out = append(out, col)
	}
	if len(dropped) > 0 {
		c.notes = append(c.notes, fmt.Sprintf("withheld by policy: %s", strings.Join(dropped, ", ")))
	}
	return out
}

// obligations appends the policy's row filters to conds as typed
// conditions. A condition of the call's own that no row the policy lets
// through can meet ("region = asia-pacific" for someone who may see europe
// only) is an outsidePolicy error: its figures would be of no row asked
// for, and a count of 0 would read as one of them.
func (c *call) obligations(conds []Condition) ([]Condition, error) {
	asked := len(conds)
	for _, f := range c.filters {
		cs, err := condition(c.product, f.Column, f.Op, f.Value)
		if err != nil {
			return nil, fmt.Errorf("policy row filter on %s: %w", f.Column, err)
		}
		// Only on a column with declared values, to which both sides are
		// canonicalised: on free text a backend may compare without case.
		col, _ := c.product.Column(f.Column)
		for _, pc := range cs {
			for _, uc := range conds[:asked] {
				if len(col.Values) > 0 && disjoint(uc, pc) {
					return nil, &outsidePolicy{reason: fmt.Sprintf("%s %s %v is outside the rows you may see (only %s %s %v)",
						uc.Column, uc.Op, uc.Value, pc.Column, pc.Op, pc.Value)}
				}
			}
		}
		conds = append(conds, cs...)
		c.notes = append(c.notes, fmt.Sprintf("only rows where %s %s %v (policy)", f.Column, f.Op, f.Value))
	}
	return conds, nil
}

type outsidePolicy struct{ reason string }

func (o *outsidePolicy) Error() string { return o.reason }

// obligate adds the policy's row filters to conds (obligations), refusing,
// and recording the refusal, a call that asks only for rows they exclude.
func (e *Executor) obligate(ctx context.Context, c *call, conds []Condition) ([]Condition, error) {
	out, err := c.obligations(conds)
	var outside *outsidePolicy
	switch {
	case errors.As(err, &outside):
		id, rerr := e.record(ctx, c, audit.DecisionDeny, outside.reason, 0)
		if rerr != nil {
			return nil, rerr
		}
		return nil, &DeniedError{Tool: c.tool, Product: productName(c), Reason: outside.reason, AuditID: id}
	case err != nil:
		return nil, e.fail(ctx, c, err)
	}
	return out, nil
}

// disjoint reports whether no row can meet both conditions: both on one
// column, each an equality or a list, with no value in common.
func disjoint(a, b Condition) bool {
	if a.Column != b.Column {
		return false
	}
	values := func(c Condition) ([]string, bool) {
		switch c.Op {
		case OpEq:
			return []string{fmt.Sprint(c.Value)}, true
		case OpIn:
			vs, ok := c.Value.([]any)
			if !ok {
				return nil, false
			}
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = fmt.Sprint(v)
			}
			return out, true
		}
		return nil, false
	}
	av, ok := values(a)
	if !ok {
		return false
	}
	bv, ok := values(b)
	if !ok {
		return false
	}
	return !slices.ContainsFunc(av, func(v string) bool { return slices.Contains(bv, v) })
}

// run calls the product's backend with a deadline and records a failure.
func (e *Executor) run(ctx context.Context, c *call, fn func(context.Context, Backend) (*Result, error)) (*Result, error) {
	b, ok := e.backends[c.product.Binding.Kind]
	if !ok {
		return nil, e.fail(ctx, c, fmt.Errorf("no backend serves %q bindings", c.product.Binding.Kind))
	}
	rctx, cancel := context.WithTimeout(WithCaller(ctx, c.caller), e.timeout)
	defer cancel()
	res, err := fn(rctx, b)
	var denied *DeniedError
	if errors.As(err, &denied) {
		// A backend that composes governed calls of its own (a combined
		// product's sides) reports their denial: this call is denied too,
		// with their reasons, not failed.
		id, rerr := e.record(ctx, c, audit.DecisionDeny, denied.Reason, 0)
		if rerr != nil {
			return nil, rerr
		}
		return nil, &DeniedError{Tool: c.tool, Product: productName(c), Reason: denied.Reason, AuditID: id}
	}
	if err != nil {
		e.log.WarnContext(ctx, "backend call failed", "tool", c.tool, "product", c.product.Name, "err", err)
		return nil, e.fail(ctx, c, err)
	}
	return res, nil
}

func (e *Executor) fail(ctx context.Context, c *call, cause error) error {
	id, err := e.record(ctx, c, audit.DecisionError, cause.Error(), 0)
	if err != nil {
		return err
	}
	return &UnavailableError{Tool: c.tool, Product: productName(c), Err: cause, AuditID: id}
}

// finish masks, records and releases a result.
func (e *Executor) finish(ctx context.Context, c *call, res *Result) (*Result, error) {
	res.Tool = c.tool
	if c.product != nil {
		res.Product = c.product.Name
	}
	e.masker.apply(res, c.masks)
	c.columns = make([]string, 0, len(res.Columns))
	for _, col := range res.Columns {
		c.columns = append(c.columns, col.Name)
	}
	res.RowCount = len(res.Rows)
	if res.Products != nil {
		res.RowCount = len(res.Products)
	}
	// A backend that is itself askmesh (a product API) may repeat the
	// executor's own notes: say each once.
	notes := c.notes
	for _, n := range res.Notes {
		if !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
	}
	res.Notes = notes
	res.PolicyFilters = nil // this executor's policy, not a product API's
	for _, f := range c.filters {
		res.PolicyFilters = append(res.PolicyFilters, Filter{Column: f.Column, Op: f.Op, Value: f.Value})
	}
	id, err := e.record(ctx, c, audit.DecisionAllow, "", res.RowCount)
	if err != nil {
		return nil, err // fail closed: the rows are dropped with res
	}
	res.AuditID = id
	return res, nil
}

// record appends the call's audit record and returns its id. When the
// append fails the caller gets an error wrapping ErrAuditUnavailable.
func (e *Executor) record(ctx context.Context, c *call, decision, reason string, rows int) (string, error) {
	// Append canonicalizes the arguments; arguments that are not JSON are
	// kept verbatim as a JSON string.
	args := c.args
	if !json.Valid(args) {
		args, _ = json.Marshal(string(c.args))
	}
	rec := &audit.Record{
		At:              e.clock.Now(),
		RequestID:       c.caller.RequestID,
		ClientRequestID: c.caller.ClientRequestID,
		ConversationID:  c.caller.ConversationID,
		Channel:         c.caller.Channel,
		Subject:         c.caller.Subject.ID,
		Groups:          c.caller.Subject.Groups,
		Action:          c.action,
		Tool:            c.tool,
		Product:         productName(c),
		Arguments:       args,
		Columns:         c.columns,
		Masks:           c.masks,
		Decision:        decision,
		Reason:          reason,
		RowsReturned:    rows,
		PolicyRevision:  c.decision.PolicyRevision,
		Model:           c.caller.Model,
		Question:        c.caller.Question,
		DurationMS:      time.Since(c.started).Milliseconds(),
	}
	for _, f := range c.filters {
		rec.RowFilters = append(rec.RowFilters, audit.Filter{Column: f.Column, Op: f.Op, Value: f.Value})
	}
	// The record is written even if the caller has gone away: a call that
	// reached policy must leave a trace. Its own deadline bounds the wait.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	actx, span := e.tracer.Start(actx, "audit.append", trace.WithAttributes(attribute.String("askmesh.audit.decision", decision)))
	err := e.audit.Append(actx, rec)
	endAppend(span, rec, err)
	if err != nil {
		e.log.ErrorContext(ctx, "audit append failed; withholding the result", "tool", c.tool, "subject", c.caller.Subject.ID, "err", err)
		return "", fmt.Errorf("%s: %w", c.tool, ErrAuditUnavailable)
	}
	return rec.ID, nil
}

func (e *Executor) search(ctx context.Context, c *call, spec *Spec) (*Result, error) {
	var a SearchArgs
	if err := e.decode(ctx, c, spec, &a); err != nil {
		return nil, err
	}
	if err := e.authorize(ctx, c, authz.Resource{}); err != nil {
		return nil, err
	}
	n := a.Limit
	switch {
	case n <= 0:
		n = DefaultSearch
	case n > MaxSearch:
		n = MaxSearch
	}
	res := &Result{Products: []ProductSummary{}}
	for _, h := range e.catalog.Search(a.Query, n) {
		res.Products = append(res.Products, ProductSummary{Name: h.Product.Name, Domain: h.Product.Domain,
			Description: oneLine(h.Product.Description), Score: roundTo(h.Score, 3)})
	}
	if len(res.Products) == 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("no product matches %q", a.Query))
	}
	return e.finish(ctx, c, res)
}

func (e *Executor) describe(ctx context.Context, c *call, spec *Spec) (*Result, error) {
	var a DescribeArgs
	p, err := e.decodeProduct(ctx, c, spec, &a, "")
	if err != nil {
		return nil, err
	}
	if err := e.authorize(ctx, c, authz.Resource{Columns: p.ColumnNames()}); err != nil {
		return nil, err
	}
	return e.finish(ctx, c, &Result{Description: describeProduct(p, c.decision)})
}

func (e *Executor) queryRecords(ctx context.Context, c *call, spec *Spec) (*Result, error) {
	var a QueryRecordsArgs
	p, err := e.decodeProduct(ctx, c, spec, &a, catalog.CapRecords)
	if err != nil {
		return nil, err
	}
	plan, err := recordsPlan(p, a, e.clock.Now(), &c.notes)
	if err == nil && a.Cursor != "" {
		plan.Offset, err = e.cursors.decode(a.Cursor, cursorBinding(c.caller.Subject.ID, a))
	}
	if err != nil {
		return nil, e.rejectPlan(ctx, c, err)
	}
	ref := conditionColumns(plan.Filters)
	for _, s := range plan.Order {
		ref = append(ref, s.Field)
	}
	if !plan.Range.IsZero() {
		ref = append(ref, p.TimeColumn)
	}
	if err := e.authorize(ctx, c, authz.Resource{Columns: plan.Columns, Referenced: uniq(ref)}); err != nil {
		return nil, err
	}
	if plan.Columns = c.visibleColumns(plan.Columns); len(plan.Columns) == 0 {
		return nil, e.denyAll(ctx, c)
	}
	if plan.Filters, err = e.obligate(ctx, c, plan.Filters); err != nil {
		return nil, err
	}
	res, err := e.run(ctx, c, func(ctx context.Context, b Backend) (*Result, error) { return b.QueryRecords(ctx, plan) })
	if err != nil {
		return nil, err
	}
	markRecordUnits(p, plan.Filters, res)
	if res.TotalCount != nil && int64(plan.Offset+len(res.Rows)) < *res.TotalCount && len(res.Rows) > 0 {
		res.NextCursor = e.cursors.encode(plan.Offset+len(res.Rows), cursorBinding(c.caller.Subject.ID, a))
	}
	if !plan.Range.IsZero() {
		res.TimeRange = &plan.Range
	}
	return e.finish(ctx, c, res)
}

func (e *Executor) queryMetrics(ctx context.Context, c *call, spec *Spec) (*Result, error) {
	var a QueryMetricsArgs
	p, err := e.decodeProduct(ctx, c, spec, &a, catalog.CapMetrics)
	if err != nil {
		return nil, err
	}
	plan, err := metricsPlan(p, a, e.clock.Now(), &c.notes)
	if err != nil {
		return nil, e.rejectPlan(ctx, c, err)
	}
	c.notes = append(c.notes, plan.Caveats...)
	ref := append(conditionColumns(plan.Filters), plan.GroupBy...)
	for _, m := range plan.Metrics {
		md, _ := p.Metric(m)
		ref = append(ref, md.Columns...)
	}
	if !plan.Range.IsZero() || plan.Grain != "" {
		ref = append(ref, p.TimeColumn)
	}
	if err := e.authorize(ctx, c, authz.Resource{Columns: plan.GroupBy, Referenced: uniq(ref)}); err != nil {
		return nil, err
	}
	if plan.Filters, err = e.obligate(ctx, c, plan.Filters); err != nil {
		return nil, err
	}
	res, err := e.run(ctx, c, func(ctx context.Context, b Backend) (*Result, error) { return b.QueryMetrics(ctx, plan) })
	if err != nil {
		return nil, err
	}
	if !plan.Range.IsZero() {
		res.TimeRange = &plan.Range
	}
	if plan.CompareTo != "" {
		res.CompareRange = &plan.Compare
	}
	markUnits(p, plan.Filters, res)
	res.Metrics = nil // a backend that is itself askmesh sent its own; these are the descriptor's
	for _, m := range plan.Metrics {
		md, _ := p.Metric(m)
		res.Metrics = append(res.Metrics, MetricDescription{Name: md.Name, Description: md.Description, Unit: md.Unit, Expression: md.Expression})
	}
	res.Partial, res.Caveats = plan.Partial, plan.Caveats
	return e.finish(ctx, c, res)
}

func (e *Executor) getRecord(ctx context.Context, c *call, spec *Spec) (*Result, error) {
	var a GetRecordArgs
	p, err := e.decodeProduct(ctx, c, spec, &a, catalog.CapGet)
	if err != nil {
		return nil, err
	}
	cols := p.ColumnNames()
	if err := e.authorize(ctx, c, authz.Resource{Columns: cols, Referenced: []string{p.KeyColumn}}); err != nil {
		return nil, err
	}
	plan := GetPlan{Product: p, ID: a.ID, Columns: c.visibleColumns(cols)}
	if plan.Filters, err = e.obligate(ctx, c, nil); err != nil {
		return nil, err
	}
	res, err := e.run(ctx, c, func(ctx context.Context, b Backend) (*Result, error) { return b.GetRecord(ctx, plan) })
	if err != nil {
		return nil, err
	}
	if len(res.Rows) == 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("no %s record with %s = %q that you may see", p.Name, p.KeyColumn, a.ID))
	}
	return e.finish(ctx, c, res)
}

func (e *Executor) findAnomalies(ctx context.Context, c *call, spec *Spec) (*Result, error) {
	var a FindAnomaliesArgs
	p, err := e.decodeProduct(ctx, c, spec, &a, catalog.CapAnomalies)
	if err != nil {
		return nil, err
	}
	plan, err := anomaliesPlan(p, a, e.clock.Now(), &c.notes)
	if err != nil {
		return nil, e.rejectPlan(ctx, c, err)
	}
	ref := append(conditionColumns(plan.Filters), p.Anomalies.Column, p.Anomalies.GroupBy, p.TimeColumn)
	if err := e.authorize(ctx, c, authz.Resource{Columns: plan.Columns, Referenced: uniq(ref)}); err != nil {
		return nil, err
	}
	if plan.Columns = c.visibleColumns(plan.Columns); len(plan.Columns) == 0 {
		return nil, e.denyAll(ctx, c)
	}
	if plan.Filters, err = e.obligate(ctx, c, plan.Filters); err != nil {
		return nil, err
	}
	res, err := e.run(ctx, c, func(ctx context.Context, b Backend) (*Result, error) { return b.FindAnomalies(ctx, plan) })
	if err != nil {
		return nil, err
	}
	if !plan.Range.IsZero() {
		res.TimeRange = &plan.Range
	}
	return e.finish(ctx, c, res)
}

// denyAll refuses a call none of whose requested columns the asker may see.
func (e *Executor) denyAll(ctx context.Context, c *call) error {
	reason := fmt.Sprintf("none of the requested columns of %s are visible to you", c.product.Name)
	id, err := e.record(ctx, c, audit.DecisionDeny, reason, 0)
	if err != nil {
		return err
	}
	return &DeniedError{Tool: c.tool, Product: c.product.Name, Reason: reason, AuditID: id}
}

func conditionColumns(cs []Condition) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Column)
	}
	return out
}

func uniq(ss []string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return slices.Compact(out)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i+1]
	}
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}
