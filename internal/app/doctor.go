package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/askmesh/askmesh/adapters/backends/sqlstore"
	"github.com/askmesh/askmesh/audit/auditlog"
	"github.com/askmesh/askmesh/authz/opa"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/tools"
)

// Finding is one thing askmesh doctor looked at.
type Finding struct {
	Check string // configuration, data directory, directory, catalog, policy, audit store, products, model, slack
	State string // FindingOK, FindingFailed or FindingSkipped
	What  string // what was found
	Fix   string // how to fix it, when it failed
}

// Finding states.
const (
	FindingOK      = "ok"
	FindingFailed  = "FAIL"
	FindingSkipped = "-" // not configured (optional), or not checkable after an earlier failure
)

// Diagnose checks a configuration part by part, as Build would use it,
// and reports every part, so that one fault does not hide the next. It
// changes nothing: it creates no data directory and no audit log. source
// names where cfg came from (a file, the defaults).
func Diagnose(ctx context.Context, cfg Config, source string) []Finding {
	var out []Finding
	add := func(check, state, what, fix string) { out = append(out, Finding{check, state, what, fix}) }
	if cfg.DataDir == "" {
		cfg.DataDir = "./askmesh-data"
	}

	if err := cfg.Validate(); err != nil {
		add("configuration", FindingFailed, source+":\n"+err.Error(), "fix each field named, in the file or its environment variable; see docs/configuration.md")
	} else {
		add("configuration", FindingOK, source, "")
	}
	clock, err := cfg.Clock()
	if err != nil {
		clock = tools.SystemClock{}
	}

	dataDirOK := true
	if err := CheckDataDir(cfg.DataDir); err != nil {
		dataDirOK = false
		add("data directory", FindingFailed, firstLine(err), fmt.Sprintf("askmesh demo generate --data-dir %s creates the demo mesh there; for your own data: mkdir -p %s, or point --data-dir / ASKMESH_DATA_DIR / data_dir at it", cfg.DataDir, cfg.DataDir))
	} else {
		add("data directory", FindingOK, cfg.DataDir, "")
	}

	dir, err := loadDirectory(cfg.DirectoryFile)
	if err != nil {
		add("directory", FindingFailed, err.Error(), "fix the directory file (directory_file, ASKMESH_DIRECTORY_FILE); see docs/policies.md")
	} else {
		add("directory", FindingOK, fmt.Sprintf("%s: %d users, %d groups", cmp.Or(cfg.DirectoryFile, "the embedded demo directory"), len(dir.Users()), len(dir.Groups())), "")
	}

	// Grants naming unknown groups are reported, but the products are still
	// checked further: the descriptors themselves parsed.
	products, err := loadProducts(cfg.CatalogDir)
	catalogName := cmp.Or(cfg.CatalogDir, "the embedded demo catalog")
	switch {
	case err != nil:
		add("catalog", FindingFailed, err.Error(), "edit the descriptors at the lines named; see docs/descriptors.md")
	case dir == nil:
		add("catalog", FindingOK, fmt.Sprintf("%s: %d products (grants not checked: no directory)", catalogName, len(products)), "")
	default:
		if err := catalog.CheckGroups(products, dir.Groups()); err != nil {
			add("catalog", FindingFailed, err.Error(), "name the directory's groups in each grant, or add the group to the directory (its users' groups, or groups: for a team with no users yet)")
		} else {
			add("catalog", FindingOK, fmt.Sprintf("%s: %d products", catalogName, len(products)), "")
		}
	}

	if products != nil && dir != nil {
		eng, err := opa.New(ctx, opa.Options{PolicyDir: cfg.PolicyDir, Products: products, Directory: dir})
		if err != nil {
			add("policy", FindingFailed, err.Error(), "fix the policy files (policy_dir, ASKMESH_POLICY_DIR), then askmesh policy test; see docs/policies.md")
		} else {
			add("policy", FindingOK, fmt.Sprintf("%s, revision %.12s", cmp.Or(cfg.PolicyDir, "the embedded default policies"), eng.Revision()), "")
		}
	} else {
		add("policy", FindingSkipped, "not checked: needs the directory and the catalog", "")
	}

	auditExists := diagnoseAudit(ctx, cfg, dataDirOK, add)

	var a *App
	if products != nil {
		a = &App{Config: cfg, Clock: clock}
		bound := a.bind(products, nil)
		if a.Catalog, err = catalog.NewRegistry(bound...); err != nil {
			add("products", FindingFailed, err.Error(), "")
			a = nil
		}
	}
	if a == nil {
		add("products", FindingSkipped, "not checked: needs the catalog", "")
	} else {
		a.Products = sqlstore.New(sqlstore.Options{SQLiteDir: cfg.DataDir, PostgresDSN: cfg.Products.Postgres})
		defer a.Products.Close()
		rb, err := newRESTBackend(cfg, nil)
		if err != nil {
			add("products", FindingFailed, err.Error(), "set mesh_key / ASKMESH_MESH_KEY to a base64 Ed25519 seed (docs/product-api.md)")
		} else {
			a.backends = map[string]tools.Backend{catalog.BackendSQLite: a.Products, catalog.BackendPostgres: a.Products, catalog.BackendREST: rb}
			diagnoseProducts(ctx, a, dataDirOK, auditExists, add)
		}
	}

	if a == nil {
		add("model", FindingSkipped, "not checked: needs the catalog", "")
	} else if m, err := a.buildModel(ctx); err != nil {
		add("model", FindingFailed, err.Error(), "set the provider's key and address (docs/models.md), or use the offline planner: model.provider offline")
	} else {
		a.Model = m
		if err := a.ModelPing(ctx); err != nil {
			add("model", FindingFailed, fmt.Sprintf("does not answer: %v", err), "check model.base_url (ASKMESH_MODEL_BASE_URL, OPENAI_BASE_URL), the API key and that the server is up; docs/models.md")
		} else if _, pings := m.(pinger); pings {
			add("model", FindingOK, m.Name()+" answers", "")
		} else {
			add("model", FindingOK, m.Name()+" (the built-in planner: nothing to reach)", "")
		}
	}
	return out
}

// diagnoseAudit checks the audit store without creating it; it reports
// whether the log exists.
func diagnoseAudit(ctx context.Context, cfg Config, dataDirOK bool, add func(check, state, what, fix string)) bool {
	if cfg.Audit.Postgres != "" {
		s, err := auditlog.OpenPostgres(ctx, cfg.Audit.Postgres)
		if err == nil {
			err = s.Ping(ctx)
			s.Close()
		}
		if err != nil {
			add("audit store", FindingFailed, "PostgreSQL: "+err.Error(), "check audit.postgres (ASKMESH_AUDIT_POSTGRES): the server, the database and the role's grants (docs/audit.md)")
			return false
		}
		add("audit store", FindingOK, "PostgreSQL answers and takes appends", "")
		return true
	}
	path := AuditPath(cfg.DataDir)
	if !dataDirOK {
		add("audit store", FindingSkipped, "not checked: needs the data directory", "")
		return false
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		add("audit store", FindingOK, "SQLite "+path+" does not exist yet; the first start creates it", "")
		return false
	}
	s, err := auditlog.OpenSQLite(ctx, path)
	if err == nil {
		err = s.Ping(ctx)
		s.Close()
	}
	if err != nil {
		add("audit store", FindingFailed, "SQLite "+path+": "+err.Error(), "check the file's permissions and free space; askmesh audit verify checks its chain (docs/audit.md)")
		return true
	}
	add("audit store", FindingOK, "SQLite "+path, "")
	return true
}

func diagnoseProducts(ctx context.Context, a *App, dataDirOK, auditExists bool, add func(check, state, what, fix string)) {
	var ok int
	var missing, down []string
	for _, s := range a.CheckBackends(ctx) {
		p, _ := a.Catalog.Get(s.Product)
		switch {
		case s.Err == nil:
			ok++
		case p.Name == "access-audit" && !auditExists:
			ok++ // the audit log, made on first start
		case s.Missing:
			missing = append(missing, s.Err.Error())
		default:
			down = append(down, s.Err.Error())
		}
	}
	total := a.Catalog.Len()
	if len(missing) > 0 {
		fix := "fix each product's backend binding (database, schema, table, columns) in its descriptor, or create its data"
		if !dataDirOK || a.Config.Products.Postgres == "" {
			fix += fmt.Sprintf("; for the demo: askmesh demo generate --data-dir %s", a.Config.DataDir)
		}
		add("products", FindingFailed, fmt.Sprintf("%d of %d products have no data where the catalog says:\n%s", len(missing), total, strings.Join(missing, "\n")), fix)
	}
	if len(down) > 0 {
		add("products", FindingFailed, fmt.Sprintf("%d of %d products do not answer:\n%s", len(down), total, strings.Join(down, "\n")),
			"check that their databases or APIs are up and reachable from here, and the DSNs (products.postgres, dsnEnv) or URLs in their bindings")
	}
	if len(missing) == 0 && len(down) == 0 {
		add("products", FindingOK, fmt.Sprintf("%d of %d products answer", ok, total), "")
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
