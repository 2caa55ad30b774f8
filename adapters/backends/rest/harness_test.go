package rest_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/backends/rest"
	"github.com/askmesh/askmesh/adapters/backends/sqlstore"
	"github.com/askmesh/askmesh/adapters/channels/productapi"
	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank/bankgen/banktest"
	"github.com/askmesh/askmesh/internal/app"
)

// harness is the demo twice: once over the SQL stores, once as a mesh whose
// products are served by their own APIs on loopback ports.
type harness struct {
	sql, mesh *app.App
	apis      *productapi.Mesh
	apiAudit  audit.Store
}

const cursorKey, maskKey = "test-cursor-key", "test-mask-key"

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	dir := banktest.PrivateDir(t)
	cfg := app.Config{DataDir: dir, Now: banktest.Now.Format(time.RFC3339), CursorKey: cursorKey, MaskKey: maskKey}
	sqlApp, err := app.Build(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlApp.Close() })

	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	signer, err := productapi.NewSigner(key, 0)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := productapi.NewVerifier(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	apiAudit, err := auditlog.OpenSQLite(ctx, filepath.Join(t.TempDir(), "product-apis-audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { apiAudit.Close() })
	store := sqlstore.New(sqlstore.Options{SQLiteDir: dir})
	t.Cleanup(store.Close)
	var products []*catalog.Product
	for _, p := range sqlApp.Catalog.List() {
		if p.Name != "access-audit" { // askmesh's own log stays with askmesh
			products = append(products, p)
		}
	}
	mk := sha256.Sum256([]byte(maskKey))
	apis, err := productapi.StartMesh(productapi.MeshOptions{Products: products, Backend: store, Authorizer: sqlApp.Authz,
		Audit: apiAudit, Directory: sqlApp.Directory, Verifier: verifier, Clock: sqlApp.Clock, MaskKey: mk[:]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(apis.Close)

	meshCfg := cfg
	meshCfg.DataDir = t.TempDir() // its own audit log; no product data
	// Attempts get time to spare: the race detector slows the stores tenfold.
	backend := rest.New(rest.Options{Signer: signer, RetryDelay: time.Millisecond, FailuresToOpen: 3, AttemptTimeout: 2 * time.Minute})
	meshApp, err := app.Build(ctx, meshCfg, app.WithBackend(catalog.BackendREST, backend), app.WithProductAPIs(apis.URLs()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meshApp.Close() })
	for name := range apis.URLs() {
		if p, _ := meshApp.Catalog.Get(name); p.Binding.Kind != catalog.BackendREST {
			t.Fatalf("%s is bound to %s, want rest", name, p.Binding.Kind)
		}
	}
	return &harness{sql: sqlApp, mesh: meshApp, apis: apis, apiAudit: apiAudit}
}
