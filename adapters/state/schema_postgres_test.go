package state

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/internal/pgtest"
)

// Replicas starting together on a fresh database each create the shared
// tables: every one of them must start. (Unserialized, concurrent CREATE
// TABLE IF NOT EXISTS fails in PostgreSQL with a unique violation on
// pg_type instead of waiting: a replica would exit at start.)
func TestReplicasStartingTogetherCreateTheTablesOnce(t *testing.T) {
	ctx := context.Background()
	for round := range 3 {
		dsn := pgtest.NewDatabase(t)
		const replicas = 6
		var wg sync.WaitGroup
		errs := make(chan error, 3*replicas)
		start := make(chan struct{})
		for range replicas {
			wg.Add(3)
			go func() {
				defer wg.Done()
				<-start
				m, err := OpenPostgresMemory(ctx, dsn, assistant.MemoryLimits{})
				if err != nil {
					errs <- err
					return
				}
				m.Close()
			}()
			go func() {
				defer wg.Done()
				pool, err := pgxpool.New(ctx, dsn)
				if err != nil {
					errs <- err
					return
				}
				defer pool.Close()
				<-start
				if _, err := NewPostgresDeduper(ctx, pool, time.Hour); err != nil {
					errs <- err
				}
			}()
			go func() {
				defer wg.Done()
				<-start
				f, err := OpenPostgresFeedback(ctx, dsn)
				if err != nil {
					errs <- err
					return
				}
				f.Close()
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: a replica failed to start: %v", round+1, err)
		}
	}
}
