package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// oidcProvider is an in-process OpenID Connect provider speaking the real
// protocol: discovery, JWKS, the authorization endpoint (which signs in
// whoever the test says, as a provider's login form would) and the token
// endpoint, which checks the client, the redirect URI, the PKCE verifier
// against the challenge, and takes each code once. ID tokens are RS256 with
// a key generated for the test.
type oidcProvider struct {
	t      *testing.T
	ts     *httptest.Server
	signer jose.Signer
	jwks   []byte

	mu        sync.Mutex
	user      map[string]any // the claims of whoever signs in next
	badNonce  bool           // issue ID tokens with another nonce
	codes     map[string]*providerCode
	exchanges int // token requests answered with tokens
}

type providerCode struct {
	clientID, redirectURI, challenge, nonce string
	claims                                  map[string]any
	used                                    bool
}

const clientID = "askmesh"

func newOIDCProvider(t *testing.T) *oidcProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "idp-1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	p := &oidcProvider{t: t, signer: signer, codes: map[string]*providerCode{}}
	p.jwks, _ = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "idp-1", Algorithm: "RS256", Use: "sig"}}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(p.jwks)
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.ts = httptest.NewServer(mux)
	t.Cleanup(p.ts.Close)
	p.signInAs("carol@bank.example", "Carol Chen", "risk-committee")
	return p
}

func (p *oidcProvider) issuer() string { return p.ts.URL }

// signInAs sets who the provider signs in next.
func (p *oidcProvider) signInAs(email, name string, groups ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = map[string]any{"sub": "idp|" + email, "email": email, "email_verified": true, "name": name, "groups": groups}
}

func (p *oidcProvider) setBadNonce(b bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.badNonce = b
}

// bearer is an ID token for the current user, as an API client would send.
func (p *oidcProvider) bearer() string {
	p.mu.Lock()
	claims := map[string]any{}
	for k, v := range p.user {
		claims[k] = v
	}
	p.mu.Unlock()
	return p.sign(claims, "")
}

func (p *oidcProvider) sign(claims map[string]any, nonce string) string {
	now := time.Now()
	c := map[string]any{"iss": p.issuer(), "aud": clientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	raw, err := jwt.Signed(p.signer).Claims(c).Serialize()
	if err != nil {
		p.t.Error(err)
	}
	return raw
}

func (p *oidcProvider) discovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                p.issuer(),
		"authorization_endpoint":                p.issuer() + "/authorize",
		"token_endpoint":                        p.issuer() + "/token",
		"jwks_uri":                              p.issuer() + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
	})
}

func (p *oidcProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("response_type") != "code", q.Get("client_id") != clientID, q.Get("redirect_uri") == "",
		q.Get("code_challenge_method") != "S256", q.Get("code_challenge") == "", q.Get("nonce") == "", q.Get("state") == "":
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	code := randomString()
	user := map[string]any{}
	for k, v := range p.user {
		user[k] = v
	}
	p.codes[code] = &providerCode{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		nonce: q.Get("nonce"), claims: user}
	p.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *oidcProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	client := r.PostForm.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok {
		client = id
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.codes[r.PostForm.Get("code")]
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code", c == nil, c.used:
		tokenError(w, "invalid_grant")
		return
	case client != c.clientID, r.PostForm.Get("redirect_uri") != c.redirectURI:
		tokenError(w, "invalid_client")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
		tokenError(w, "invalid_grant") // PKCE: not the verifier of this code's challenge
		return
	}
	c.used = true
	nonce := c.nonce
	if p.badNonce {
		nonce = "another-sign-in"
	}
	p.exchanges++
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": randomString(), "token_type": "Bearer", "expires_in": 3600,
		"id_token": p.sign(c.claims, nonce)})
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
