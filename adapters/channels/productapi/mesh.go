package productapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/askmesh/askmesh/audit"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// MeshOptions configure a local mesh: every domain's products served as
// their own API on their own loopback port.
type MeshOptions struct {
	Products   []*catalog.Product // products bound to SQL stores; others are skipped
	Backend    tools.Backend
	Authorizer tools.Authorizer
	Audit      audit.Store
	Directory  Directory
	Verifier   *Verifier
	Demo       bool
	DemoUsers  []string
	Clock      tools.Clock
	MaskKey    []byte
	Logger     *slog.Logger
	// Host to listen on (default 127.0.0.1), each domain on a free port.
	Host string
}

// Mesh is a set of running product API servers, one per domain.
type Mesh struct {
	mu      sync.Mutex
	domains map[string]*Domain
}

// Domain is one domain's running product API.
type Domain struct {
	Name     string
	URL      string // base URL, e.g. http://127.0.0.1:40123
	Products []string
	Server   *Server
	http     *http.Server
	done     chan struct{}
}

// StartMesh starts one product API per domain.
func StartMesh(o MeshOptions) (*Mesh, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	byDomain := map[string][]*catalog.Product{}
	for _, p := range o.Products {
		if p.Binding.Kind == catalog.BackendSQLite || p.Binding.Kind == catalog.BackendPostgres || p.Binding.Kind == catalog.BackendMySQL {
			byDomain[p.Domain] = append(byDomain[p.Domain], p)
		}
	}
	names := make([]string, 0, len(byDomain))
	for d := range byDomain {
		names = append(names, d)
	}
	sort.Strings(names)
	m := &Mesh{domains: map[string]*Domain{}}
	for _, d := range names {
		s, err := New(Options{Products: byDomain[d], Backend: o.Backend, Authorizer: o.Authorizer, Audit: o.Audit,
			Directory: o.Directory, Verifier: o.Verifier, Demo: o.Demo, DemoUsers: o.DemoUsers, Clock: o.Clock,
			MaskKey: o.MaskKey, Logger: o.Logger.With("domain", d)})
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("domain %s: %w", d, err)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, "0"))
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("domain %s: listen: %w", d, err)
		}
		dom := &Domain{Name: d, URL: "http://" + ln.Addr().String(), Products: s.Products(), Server: s,
			http: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}, done: make(chan struct{})}
		go func() {
			defer close(dom.done)
			if err := dom.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				o.Logger.Error("product API stopped", "domain", d, "err", err)
			}
		}()
		m.domains[d] = dom
	}
	return m, nil
}

// Domains lists the running domains, by name.
func (m *Mesh) Domains() []*Domain {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Domain, 0, len(m.domains))
	for _, d := range m.domains {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// URLs maps each served product to its API's base URL.
func (m *Mesh) URLs() map[string]string {
	out := map[string]string{}
	for _, d := range m.Domains() {
		for _, p := range d.Products {
			out[p] = d.URL
		}
	}
	return out
}

// Stop stops one domain's API (its port then refuses connections).
func (m *Mesh) Stop(domain string) {
	m.mu.Lock()
	d, ok := m.domains[domain]
	delete(m.domains, domain)
	m.mu.Unlock()
	if ok {
		d.stop()
	}
}

func (d *Domain) stop() {
	// Close, not Shutdown: open streams never go idle, and a stopped domain
	// should look to its consumers exactly like one that went down.
	_ = d.http.Close()
	<-d.done
}

// Close stops every domain.
func (m *Mesh) Close() {
	for _, d := range m.Domains() {
		m.Stop(d.Name)
	}
}
