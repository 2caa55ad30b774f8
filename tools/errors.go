package tools

import (
	"errors"
	"fmt"
)

// ArgumentError is a call the executor could not accept as written: bad
// JSON, a schema violation, an unknown product, column or metric. Its
// message is written for the model, so it can correct the call.
type ArgumentError struct {
	Tool    string
	Message string
	AuditID string
}

func (e *ArgumentError) Error() string { return fmt.Sprintf("%s: %s", e.Tool, e.Message) }

// DeniedError is a call policy refused. Reason is written for the person asking.
type DeniedError struct {
	Tool    string
	Product string
	Reason  string
	AuditID string
}

func (e *DeniedError) Error() string { return "denied: " + e.Reason }

// UnavailableError is a call that was allowed but could not be answered: the
// product's store is down or timed out. No data was returned.
type UnavailableError struct {
	Tool    string
	Product string
	Err     error
	AuditID string
}

// Error is what the person asking (and the model) sees: which product and
// the audit record, never the infrastructure's own message (hosts, paths),
// which goes to the logs and the audit record instead.
func (e *UnavailableError) Error() string {
	what := e.Product
	if what == "" {
		what = e.Tool
	}
	msg := what + " is unavailable right now; try again later"
	if e.AuditID != "" {
		msg += " (audit record " + e.AuditID + ")"
	}
	return msg
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ErrAuditUnavailable is returned, wrapped, when the audit record of a call
// could not be committed. The call's data is withheld: askmesh fails closed.
var ErrAuditUnavailable = errors.New("the audit log is unavailable, so no data was returned")

// AuditIDOf returns the audit record id an executor error carries, if any.
func AuditIDOf(err error) string {
	var a *ArgumentError
	var d *DeniedError
	var u *UnavailableError
	switch {
	case errors.As(err, &d):
		return d.AuditID
	case errors.As(err, &a):
		return a.AuditID
	case errors.As(err, &u):
		return u.AuditID
	}
	return ""
}
