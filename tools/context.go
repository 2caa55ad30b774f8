package tools

import "context"

type callerKey struct{}

// WithCaller returns ctx carrying the caller of a tool call. The executor
// sets it around every backend call, so a backend that calls a product's own
// API (adapters/rest) can propagate the asker's identity.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFromContext returns the caller WithCaller stored in ctx.
func CallerFromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// PageCursor returns the cursor that continues a query_records call of
// subject at offset, as the executor's next_cursor would. A product API uses
// it to offer plain offsets; the cursor stays bound to the subject and the
// arguments, so it grants nothing the subject could not page to anyway.
func (e *Executor) PageCursor(subject string, a QueryRecordsArgs, offset int) string {
	return e.cursors.encode(offset, cursorBinding(subject, a))
}
