package tools

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/askmesh/askmesh/authz"
)

// BatchAuthorizer decides several inputs in one policy evaluation;
// authz/opa.Engine implements it. An Authorizer without it is asked once
// per input.
type BatchAuthorizer interface {
	DecideMany(ctx context.Context, ins []authz.Input) ([]authz.Decision, error)
}

// Access is what policy lets a caller do with one product, asked before
// any call is made.
type Access struct {
	Product string
	// Allowed lists the actions policy allows on the product (calls are
	// still decided and audited one by one when made).
	Allowed []string
	// Reasons are policy's reasons for refusing each other action, written
	// for the asker.
	Reasons map[string]string
	// Nameable: the asker may describe the product, so an answer may name
	// it; otherwise it is only counted.
	Nameable bool
}

// May says whether policy allows action.
func (a Access) May(action string) bool { return slices.Contains(a.Allowed, action) }

// ReasonFor is why policy refuses action ("" when it allows it).
func (a Access) ReasonFor(action string) string {
	if a.May(action) {
		return ""
	}
	if r := a.Reasons[action]; r != "" {
		return r
	}
	return "policy does not allow this"
}

// Access asks policy, in one evaluation, which of products the caller may
// use with each of actions (policy actions such as
// authz.ActionQueryMetrics) and which they may at least describe. A
// planner spanning many products (an executive brief) uses it to call only
// what it may, so the audit log holds no refusals of calls nobody asked
// for, and still says what is withheld. It returns no data and records
// nothing; the calls made after it are authorized and audited as usual.
// Products the catalog does not know are refused. An evaluation error is
// an error (fail closed).
func (e *Executor) Access(ctx context.Context, caller Caller, products []string, actions ...string) ([]Access, error) {
	now := e.clock.Now().Format(time.RFC3339)
	asked := append(slices.Clone(actions), authz.ActionDescribe)
	ins := make([]authz.Input, 0, len(asked)*len(products))
	for _, name := range products {
		res := authz.Resource{Product: name}
		if p, ok := e.catalog.Get(name); ok {
			res.Domain, res.Owner = p.Domain, p.Owner
		}
		for _, action := range asked {
			ins = append(ins, authz.Input{Subject: caller.Subject, Action: action, Resource: res,
				Context: authz.Context{Channel: caller.Channel, Conversation: caller.ConversationID, Time: now}})
		}
	}
	ds, err := e.decideMany(ctx, ins)
	if err != nil {
		return nil, fmt.Errorf("tools: asking policy what %s may use: %w", caller.Subject.ID, err)
	}
	out := make([]Access, len(products))
	for i, name := range products {
		a := Access{Product: name, Reasons: map[string]string{}}
		_, known := e.catalog.Get(name)
		for j, action := range asked {
			d := ds[i*len(asked)+j]
			switch {
			case !known:
				a.Reasons[action] = fmt.Sprintf("askmesh has no data product named %q", name)
			case action == authz.ActionDescribe:
				a.Nameable = d.Allow
			case d.Allow:
				a.Allowed = append(a.Allowed, action)
			default:
				a.Reasons[action] = reasonOf(d)
			}
		}
		out[i] = a
	}
	return out, nil
}
func (e *Executor) decideMany(ctx context.Context, ins []authz.Input) ([]authz.Decision, error) {
	if b, ok := e.authz.(BatchAuthorizer); ok {
		return b.DecideMany(ctx, ins)
	}
	out := make([]authz.Decision, len(ins))
	for i, in := range ins {
		d, err := e.authz.Decide(ctx, in)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}
