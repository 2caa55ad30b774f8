package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/askmesh/askmesh/adapters/channels/web"
	"github.com/askmesh/askmesh/authz"
)

type me struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
	Known  bool     `json:"known"`
}

func TestBearerTokens(t *testing.T) {
	t.Parallel()
	const appToken = "askmesh_test-static-token-for-bob"
	h := newHarness(t, setup{opts: func(o *web.Options) {
		o.Auth.Tokens = map[string]string{authz.HashToken(appToken): "bob@bank.example"}
	}})
	cases := []struct {
		name, header string
		status       int
		user         string
		groups       []string
	}{
		{"no token", "", 401, "", nil},
		{"not bearer", "Basic Ym9iOnNlY3JldA==", 401, "", nil},
		{"empty bearer", "Bearer ", 401, "", nil},
		{"unknown token", "Bearer not-a-token", 401, "", nil},
		{"the hash is not the token", "Bearer " + authz.HashToken(appToken), 401, "", nil},
		{"static token", "Bearer " + appToken, 200, "bob@bank.example", []string{"lending"}},
		{"demo token", "Bearer demo-carol", 200, "carol@bank.example", []string{"executive"}},
		{"demo token, another user", "Bearer demo-erin", 200, "erin@bank.example", []string{"retail-ops"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := map[string]string{}
			if c.header != "" {
				hdr["Authorization"] = c.header
			}
			res, body := h.do("GET", "/v1/me", "", nil, hdr)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, body)
			}
			if c.status == 401 {
				if code, msg := errorOf(t, body); code != "unauthorized" || msg == "" {
					t.Fatalf("error %q %q", code, msg)
				}
				if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
				}
				return
			}
			var m me
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if m.ID != c.user || !slices.Equal(m.Groups, c.groups) || !m.Known {
				t.Fatalf("authenticated as %+v, want %s %v", m, c.user, c.groups)
			}
		})
	}
}

func TestDemoTokensOnlyInDemoMode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *web.Options) { o.Demo = false }})
	if res, body := h.do("GET", "/v1/me", "demo-carol", nil, nil); res.StatusCode != 401 {
		t.Fatalf("demo token outside demo mode: %d %s", res.StatusCode, body)
	}
	if res, _ := h.do("GET", "/v1/demo/users", "", nil, nil); res.StatusCode != 404 {
		t.Fatalf("demo users listed outside demo mode: %d", res.StatusCode)
	}
}

func TestDemoUsersListed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	res, body := h.do("GET", "/v1/demo/users", "", nil, nil)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var got struct {
		Users []struct {
			ID, Name, Token string
			Groups          []string
		}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Users) != 6 || got.Users[0].ID != "carol@bank.example" || got.Users[0].Token != "demo-carol" ||
		got.Users[0].Name != "Carol Chen" || !slices.Equal(got.Users[0].Groups, []string{"executive"}) {
		t.Fatalf("demo users: %+v", got.Users)
	}
}

func TestStaticTokensMustBeHashed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	for _, key := range []string{"plain-token", "sha256:abc", "sha1:" + strings.Repeat("a", 40)} {
		_, err := web.New(web.Options{Agent: h.app.Agent, Directory: h.app.Directory, Audit: h.app.Audit,
			Auth: web.AuthConfig{Tokens: map[string]string{key: "bob@bank.example"}}})
		if err == nil || !strings.Contains(err.Error(), "sha256:") {
			t.Errorf("token key %q accepted (err %v)", key, err)
		}
	}
	if got := authz.HashToken("abc"); got != "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashToken = %s", got)
	}
}

// idp is an in-process OpenID provider: a JWKS endpoint and a signer.
type idp struct {
	ts     *httptest.Server
	signer jose.Signer
	other  jose.Signer // a key the JWKS does not publish
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(ts.Close)
	sign := func(k *rsa.PrivateKey, kid string) jose.Signer {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k, KeyID: kid}},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return &idp{ts: ts, signer: sign(key, "k1"), other: sign(otherKey, "k1")}
}

const (
	issuer   = "https://login.bank.example"
	audience = "askmesh"
)

func (p *idp) token(t *testing.T, s jose.Signer, claims map[string]any) string {
	t.Helper()
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestOIDCTokens(t *testing.T) {
	t.Parallel()
	p := newIDP(t)
	h := newHarness(t, setup{opts: func(o *web.Options) {
		o.Demo = false
		o.Auth.OIDC = &web.OIDCConfig{Issuer: issuer, Audience: audience, JWKSURL: p.ts.URL}
	}})
	now := time.Now()
	claims := func(over map[string]any) map[string]any {
		c := map[string]any{"iss": issuer, "aud": audience, "sub": "00u1", "email": "Carol@Bank.example", "email_verified": true,
			"groups": []string{"risk-committee"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range over {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	cases := []struct {
		name    string
		token   string
		status  int
		user    string
		groups  []string
		known   bool
		message string
	}{
		{"listed user: directory groups plus the token's", p.token(t, p.signer, claims(nil)), 200, "carol@bank.example", []string{"executive", "risk-committee"}, true, ""},
		{"unlisted user: the token's groups", p.token(t, p.signer, claims(map[string]any{"email": "zoe@bank.example", "name": "Zoe", "groups": "analysts,treasury"})),
			200, "zoe@bank.example", []string{"analysts", "treasury"}, false, ""},
		{"expired", p.token(t, p.signer, claims(map[string]any{"exp": now.Add(-time.Minute).Unix(), "iat": now.Add(-time.Hour).Unix()})), 401, "", nil, false, "expired"},
		{"wrong audience", p.token(t, p.signer, claims(map[string]any{"aud": "another-app"})), 401, "", nil, false, "audience"},
		{"wrong issuer", p.token(t, p.signer, claims(map[string]any{"iss": "https://evil.example"})), 401, "", nil, false, "issuer"},
		{"unknown signing key", p.token(t, p.other, claims(nil)), 401, "", nil, false, "signature"},
		{"no email claim", p.token(t, p.signer, claims(map[string]any{"email": nil})), 401, "", nil, false, "email"},
		{"unverified email", p.token(t, p.signer, claims(map[string]any{"email_verified": false})), 401, "", nil, false, "not verified"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := h.do("GET", "/v1/me", c.token, nil, nil)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, body)
			}
			if c.status == 401 {
				code, msg := errorOf(t, body)
				if code != "unauthorized" || !strings.Contains(msg, c.message) {
					t.Fatalf("error %q %q, want a message about %q", code, msg, c.message)
				}
				if !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Fatalf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
				}
				return
			}
			var m me
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if m.ID != c.user || !slices.Equal(m.Groups, c.groups) || m.Known != c.known {
				t.Fatalf("authenticated as %+v, want %s %v known=%v", m, c.user, c.groups, c.known)
			}
		})
	}
}

func TestRateLimitPerUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{opts: func(o *web.Options) { o.Limits.RatePerMinute, o.Limits.Burst = 1, 2 }})
	for i := range 2 {
		if res, body := h.do("GET", "/v1/me", "demo-carol", nil, nil); res.StatusCode != 200 {
			t.Fatalf("request %d within the burst: %d %s", i+1, res.StatusCode, body)
		}
	}
	res, body := h.do("GET", "/v1/me", "demo-carol", nil, nil)
	if res.StatusCode != 429 {
		t.Fatalf("third request: %d %s", res.StatusCode, body)
	}
	if code, _ := errorOf(t, body); code != "rate_limited" {
		t.Fatalf("code %q", code)
	}
	// One token a minute, the bucket just emptied: the next is 60 s away.
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if res, _ := h.do("GET", "/v1/me", "demo-dave", nil, nil); res.StatusCode != 200 {
		t.Fatalf("another user is limited by carol's requests: %d", res.StatusCode)
	}
}

func TestBodyCap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	big := `{"message":"` + strings.Repeat("x", 1<<20) + `"}`
	res, body := h.do("POST", "/v1/chat", "demo-carol", big, nil)
	if res.StatusCode != 413 {
		t.Fatalf("1 MiB body with Content-Length: %d %s", res.StatusCode, body)
	}
	if code, _ := errorOf(t, body); code != "body_too_large" {
		t.Fatalf("code %q", code)
	}
	// Without a Content-Length (chunked), the cap applies while reading.
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/chat", struct{ *strings.Reader }{strings.NewReader(big)})
	req.Header.Set("Authorization", "Bearer demo-carol")
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	r2, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 413 {
		t.Fatalf("chunked 1 MiB body: %d", r2.StatusCode)
	}
	// The OpenAI-compatible endpoint has the same cap.
	if res, _ := h.do("POST", "/v1/chat/completions", "demo-carol", `{"model":"askmesh","messages":[{"role":"user","content":"`+strings.Repeat("y", 1<<20)+`"}]}`, nil); res.StatusCode != 413 {
		t.Fatalf("completions: %d", res.StatusCode)
	}
}

// TestOIDCDirectoryFromClaims: with directory: claims, who someone is in
// askmesh is what the identity provider's signed token says: mapped groups
// only, attributes from claims, users the directory file does not list, and
// the file's own groups ignored. Row filters follow the token's region.
func TestOIDCDirectoryFromClaims(t *testing.T) {
	t.Parallel()
	p := newIDP(t)
	h := newHarness(t, setup{opts: func(o *web.Options) {
		o.Demo = false
		o.Auth.OIDC = &web.OIDCConfig{Issuer: issuer, Audience: audience, JWKSURL: p.ts.URL, Directory: "claims",
			GroupMap:   map[string]string{"grp-retail-ops-eu": "retail-ops", "grp-exec": "executive"},
			Attributes: map[string]string{"region": "office_region"}}
	}})
	now := time.Now()
	token := func(email string, groups []string, region string) string {
		c := map[string]any{"iss": issuer, "aud": audience, "sub": email, "email": email, "email_verified": true,
			"groups": groups, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if region != "" {
			c["office_region"] = region
		}
		return p.token(t, p.signer, c)
	}
	type meAttrs struct {
		me
		Attributes map[string]string `json:"attributes"`
	}
	nina := token("nina@bank.example", []string{"grp-retail-ops-eu", "grp-unmapped"}, "europe")
	carol := token("carol@bank.example", []string{"grp-retail-ops-eu"}, "asia-pacific")
	for _, c := range []struct {
		name, token, id string
		groups          []string
		region          string
	}{
		{"a user only the provider knows", nina, "nina@bank.example", []string{"retail-ops"}, "europe"},
		{"a listed user: the token's groups, not the file's", carol, "carol@bank.example", []string{"retail-ops"}, "asia-pacific"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body := h.do("GET", "/v1/me", c.token, nil, nil)
			if res.StatusCode != 200 {
				t.Fatalf("%d %s", res.StatusCode, body)
			}
			var m meAttrs
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if m.ID != c.id || !slices.Equal(m.Groups, c.groups) || !m.Known {
				t.Fatalf("authenticated as %+v, want %s %v known", m, c.id, c.groups)
			}
		})
	}
	ask := func(tok, q string) string {
		res, body := h.do("POST", "/v1/chat", tok, map[string]string{"message": q}, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%q: %d %s", q, res.StatusCode, body)
		}
		return string(body)
	}
	// Nina's grant is retail-ops': transactions of her token's region only.
	out := ask(nina, "Total deposits by region last month")
	if !strings.Contains(out, `"europe"`) || strings.Contains(out, "north-america") || strings.Contains(out, "asia-pacific") {
		t.Errorf("nina's deposits by region are not Europe's only: %s", out)
	}
	// Carol's token says retail-ops in Asia-Pacific: her executive grant
	// from the file no longer applies.
	if out := ask(carol, "Total deposits by region last month"); !strings.Contains(out, `"asia-pacific"`) || strings.Contains(out, `"europe"`) {
		t.Errorf("carol's deposits are not Asia-Pacific's only: %s", out)
	}
	if out := ask(carol, "How many loan applications were approved last month?"); !strings.Contains(out, "not in a group") {
		t.Errorf("carol's token carries no lending or executive group, yet: %s", out)
	}
}
