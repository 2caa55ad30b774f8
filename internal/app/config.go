// Package app builds askmesh from configuration: catalog, directory,
// policy, audit store, product backends, executor, model and agent. The
// binary and the end-to-end tests build the same stack through it.
package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/internal/telemetry"
	"github.com/askmesh/askmesh/tools"
)

// Config is askmesh's configuration: one YAML file, with environment
// variables overriding it (see docs/configuration.md). Zero values mean the
// embedded defaults: the demo catalog and directory, embedded policies, the
// SQLite audit log under DataDir and the offline model.
type Config struct {
	DataDir       string `yaml:"data_dir"`
	Organization  string `yaml:"organization"`
	CatalogDir    string `yaml:"catalog_dir"`    // descriptors; empty: the embedded demo bank
	DirectoryFile string `yaml:"directory_file"` // users and groups; empty: the embedded demo directory
	PolicyDir     string `yaml:"policy_dir"`     // Rego policies; empty: the embedded defaults
	Now           string `yaml:"now"`            // pin the clock (RFC 3339); tests and demos

	Audit struct {
		// Postgres is the audit store's DSN; empty: SQLite at <data_dir>/governance.db.
		Postgres string `yaml:"postgres"`
		// CheckpointKey is the Ed25519 private key file that signs checkpoints.
		CheckpointKey string `yaml:"checkpoint_key"`
	} `yaml:"audit"`

	Products struct {
		// Postgres, when set, serves SQL-bound products from this database
		// (one schema per domain, as `askmesh demo generate --postgres` makes).
		Postgres string `yaml:"postgres"`
		// MySQL serves mysql-bound products whose descriptors name no dsnEnv
		// that is set (user:password@tcp(host:3306)/database).
		MySQL string `yaml:"mysql"`
	} `yaml:"products"`

	// Connections are named warehouse connections that importers bind
	// descriptors to (askmesh catalog import dbt --connection NAME): the
	// engine, the environment variable holding its DSN, and the schema.
	// Descriptors then carry the kind, schema and dsnEnv, never the DSN.
	Connections map[string]Connection `yaml:"connections"`

	Model ModelConfig `yaml:"model"`

	Memory struct {
		// Postgres keeps conversations in this database so replicas share them.
		Postgres string        `yaml:"postgres"`
		TTL      time.Duration `yaml:"ttl"`
	} `yaml:"memory"`

	Agent struct {
		MaxSteps int           `yaml:"max_steps"`
		Timeout  time.Duration `yaml:"timeout"`
	} `yaml:"agent"`

	// Limits bound each user's tool calls and model turns on every surface
	// (docs/security.md).
	Limits tools.Limits `yaml:"limits"`

	Web struct {
		Addr string `yaml:"addr"` // listen address (default 127.0.0.1:8080)
		// MetricsAddr serves /metrics on a listener of its own (serve
		// --metrics-addr); on the API port they need web.limits.metrics_token.
		MetricsAddr string         `yaml:"metrics_addr"`
		Auth        web.AuthConfig `yaml:"auth"`
		Limits      web.Limits     `yaml:"limits"`
	} `yaml:"web"`

	// Slack's secrets come from the environment (SLACK_BOT_TOKEN,
	// SLACK_APP_TOKEN, SLACK_SIGNING_SECRET), never from this file.
	Slack struct {
		BotToken      string `yaml:"-"` // SLACK_BOT_TOKEN
		AppToken      string `yaml:"-"` // SLACK_APP_TOKEN: Socket Mode
		SigningSecret string `yaml:"-"` // SLACK_SIGNING_SECRET: the Events API
		APIURL        string `yaml:"-"` // SLACK_API_URL: another Slack API endpoint (tests, proxies)

		Streaming        bool     `yaml:"streaming"` // or SLACK_STREAMING=1
		MaxConcurrent    int      `yaml:"max_concurrent"`
		SuggestedPrompts []string `yaml:"suggested_prompts"`
		// Users maps Slack user ids to directory ids where Slack's email
		// differs from the directory's; everyone else is matched by email.
		Users map[string]string `yaml:"users"`
		// Briefs post executive briefs to channels on a schedule.
		Briefs []BriefSchedule `yaml:"briefs"`
	} `yaml:"slack"`

	Eval struct {
		// Prices per million tokens, keyed by the model as --model names it
		// ("openai:gpt-4o"), for askmesh eval's cost estimate.
		Prices map[string]Price `yaml:"prices"`
	} `yaml:"eval"`

	// Telemetry exports OpenTelemetry traces and metrics over OTLP/HTTP
	// (see docs/observability.md); off unless otlp_endpoint is set.
	Telemetry telemetry.Config `yaml:"telemetry"`

	// Secrets: page cursors and hash masks are keyed; replicas must share keys.
	CursorKey string `yaml:"cursor_key"`
	MaskKey   string `yaml:"mask_key"`
	// MeshKey (a base64 Ed25519 seed) signs the per-call tokens that carry
	// the asker's identity to product APIs (rest bindings); the product
	// servers verify with its public half. Unset: rest bindings need tokenEnv.
	MeshKey string `yaml:"mesh_key"`
}

// BriefSchedule posts an executive brief to a Slack channel on a schedule.
type BriefSchedule struct {
	Cron    string `yaml:"cron"`    // standard five-field cron, in UTC: "0 8 1 * *" is 08:00 on the 1st
	Channel string `yaml:"channel"` // channel id (or name the bot may post to)
	As      string `yaml:"as"`      // the directory user the brief is built for: it shows what they may see
	Period  string `yaml:"period"`  // a time_range; default last_month
}

// ModelConfig chooses the model. Fields the file and ASKMESH_MODEL_* leave
// blank are filled from the provider's own variables (see providerVars).
type ModelConfig struct {
	Provider string `yaml:"provider"` // offline (default), openai, azure, anthropic, ollama
	Name     string `yaml:"name"`
	BaseURL  string `yaml:"base_url"`
	// APIKey is better left to the provider's environment variable
	// (OPENAI_API_KEY, ANTHROPIC_API_KEY) than written in a file.
	APIKey          string        `yaml:"api_key"`
	Organization    string        `yaml:"organization"`      // OpenAI only
	AzureAPIVersion string        `yaml:"azure_api_version"` // Azure only
	Timeout         time.Duration `yaml:"timeout"`
}

// Providers are the model providers askmesh can use.
var Providers = []string{"offline", "openai", "azure", "anthropic", "ollama"}

// providerVars are each provider's standard environment variables, in the
// order name, base URL, API key, organization, API version.
var providerVars = map[string][5]string{
	"openai":    {"OPENAI_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_ORG_ID", ""},
	"azure":     {"AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "", "AZURE_OPENAI_API_VERSION"},
	"anthropic": {"ANTHROPIC_MODEL", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "", ""},
	"ollama":    {"OLLAMA_MODEL", "OLLAMA_HOST", "", "", ""},
}

// applyProviderEnv fills blank fields from the provider's variables. With
// provider openai, Azure's variables alone (AZURE_OPENAI_ENDPOINT set and
// no OpenAI key anywhere) select Azure, as Azure's own SDKs do.
func (m *ModelConfig) applyProviderEnv() {
	if m.Provider == "openai" && m.APIKey == "" && os.Getenv("OPENAI_API_KEY") == "" && os.Getenv("AZURE_OPENAI_ENDPOINT") != "" {
		m.Provider = "azure"
	}
	vars, ok := providerVars[m.Provider]
	if !ok {
		return
	}
	for i, dst := range []*string{&m.Name, &m.BaseURL, &m.APIKey, &m.Organization, &m.AzureAPIVersion} {
		if *dst == "" && vars[i] != "" {
			*dst = os.Getenv(vars[i])
		}
	}
}

// Price is what a model's provider charges, in a currency of your choice
// (the report shows the number), per million tokens.
type Price struct {
	Input  float64 `yaml:"input_per_million" json:"input_per_million"`
	Output float64 `yaml:"output_per_million" json:"output_per_million"`
}

// LoadConfig reads a YAML file (if path is not empty) and applies the
// environment overrides.
func LoadConfig(path string) (Config, error) {
	var c Config
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// applyEnv lets ASKMESH_* variables override the file.
func (c *Config) applyEnv() error {
	str := map[string]*string{
		"ASKMESH_DATA_DIR":          &c.DataDir,
		"ASKMESH_ORGANIZATION":      &c.Organization,
		"ASKMESH_CATALOG_DIR":       &c.CatalogDir,
		"ASKMESH_DIRECTORY_FILE":    &c.DirectoryFile,
		"ASKMESH_POLICY_DIR":        &c.PolicyDir,
		"ASKMESH_NOW":               &c.Now,
		"ASKMESH_AUDIT_POSTGRES":    &c.Audit.Postgres,
		"ASKMESH_CHECKPOINT_KEY":    &c.Audit.CheckpointKey,
		"ASKMESH_PRODUCTS_POSTGRES": &c.Products.Postgres,
		"ASKMESH_PRODUCTS_MYSQL":    &c.Products.MySQL,
		"ASKMESH_MEMORY_POSTGRES":   &c.Memory.Postgres,
		"ASKMESH_MODEL":             &c.Model.Provider,
		"ASKMESH_MODEL_NAME":        &c.Model.Name,
		"ASKMESH_MODEL_BASE_URL":    &c.Model.BaseURL,
		"ASKMESH_ADDR":              &c.Web.Addr,
		"ASKMESH_CURSOR_KEY":        &c.CursorKey,
		"ASKMESH_MASK_KEY":          &c.MaskKey,
		"ASKMESH_MESH_KEY":          &c.MeshKey,
		"ASKMESH_OTLP_ENDPOINT":     &c.Telemetry.Endpoint,
	}
	for k, p := range str {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			*p = v
		}
	}
	if v := os.Getenv("ASKMESH_AGENT_MAX_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("ASKMESH_AGENT_MAX_STEPS: %w", err)
		}
		c.Agent.MaxSteps = n
	}
	if v := os.Getenv("ASKMESH_OIDC_CLIENT_SECRET"); v != "" {
		if c.Web.Auth.OIDC == nil {
			return errors.New("config: ASKMESH_OIDC_CLIENT_SECRET is set but web.auth.oidc is not configured; see docs/configuration.md")
		}
		c.Web.Auth.OIDC.ClientSecret = v
	}
	c.Model.applyProviderEnv()
	c.Slack.BotToken = os.Getenv("SLACK_BOT_TOKEN")
	c.Slack.AppToken = os.Getenv("SLACK_APP_TOKEN")
	c.Slack.SigningSecret = os.Getenv("SLACK_SIGNING_SECRET")
	c.Slack.APIURL = os.Getenv("SLACK_API_URL")
	if v := os.Getenv("SLACK_STREAMING"); v == "1" || v == "true" {
		c.Slack.Streaming = true
	}
	return nil
}

// Connection is a named warehouse connection (Config.Connections).
type Connection struct {
	// Kind is the engine: postgres or mysql.
	Kind string `yaml:"kind"`
	// DSNEnv names the environment variable that holds the DSN.
	DSNEnv string `yaml:"dsn_env"`
	// Schema is the PostgreSQL schema (MySQL database) the tables are in.
	Schema string `yaml:"schema"`
}

// Validate checks the merged configuration and names every field at fault,
// as the file spells it (or the environment variable, for secrets).
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Now != "" {
		if _, err := time.Parse(time.RFC3339, c.Now); err != nil {
			bad("now", "%q is not an RFC 3339 instant (e.g. 2026-11-15T12:00:00Z)", c.Now)
		}
	}
	m := c.Model
	switch {
	case m.Provider != "" && !slices.Contains(Providers, m.Provider):
		bad("model.provider", "%q is not one of %s", m.Provider, strings.Join(Providers, ", "))
	case m.Provider == "azure" && (m.BaseURL == "" || m.APIKey == "" || m.Name == ""):
		bad("model", "azure needs base_url (AZURE_OPENAI_ENDPOINT), api_key (AZURE_OPENAI_API_KEY) and name, the deployment (AZURE_OPENAI_DEPLOYMENT)")
	case m.Provider == "anthropic" && m.APIKey == "":
		bad("model.api_key", "anthropic needs an API key (ANTHROPIC_API_KEY)")
	}
	for field, d := range map[string]time.Duration{"model.timeout": m.Timeout, "agent.timeout": c.Agent.Timeout, "memory.ttl": c.Memory.TTL} {
		if d < 0 {
			bad(field, "%s is negative", d)
		}
	}
	if c.Agent.MaxSteps < 0 {
		bad("agent.max_steps", "%d is negative", c.Agent.MaxSteps)
	}
	if c.Web.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Web.Addr); err != nil {
			bad("web.addr", "%q is not host:port (e.g. 127.0.0.1:8080)", c.Web.Addr)
		}
	}
	if o := c.Web.Auth.OIDC; o != nil {
		for field, v := range map[string]string{"issuer": o.Issuer, "audience": o.Audience, "jwks_url": o.JWKSURL} {
			if strings.TrimSpace(v) == "" {
				bad("web.auth.oidc."+field, "is required when web.auth.oidc is set")
			}
		}
		if o.RedirectURL != "" {
			u, err := url.Parse(o.RedirectURL)
			switch {
			case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
				bad("web.auth.oidc.redirect_url", "%q is not an absolute http(s) URL", o.RedirectURL)
			case u.Path != "/v1/web/callback":
				bad("web.auth.oidc.redirect_url", "%q must end in /v1/web/callback (e.g. https://askmesh.example/v1/web/callback)", o.RedirectURL)
			}
		}
		if o.SessionTTL < 0 {
			bad("web.auth.oidc.session_ttl", "%s is negative", o.SessionTTL)
		}
		if o.Directory != "" && o.Directory != "merge" && o.Directory != "claims" {
			bad("web.auth.oidc.directory", "%q is not merge or claims", o.Directory)
		}
	}
	sl := c.Slack
	switch {
	case sl.BotToken != "" && sl.AppToken == "" && sl.SigningSecret == "":
		bad("slack", "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (Events API) is; see docs/slack.md")
	case sl.BotToken == "" && (sl.AppToken != "" || sl.SigningSecret != ""):
		bad("slack", "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set without SLACK_BOT_TOKEN; see docs/slack.md")
	}
	for i, b := range sl.Briefs {
		field := fmt.Sprintf("slack.briefs[%d]", i)
		if b.Cron == "" || b.Channel == "" || b.As == "" {
			bad(field, "cron, channel and as are all required")
		}
	}
	return errors.Join(errs...)
}
