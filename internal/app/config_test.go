package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clearModelEnv unsets every variable the configuration reads for models and Slack.
func clearModelEnv(t *testing.T) {
	t.Helper()
	for _, vars := range providerVars {
		for _, k := range vars {
			if k != "" {
				t.Setenv(k, "")
			}
		}
	}
	for _, k := range []string{"ASKMESH_MODEL", "ASKMESH_MODEL_NAME", "ASKMESH_MODEL_BASE_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN",
		"SLACK_SIGNING_SECRET", "SLACK_API_URL", "SLACK_STREAMING"} {
		t.Setenv(k, "")
	}
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "askmesh.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The file, ASKMESH_* and each provider's own variables merge in one
// place: the file and ASKMESH_* win, the provider's variables fill blanks.
func TestModelConfigMergesFileAndProviderVariables(t *testing.T) {
	clearModelEnv(t)
	t.Setenv("ASKMESH_MODEL", "openai")
	c, err := LoadConfig("")
	if err != nil || c.Model.Provider != "openai" || c.Model.APIKey != "" || c.Model.Name != "" {
		t.Fatalf("openai defaults: %v %+v", err, c.Model)
	}
	t.Setenv("OPENAI_API_KEY", "sk-1")
	t.Setenv("OPENAI_BASE_URL", "http://vllm:8000/v1")
	t.Setenv("OPENAI_MODEL", "qwen2.5-72b")
	t.Setenv("OPENAI_ORG_ID", "org-bank")
	c, _ = LoadConfig("")
	if m := c.Model; m.APIKey != "sk-1" || m.BaseURL != "http://vllm:8000/v1" || m.Name != "qwen2.5-72b" || m.Organization != "org-bank" {
		t.Fatalf("openai variables: %+v", m)
	}
	// The file names the model: it wins over OPENAI_MODEL; ASKMESH_MODEL_NAME wins over both.
	path := writeConfig(t, "model:\n  provider: openai\n  name: gpt-4o-mini\n")
	if c, _ = LoadConfig(path); c.Model.Name != "gpt-4o-mini" || c.Model.APIKey != "sk-1" {
		t.Fatalf("file over provider variables: %+v", c.Model)
	}
	t.Setenv("ASKMESH_MODEL_NAME", "gpt-4.1")
	if c, _ = LoadConfig(path); c.Model.Name != "gpt-4.1" {
		t.Fatalf("ASKMESH_MODEL_NAME over the file: %+v", c.Model)
	}
	t.Setenv("ASKMESH_MODEL_NAME", "")

	// Azure's variables alone select Azure.
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("AZURE_OPENAI_ENDPOINT", "https://bank.openai.azure.com")
	t.Setenv("AZURE_OPENAI_API_KEY", "az-1")
	t.Setenv("AZURE_OPENAI_DEPLOYMENT", "gpt-4o-prod")
	t.Setenv("AZURE_OPENAI_API_VERSION", "2025-01-01-preview")
	c, err = LoadConfig("")
	if m := c.Model; err != nil || m.Provider != "azure" || m.BaseURL != "https://bank.openai.azure.com" || m.APIKey != "az-1" ||
		m.Name != "gpt-4o-prod" || m.AzureAPIVersion != "2025-01-01-preview" {
		t.Fatalf("azure: %v %+v", err, m)
	}
	// With an OpenAI key too, OpenAI wins unless Azure is asked for.
	t.Setenv("OPENAI_API_KEY", "sk-1")
	if c, _ = LoadConfig(""); c.Model.Provider != "openai" || c.Model.APIKey != "sk-1" {
		t.Fatalf("both set: %+v", c.Model)
	}

	t.Setenv("ASKMESH_MODEL", "anthropic")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-1")
	t.Setenv("ANTHROPIC_BASE_URL", "https://gateway.bank.example/anthropic")
	t.Setenv("ANTHROPIC_MODEL", "claude-haiku-4-5")
	if c, _ = LoadConfig(""); c.Model.APIKey != "sk-ant-1" || c.Model.BaseURL != "https://gateway.bank.example/anthropic" || c.Model.Name != "claude-haiku-4-5" {
		t.Fatalf("anthropic: %+v", c.Model)
	}
	t.Setenv("ASKMESH_MODEL", "ollama")
	t.Setenv("OLLAMA_HOST", "gpu-box:11434")
	t.Setenv("OLLAMA_MODEL", "qwen2.5:32b")
	if c, _ = LoadConfig(""); c.Model.BaseURL != "gpu-box:11434" || c.Model.Name != "qwen2.5:32b" || c.Model.APIKey != "" {
		t.Fatalf("ollama: %+v", c.Model)
	}
}

func TestSlackSecretsComeFromTheEnvironmentOnly(t *testing.T) {
	clearModelEnv(t)
	// A file cannot carry Slack's secrets: the fields have no YAML name.
	if _, err := LoadConfig(writeConfig(t, "slack:\n  bot_token: xoxb-1\n")); err == nil || !strings.Contains(err.Error(), "bot_token") {
		t.Fatalf("a bot token in the file: err = %v", err)
	}
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-1")
	t.Setenv("SLACK_SIGNING_SECRET", "s3cret")
	t.Setenv("SLACK_STREAMING", "1")
	c, err := LoadConfig("")
	if err != nil || c.Slack.BotToken != "xoxb-1" || c.Slack.SigningSecret != "s3cret" || !c.Slack.Streaming {
		t.Fatalf("slack: %v %+v", err, c.Slack)
	}
}

// Every mistake is named by its field, all of them at once.
func TestValidateNamesEachFieldAtFault(t *testing.T) {
	clearModelEnv(t)
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-1")
	path := writeConfig(t, `now: yesterday
model:
  provider: gpt
  timeout: -1s
agent:
  max_steps: -2
memory:
  ttl: -1h
web:
  addr: localhost
  auth:
    oidc:
      issuer: https://login.bank.example
      redirect_url: https://askmesh.bank.example/callback
      session_ttl: -1h
slack:
  briefs:
    - cron: "0 8 * * 1"
`)
	_, err := LoadConfig(path)
	if err == nil {
		t.Fatal("a configuration full of mistakes loaded")
	}
	for _, want := range []string{
		`config: now: "yesterday" is not an RFC 3339 instant`,
		`config: model.provider: "gpt" is not one of offline, openai, azure, anthropic, ollama`,
		"config: model.timeout: -1s is negative",
		"config: agent.max_steps: -2 is negative",
		"config: memory.ttl: -1h0m0s is negative",
		`config: web.addr: "localhost" is not host:port`,
		"config: web.auth.oidc.audience: is required when web.auth.oidc is set",
		"config: web.auth.oidc.jwks_url: is required when web.auth.oidc is set",
		`config: web.auth.oidc.redirect_url: "https://askmesh.bank.example/callback" must end in /v1/web/callback`,
		"config: web.auth.oidc.session_ttl: -1h0m0s is negative",
		"config: slack: SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (Events API) is",
		"config: slack.briefs[0]: cron, channel and as are all required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	t.Setenv("SLACK_BOT_TOKEN", "")
	t.Setenv("ASKMESH_MODEL", "azure")
	if _, err := LoadConfig(""); err == nil || !strings.Contains(err.Error(), "config: model: azure needs base_url (AZURE_OPENAI_ENDPOINT)") {
		t.Errorf("azure without its endpoint: %v", err)
	}
	t.Setenv("ASKMESH_MODEL", "")
	if _, err := LoadConfig(""); err != nil {
		t.Errorf("the embedded defaults do not validate: %v", err)
	}
	// The client secret comes from the environment only, and needs OIDC.
	t.Setenv("ASKMESH_OIDC_CLIENT_SECRET", "s3cret")
	if _, err := LoadConfig(""); err == nil || !strings.Contains(err.Error(), "ASKMESH_OIDC_CLIENT_SECRET is set but web.auth.oidc is not configured") {
		t.Errorf("a client secret without OIDC: %v", err)
	}
	c, err := LoadConfig(writeConfig(t, `web:
  auth:
    oidc: {issuer: "https://login.bank.example", audience: askmesh, jwks_url: "https://login.bank.example/keys", redirect_url: "https://askmesh.bank.example/v1/web/callback"}
`))
	if err != nil || c.Web.Auth.OIDC.ClientSecret != "s3cret" {
		t.Errorf("web sign-in config: %v %+v", err, c.Web.Auth.OIDC)
	}
}
