package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/askmesh/askmesh/authz"
)

// Directory resolves a user id to a subject; *authz.Directory implements it.
// A user the directory does not list comes back with Known false.
type Directory interface {
	Lookup(id string) authz.Subject
}

// userLister is implemented by *authz.Directory: demo mode lists its users
// and their titles.
type userLister interface {
	Users() []authz.User
}

// AuthConfig says who may call the API. Every request must carry a bearer
// token: a static token listed here (by its SHA-256 hash), an OIDC JWT when
// OIDC is configured, or, in demo mode only, a demo user's token demo-<name>.
type AuthConfig struct {
	// Tokens maps a token's hash, "sha256:<64 hex digits>" as authz.HashToken
	// returns it, to the user id it authenticates. Tokens themselves are never
	// stored, so a leaked configuration file leaks no credentials.
	Tokens map[string]string `yaml:"tokens"`
	OIDC   *OIDCConfig       `yaml:"oidc"`
}

// OIDCConfig verifies JWTs from an OpenID Connect provider against its JWKS.
type OIDCConfig struct {
	Issuer   string   `yaml:"issuer"`   // the iss claim tokens must carry
	Audience string   `yaml:"audience"` // the aud claim tokens must carry (the client id)
	JWKSURL  string   `yaml:"jwks_url"` // where the provider publishes its signing keys
	IDClaim  string   `yaml:"id_claim"` // the claim naming the user (default "email")
	Groups   string   `yaml:"groups"`   // the claim listing the user's groups (default "groups")
	Name     string   `yaml:"name"`     // the claim with a display name (default "name")
	Algs     []string `yaml:"algs"`     // accepted signing algorithms (default RS256, ES256)

	// Directory says where a signed-in user's groups and attributes come
	// from: "merge" (default) adds the token's to the directory file's;
	// "claims" takes them from the token alone, so access follows the
	// identity provider and the directory file lists nobody it must know.
	Directory string `yaml:"directory"`
	// GroupMap translates the provider's group names to the groups grants
	// use ("grp-lending-officers": lending). When set, a token's groups it
	// does not list are dropped: only mapped groups are trusted.
	GroupMap map[string]string `yaml:"group_map"`
	// Attributes maps a directory attribute to the claim holding it
	// (region: office_region). A token's attribute wins over the file's.
	Attributes map[string]string `yaml:"attributes"`

	// Web sign-in: the authorization code flow with PKCE, for the web chat
	// and the audit page (login.go). Setting RedirectURL enables it; the
	// client id is Audience and the endpoints come from the issuer's
	// discovery document.
	RedirectURL string `yaml:"redirect_url"` // https://askmesh.example/v1/web/callback, as registered with the provider
	// ClientSecret comes from ASKMESH_OIDC_CLIENT_SECRET, never the file;
	// empty for a public client, which PKCE alone protects.
	ClientSecret string        `yaml:"-"`
	Scopes       []string      `yaml:"scopes"`      // requested scopes (default openid, email, profile)
	SessionTTL   time.Duration `yaml:"session_ttl"` // how long a web sign-in lasts (default 8h)
}

// authError is a refused credential. Reason is a metric label; Message is
// what the client is told, which never says whether a token exists.
type authError struct {
	Reason  string // missing, unknown, invalid, expired
	Message string
}

func (e *authError) Error() string { return e.Message }

type authenticator struct {
	dir    Directory
	tokens map[[32]byte]string // sha256(token) -> user id
	demo   map[string]string   // demo token -> user id
	oidc   *oidcVerifier
	sso    *ssoClient // web sign-in and its sessions; nil unless OIDC has a redirect_url
}

func newAuthenticator(dir Directory, cfg AuthConfig, demo bool, demoUsers []string, now func() time.Time) (*authenticator, error) {
	tokens, err := authz.ParseTokenHashes(cfg.Tokens)
	if err != nil {
		return nil, err
	}
	a := &authenticator{dir: dir, tokens: tokens}
	if demo {
		a.demo = map[string]string{}
		for _, id := range demoUsers {
			a.demo[authz.DemoToken(id)] = id
		}
	}
	if cfg.OIDC != nil {
		v, err := newOIDCVerifier(*cfg.OIDC, dir)
		if err != nil {
			return nil, err
		}
		a.oidc = v
		if cfg.OIDC.RedirectURL != "" {
			if a.sso, err = newSSO(v.cfg, v, now); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// authenticate resolves the request's bearer token, or else its web
// session cookie, to a subject. A session it used is returned too: the
// caller checks its CSRF token on state-changing requests.
func (a *authenticator) authenticate(ctx context.Context, r *http.Request) (authz.Subject, *webSession, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if ck, err := r.Cookie(sessionCookie); err == nil && a.sso != nil {
			return a.session(ck.Value)
		}
		return authz.Subject{}, nil, &authError{"missing", "this endpoint needs a bearer token: send Authorization: Bearer <token>, or sign in"}
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return authz.Subject{}, nil, &authError{"invalid", "the Authorization header must be \"Bearer <token>\""}
	}
	subj, err := a.token(ctx, token)
	return subj, nil, err
}

// session maps a live session to its person, from the claims kept at sign-in
// and today's directory: a group removed from the directory is gone at the
// next request, not at the next sign-in.
func (a *authenticator) session(id string) (authz.Subject, *webSession, error) {
	s, err := a.sso.store.lookup(id)
	if err != nil {
		return authz.Subject{}, nil, err
	}
	subj, err := a.oidc.subject(s.claims)
	if err != nil {
		return authz.Subject{}, nil, err
	}
	return subj, s, nil
}

func (a *authenticator) token(ctx context.Context, token string) (authz.Subject, error) {
	if id, ok := a.tokens[sha256.Sum256([]byte(token))]; ok {
		return a.lookup(id), nil
	}
	if id, ok := a.demo[token]; ok {
		return a.lookup(id), nil
	}
	if a.oidc != nil && strings.Count(token, ".") == 2 {
		return a.oidc.verify(ctx, token)
	}
	return authz.Subject{}, &authError{"unknown", "the bearer token is not valid"}
}

func (a *authenticator) lookup(id string) authz.Subject {
	s := a.dir.Lookup(id)
	if s.ID == "" {
		s.ID = id
	}
	return s
}

// subjectFromContext is set by the auth wrapper for handlers.
func subjectOf(r *http.Request) authz.Subject {
	if st := stateOf(r.Context()); st != nil && st.subject != nil {
		return *st.subject
	}
	return authz.Subject{}
}

var errNoDirectory = errors.New("web: Options.Directory is required to resolve users")
