package app

import (
	"context"
	"errors"

	"github.com/askmesh/askmesh/adapters/channels/web"
)

// pinger is a model that can be reached without generating anything
// (adapters/models/openai, langchain). The offline planner has nothing to
// reach.
type pinger interface {
	Ping(ctx context.Context) error
}

// ModelPing checks the model is reachable: nil for a model with nothing to
// reach (the offline planner).
func (a *App) ModelPing(ctx context.Context) error {
	if p, ok := a.Model.(pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ReadyChecks are /readyz's checks beyond the audit store: the model
// (unavailable when it cannot be reached: nothing could be answered) and
// the product backends (degraded when some fail, unavailable when all do).
func (a *App) ReadyChecks() []web.ReadyCheck {
	return []web.ReadyCheck{
		{Name: "model", Check: func(ctx context.Context) (string, any, error) {
			if err := a.ModelPing(ctx); err != nil {
				return web.ReadyUnavailable, nil, err
			}
			return web.ReadyOK, nil, nil
		}},
		{Name: "products", Check: func(ctx context.Context) (string, any, error) {
			var ok, failed int
			var errs []error
			for _, s := range a.CheckBackends(ctx) {
				switch {
				case s.Err == nil:
					ok++
				default:
					failed++
					errs = append(errs, s.Err)
				}
			}
			// Counts only: /readyz is public, product names and causes go to the log.
			detail := map[string]int{"ok": ok, "unavailable": failed}
			switch {
			case failed == 0:
				return web.ReadyOK, detail, nil
			case ok == 0:
				return web.ReadyUnavailable, detail, errors.Join(errs...)
			}
			return web.ReadyDegraded, detail, errors.Join(errs...)
		}},
	}
}
