package state

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/askmesh/askmesh/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Two replicas receiving the same retried event: exactly one answers.
func TestPostgresDeduperSharedBetweenReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	var replicas []*PostgresDeduper
	for range 2 {
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		d, err := NewPostgresDeduper(ctx, pool, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, d)
	}
	var first atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := replicas[i%2].FirstSeen(ctx, "Ev123")
			if err != nil {
				t.Error(err)
			}
			if ok {
				first.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := first.Load(); n != 1 {
		t.Fatalf("event answered %d times across replicas, want 1", n)
	}
	if ok, err := replicas[1].FirstSeen(ctx, "Ev124"); err != nil || !ok {
		t.Fatalf("a new event: first=%v err=%v", ok, err)
	}
}
