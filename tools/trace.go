package tools

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/authz"
)

// TracerName is the instrumentation scope of the executor's spans.
const TracerName = "github.com/askmesh/askmesh/tools"

// endDecision ends an authz.decide span with what policy decided. Reasons
// are written for the asker and may name columns: they stay out of spans,
// like everything else the call touched.
func endDecision(span trace.Span, d authz.Decision, err error) {
	if !span.IsRecording() {
		span.End()
		return
	}
	switch {
	case err != nil:
		span.SetStatus(codes.Error, "authorization failed")
		span.SetAttributes(attribute.String("error.type", "authz"))
	case d.Allow:
		span.SetAttributes(attribute.String("askmesh.policy.decision", audit.DecisionAllow),
			attribute.Int("askmesh.policy.row_filters", len(d.RowFilters)),
			attribute.Int("askmesh.policy.masked_columns", len(d.ColumnMasks)),
			attribute.Int("askmesh.policy.denied_columns", len(d.DeniedColumns)))
	default:
		span.SetAttributes(attribute.String("askmesh.policy.decision", audit.DecisionDeny))
	}
	if d.PolicyRevision != "" {
		span.SetAttributes(attribute.String("askmesh.policy.revision", d.PolicyRevision))
	}
	span.End()
}

// endAppend ends an audit.append span with the record's id and place in
// the chain.
func endAppend(span trace.Span, rec *audit.Record, err error) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, "audit append failed")
		span.SetAttributes(attribute.String("error.type", "audit"))
	} else {
		span.SetAttributes(attribute.String("askmesh.audit.id", rec.ID), attribute.Int64("askmesh.audit.seq", rec.Seq))
	}
	span.End()
}
