package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/adapters/backends/rest"
	"github.com/askmesh/askmesh/adapters/backends/sqlstore"
	"github.com/askmesh/askmesh/adapters/channels/productapi"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/app"
)

// productSide builds what product APIs need: policy, directory and the
// descriptors from the configuration, the products' own stores, and an
// audit log of their own (<data-dir>/product-api), so that a product API
// and askmesh never write one hash chain from two places.
func productSide(cmd *cobra.Command, cfg app.Config) (*app.App, *sqlstore.Store, error) {
	pcfg := cfg
	pcfg.DataDir = filepath.Join(cfg.DataDir, "product-api")
	pcfg.Audit.Postgres = ""
	// The product APIs' own log lives inside the data directory, made
	// here once that exists.
	if err := app.CheckDataDir(cfg.DataDir); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(pcfg.DataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("product APIs: %w", err)
	}
	a, err := app.Build(cmd.Context(), pcfg)
	if err != nil {
		return nil, nil, fmt.Errorf("product APIs: %w", err)
	}
	store := sqlstore.New(sqlstore.Options{SQLiteDir: cfg.DataDir, PostgresDSN: cfg.Products.Postgres, MySQLDSN: cfg.Products.MySQL, Secret: os.LookupEnv})
	return a, store, nil
}

// meshKey is the key askmesh signs per-call tokens with: mesh_key /
// ASKMESH_MESH_KEY (a base64 Ed25519 seed) when set, else a fresh key for
// this process (the demo's servers and askmesh share it in memory).
func meshKey(seed string) (ed25519.PrivateKey, error) {
	if seed != "" {
		return productapi.KeyFromSeed(seed)
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	return k, err
}

// startMesh serves each domain's products as its own API on its own
// loopback port and returns the app options that bind the catalog to them
// over HTTP. stop shuts the APIs down.
func (g *globals) startMesh(cmd *cobra.Command, cfg app.Config, demo bool, where map[string]placement) (opts []app.Option, stop func(), err error) {
	side, store, err := productSide(cmd, cfg)
	if err != nil {
		return nil, nil, err
	}
	closeSide := func() { store.Close(); side.Close() }
	key, err := meshKey(cfg.MeshKey)
	if err != nil {
		closeSide()
		return nil, nil, fmt.Errorf("mesh key: %w", err)
	}
	signer, err := productapi.NewSigner(key, 0)
	if err != nil {
		closeSide()
		return nil, nil, err
	}
	verifier, err := productapi.NewVerifier(key.Public().(ed25519.PublicKey))
	if err != nil {
		closeSide()
		return nil, nil, err
	}
	var products []*catalog.Product
	for _, p := range place(side.Catalog.List(), where) {
		if p.Name != "access-audit" { // askmesh's own log stays with askmesh
			products = append(products, p)
		}
	}
	var users []string
	for _, u := range side.Directory.Users() {
		users = append(users, u.ID)
	}
	mesh, err := productapi.StartMesh(productapi.MeshOptions{Products: products, Backend: store, Authorizer: side.Authz,
		Audit: side.Audit, Directory: side.Directory, Verifier: verifier, Demo: demo, DemoUsers: users,
		Clock: side.Clock, MaskKey: app.DeriveKey(cfg.MaskKey), Logger: slog.Default()})
	if err != nil {
		closeSide()
		return nil, nil, err
	}
	for _, d := range mesh.Domains() {
		engine := "sqlite"
		if pl, ok := where[d.Name]; ok {
			engine = pl.kind
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "mesh: %s serves %v from %s at %s\n", d.Name, d.Products, engine, d.URL)
	}
	backend := rest.New(rest.Options{Signer: signer, Logger: slog.Default(), Secret: os.LookupEnv})
	opts = []app.Option{app.WithBackend(catalog.BackendREST, backend), app.WithProductAPIs(mesh.URLs())}
	return opts, func() { mesh.Close(); closeSide() }, nil
}
