package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/askmesh/askmesh/adapters/channels/productapi"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/examples/bank/bankgen"
	"github.com/askmesh/askmesh/internal/app"
)

func (g *globals) productCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "product", Short: "Serve data products as their own REST APIs"}
	cmd.AddCommand(g.productServeCmd())
	return cmd
}

func (g *globals) productServeCmd() *cobra.Command {
	var (
		addr string
		demo bool
		rate float64
	)
	cmd := &cobra.Command{
		Use:   "serve PRODUCT...",
		Short: "Serve products as REST APIs (records, metrics, anomalies, stream, OpenAPI)",
		Long: `Serves each named product from its own store as a REST API under /products/{name}.
Callers identify with an askmesh-signed JWT (verified with ASKMESH_MESH_PUBLIC_KEY, or the
public half of ASKMESH_MESH_KEY), a static token configured in web.auth.tokens, or with
--demo a demo user's token (demo-carol, demo-erin, ...). Policy and audit are askmesh's.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.productServe(cmd, args, addr, demo, rate)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "listen address")
	cmd.Flags().BoolVar(&demo, "demo", false, "accept the demo users' tokens demo-<name>")
	cmd.Flags().Float64Var(&rate, "simulate-rate", 0, "insert this many synthetic transactions per second into customer-transactions")
	return cmd
}

func (g *globals) productServe(cmd *cobra.Command, names []string, addr string, demo bool, rate float64) error {
	ctx := cmd.Context()
	if rate > 0 && !slices.Contains(names, bankgen.SimulatedProduct) {
		return fmt.Errorf("--simulate-rate needs %s among the served products", bankgen.SimulatedProduct)
	}
	cfg, err := g.appConfig(cmd)
	if err != nil {
		return err
	}
	side, store, err := productSide(cmd, cfg)
	if err != nil {
		return err
	}
	defer side.Close()
	defer store.Close()
	var products []*catalog.Product
	for _, n := range names {
		p, ok := side.Catalog.Get(n)
		if !ok {
			return fmt.Errorf("unknown product %q", n)
		}
		products = append(products, p)
	}
	var verifier *productapi.Verifier
	switch pub, seed := os.Getenv("ASKMESH_MESH_PUBLIC_KEY"), cfg.MeshKey; {
	case pub != "":
		k, err := productapi.PublicKeyFromText(pub)
		if err != nil {
			return err
		}
		verifier, err = productapi.NewVerifier(k)
		if err != nil {
			return err
		}
	case seed != "":
		k, err := productapi.KeyFromSeed(seed)
		if err != nil {
			return err
		}
		verifier, err = productapi.NewVerifier(k.Public().(ed25519.PublicKey))
		if err != nil {
			return err
		}
	}
	var users []string
	for _, u := range side.Directory.Users() {
		users = append(users, u.ID)
	}
	srv, err := productapi.New(productapi.Options{Products: products, Backend: store, Authorizer: side.Authz, Audit: side.Audit,
		Directory: side.Directory, Verifier: verifier, Tokens: cfg.Web.Auth.Tokens, Demo: demo, DemoUsers: users,
		Clock: side.Clock, CursorKey: app.DeriveKey(cfg.CursorKey), MaskKey: app.DeriveKey(cfg.MaskKey), Logger: slog.Default()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	for _, n := range srv.Products() {
		fmt.Fprintf(cmd.OutOrStdout(), "serving %s at http://%s/products/%s (contract: /products/%s/openapi.json)\n", n, ln.Addr(), n, n)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	group, gctx := errgroup.WithContext(ctx)
	group.Go(func() error {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	group.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			return hs.Close() // open streams never go idle
		}
		return nil
	})
	if rate > 0 {
		p, _ := side.Catalog.Get(bankgen.SimulatedProduct)
		sim, err := bankgen.NewSimulator(ctx, p, cfg.DataDir, side.Clock.Now, func() { srv.Notify(p.Name) })
		if err != nil {
			return err
		}
		defer sim.Close()
		group.Go(func() error { return sim.Run(gctx, rate) })
	}
	return group.Wait()
}
