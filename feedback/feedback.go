// Package feedback keeps what people say about answers: thumbs up or down
// and an optional comment, linked to the answer's request and the audit
// records of its calls. Giving feedback is itself audited as an action of
// the person; reading the feedback on a product is decided by policy (the
// product's own team, who may read its records) and audited too.
package feedback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/tools"
)

// Ratings.
const (
	Up   = "up"
	Down = "down"
)

// Audit actions of feedback.
const (
	ActionSubmit = "feedback.submit"
	ActionReview = "feedback.review"
	Tool         = "feedback"
)

// Limits on what one piece of feedback holds.
const (
	MaxComment   = 2000 // characters
	MaxRequestID = 200
	maxAnswer    = 4000
)

// Entry is one person's feedback on one answer. A later click on the same
// answer replaces it: the last click wins.
type Entry struct {
	ID             string    `json:"id"`
	At             time.Time `json:"at"`
	Subject        string    `json:"subject"`
	Channel        string    `json:"channel"`
	RequestID      string    `json:"request_id"`
	ConversationID string    `json:"conversation_id,omitempty"`
	Rating         string    `json:"rating"`
	Comment        string    `json:"comment,omitempty"`
	Question       string    `json:"question"`
	Answer         string    `json:"answer,omitempty"`
	Products       []string  `json:"products,omitempty"`
	AuditIDs       []string  `json:"audit_ids,omitempty"` // the answer's calls
	Model          string    `json:"model,omitempty"`
	AuditID        string    `json:"audit_id"` // the record of this feedback
}

// Filter selects feedback.
type Filter struct {
	Product string
	Rating  string
	Limit   int // 0: no limit
}

// Store keeps feedback durably.
type Store interface {
	// Put stores e, replacing the subject's earlier feedback on the same request.
	Put(ctx context.Context, e *Entry) error
	// List returns matching feedback, newest first.
	List(ctx context.Context, f Filter) ([]Entry, error)
	Close() error
}

// InputError is feedback that cannot be taken as given; Message says why,
// in words for the person who sent it.
type InputError struct{ Message string }

func (e *InputError) Error() string { return e.Message }

// DeniedError is a review policy refused.
type DeniedError struct {
	Reason  string
	AuditID string
}

func (e *DeniedError) Error() string { return "denied: " + e.Reason }

// Service takes and serves feedback.
type Service struct {
	Store      Store
	Audit      audit.Store
	Authorizer tools.Authorizer
	Catalog    tools.Catalog
	Clock      tools.Clock
}

// Submission is feedback as a channel receives it. Question and Answer are
// what the channel showed; for answers that made tool calls the question
// is taken from their audit records instead.
type Submission struct {
	RequestID      string
	ConversationID string
	Rating         string
	Comment        string
	Question       string
	Answer         string
	Model          string
}

// Submit records feedback from the caller on one of their own answers. It
// is audited first (fail closed: no audit record, nothing stored).
func (s *Service) Submit(ctx context.Context, caller tools.Caller, sub Submission) (*Entry, error) {
	sub.Rating = strings.ToLower(strings.TrimSpace(sub.Rating))
	sub.Comment = strings.TrimSpace(sub.Comment)
	switch {
	case sub.Rating != Up && sub.Rating != Down:
		return nil, &InputError{fmt.Sprintf("rating %q: give up or down", sub.Rating)}
	case sub.RequestID == "" || len(sub.RequestID) > MaxRequestID:
		return nil, &InputError{"request_id: the id of the answer rated is required (at most 200 characters)"}
	case !utf8.ValidString(sub.Comment) || !utf8.ValidString(sub.Question) || !utf8.ValidString(sub.Answer):
		return nil, &InputError{"the comment is not valid UTF-8 text"}
	case utf8.RuneCountInString(sub.Comment) > MaxComment:
		return nil, &InputError{fmt.Sprintf("the comment is %d characters; at most %d", utf8.RuneCountInString(sub.Comment), MaxComment)}
	}
	if !caller.Subject.Known {
		return nil, &InputError{"you are not in the askmesh directory"}
	}
	e := &Entry{ID: uuid.NewString(), At: s.Clock.Now().UTC(), Subject: caller.Subject.ID, Channel: caller.Channel,
		RequestID: sub.RequestID, ConversationID: sub.ConversationID, Rating: sub.Rating, Comment: sub.Comment,
		Question: clip(sub.Question, maxAnswer), Answer: clip(sub.Answer, maxAnswer), Model: sub.Model}
	// The answer's calls, from the audit log: they say what was asked and
	// which products answered, and that the answer was the caller's.
	recs, err := s.Audit.Search(ctx, audit.Query{RequestID: sub.RequestID})
	if err != nil {
		return nil, fmt.Errorf("feedback: reading the answer's audit records: %w", err)
	}
	for _, r := range recs {
		if r.Tool == Tool {
			continue // earlier feedback on this answer
		}
		if !strings.EqualFold(r.Subject, caller.Subject.ID) {
			return nil, &InputError{"no answer of yours has that request id"}
		}
		e.AuditIDs = append(e.AuditIDs, r.ID)
		if r.Product != "" && !slices.Contains(e.Products, r.Product) {
			e.Products = append(e.Products, r.Product)
		}
		if r.Question != "" {
			e.Question = r.Question
		}
		if r.Model != "" {
			e.Model = r.Model
		}
		if e.ConversationID == "" {
			e.ConversationID = r.ConversationID
		}
	}
	if e.Question == "" {
		return nil, &InputError{"no answer of yours has that request id"}
	}
	args, _ := json.Marshal(map[string]any{"rating": e.Rating, "comment": e.Comment, "audit_ids": e.AuditIDs, "products": e.Products})
	rec := &audit.Record{At: e.At, RequestID: e.RequestID, ConversationID: e.ConversationID, Channel: e.Channel,
		Subject: e.Subject, Groups: caller.Subject.Groups, Action: ActionSubmit, Tool: Tool, Product: first(e.Products),
		Arguments: args, Decision: audit.DecisionAllow, Reason: "thumbs " + e.Rating, Model: e.Model, Question: e.Question}
	if err := s.Audit.Append(ctx, rec); err != nil {
		return nil, fmt.Errorf("feedback: %w", tools.ErrAuditUnavailable)
	}
	e.AuditID = rec.ID
	if err := s.Store.Put(ctx, e); err != nil {
		return nil, fmt.Errorf("feedback: storing: %w", err)
	}
	return e, nil
}

// ForProduct lists the feedback on a product for a viewer whom policy lets
// read the product's records (its own team), newest first. Every review is
// audited, allowed or denied.
func (s *Service) ForProduct(ctx context.Context, viewer tools.Caller, product string, f Filter) ([]Entry, error) {
	p, ok := s.Catalog.Get(product)
	if !ok {
		return nil, &InputError{fmt.Sprintf("unknown product %q", product)}
	}
	in := authz.Input{Subject: viewer.Subject, Action: authz.ActionQueryRecords,
		Resource: authz.Resource{Product: p.Name, Domain: p.Domain, Owner: p.Owner},
		Context:  authz.Context{Channel: viewer.Channel, Time: s.Clock.Now().UTC().Format(time.RFC3339)}}
	d, err := s.Authorizer.Decide(ctx, in)
	decision, reason := audit.DecisionAllow, ""
	switch {
	case err != nil:
		decision, reason = audit.DecisionError, "authorization failed"
	case !d.Allow:
		decision = audit.DecisionDeny
		reason = "feedback on " + p.Name + " is for its own team: " + strings.Join(d.Reasons, "; ")
	}
	args, _ := json.Marshal(map[string]any{"product": p.Name, "rating": f.Rating})
	rec := &audit.Record{At: s.Clock.Now().UTC(), RequestID: viewer.RequestID, Channel: viewer.Channel, Subject: viewer.Subject.ID,
		Groups: viewer.Subject.Groups, Action: ActionReview, Tool: Tool, Product: p.Name, Arguments: args, Decision: decision,
		Reason: reason, PolicyRevision: d.PolicyRevision, Question: "feedback review: " + p.Name}
	if err := s.Audit.Append(ctx, rec); err != nil {
		return nil, fmt.Errorf("feedback: %w", tools.ErrAuditUnavailable)
	}
	switch decision {
	case audit.DecisionError:
		return nil, errors.New("feedback: authorization is unavailable")
	case audit.DecisionDeny:
		return nil, &DeniedError{Reason: reason, AuditID: rec.ID}
	}
	f.Product = p.Name
	return s.Store.List(ctx, f)
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
