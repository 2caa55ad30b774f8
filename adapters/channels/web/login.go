package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Web sign-in with the company's identity provider: the OpenID Connect
// authorization code flow with PKCE. GET /v1/web/login sends the browser to
// the provider with a fresh state, nonce and code challenge; the provider
// sends it back to GET /v1/web/callback, which checks the state against the
// cookie set at the start (the same browser), takes the state once (a
// replayed callback fails), exchanges the code with the PKCE verifier,
// verifies the ID token (signature, issuer, audience, expiry) and its nonce,
// and starts a session (session.go). The person is mapped from the token's
// claims exactly as for bearer tokens (oidc.go).

// providerTimeout bounds each call to the identity provider.
const providerTimeout = 15 * time.Second

type ssoClient struct {
	cfg    OIDCConfig
	verify *oidcVerifier
	store  *sessionStore
	secure bool // cookies are Secure: the redirect URL is https
	client *http.Client

	mu    sync.Mutex
	oauth *oauth2.Config // from the issuer's discovery document, once fetched
}

func newSSO(cfg OIDCConfig, v *oidcVerifier, now func() time.Time) (*ssoClient, error) {
	u, err := url.Parse(cfg.RedirectURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("auth oidc: redirect_url %q is not an absolute http(s) URL", cfg.RedirectURL)
	}
	if u.Path != "/v1/web/callback" {
		return nil, fmt.Errorf("auth oidc: redirect_url %q must end in /v1/web/callback, where askmesh receives the sign-in", cfg.RedirectURL)
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	return &ssoClient{cfg: cfg, verify: v, store: newSessionStore(cfg.SessionTTL, now), secure: u.Scheme == "https",
		client: &http.Client{Timeout: providerTimeout}}, nil
}

// oauthConfig discovers the provider's endpoints on first use, not at
// start: askmesh serves bearer tokens while the provider is unreachable,
// and a failed discovery is tried again at the next sign-in.
func (c *ssoClient) oauthConfig(ctx context.Context) (*oauth2.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.oauth != nil {
		return c.oauth, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, c.client), providerTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the identity provider %s: %w", c.cfg.Issuer, err)
	}
	c.oauth = &oauth2.Config{ClientID: c.cfg.Audience, ClientSecret: c.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: c.cfg.RedirectURL, Scopes: c.cfg.Scopes}
	return c.oauth, nil
}

func (s *Server) loginRoutes() {
	s.handle("GET /v1/web/signin", public, s.signinOptions)
	if s.auth.sso == nil {
		return
	}
	s.handle("GET /v1/web/login", public|perIP, s.login)
	s.handle("GET /v1/web/callback", public|perIP, s.callback)
	s.handle("POST /v1/web/logout", authed, s.logout)
}

// signinOptions tells the sign-in screen which ways to sign in exist, and
// whether this browser holds a live session (its cookie is HttpOnly: the
// page cannot tell, and asking /v1/me would log a 401 in every console).
func (s *Server) signinOptions(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"sso": s.auth.sso != nil, "demo": s.o.Demo, "signed_in": false}
	if s.auth.sso != nil {
		out["login_url"] = "/v1/web/login"
		if u, err := url.Parse(s.auth.sso.cfg.Issuer); err == nil {
			out["provider"] = u.Host
		}
		if ck, err := r.Cookie(sessionCookie); err == nil {
			_, err := s.auth.sso.store.lookup(ck.Value)
			out["signed_in"] = err == nil
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// returnPath keeps a sign-in's destination on this server: one of its pages.
func returnPath(p string) string {
	switch p {
	case "/", "/audit":
		return p
	}
	return "/"
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	c := s.auth.sso
	oc, err := c.oauthConfig(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "web sign-in: the identity provider cannot be reached", "err", err)
		signinFailed(w, http.StatusServiceUnavailable, "The identity provider cannot be reached. Try again in a minute.")
		return
	}
	state, p, err := c.store.begin(returnPath(r.URL.Query().Get("return")))
	if err != nil {
		signinFailed(w, http.StatusServiceUnavailable, "Too many sign-ins are in progress. Try again in a few minutes.")
		return
	}
	http.SetCookie(w, cookie(loginCookie, state, "/v1/web/callback", int(loginTTL.Seconds()), c.secure))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, oc.AuthCodeURL(state, oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)), http.StatusFound)
}

// signinError is a refused sign-in: Reason is the metric label and log
// field, Message what the person reads.
type signinError struct{ Reason, Message string }

func (e *signinError) Error() string { return e.Reason + ": " + e.Message }

func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	c := s.auth.sso
	// The sign-in's state cookie is spent whatever happens next.
	http.SetCookie(w, cookie(loginCookie, "", "/v1/web/callback", -1, c.secure))
	user, returnTo, sid, err := s.finishSignin(r)
	if err != nil {
		var se *signinError
		if !errors.As(err, &se) {
			se = &signinError{"provider", "The sign-in could not be completed with the identity provider. Try again."}
			s.log.ErrorContext(r.Context(), "web sign-in failed", "err", err)
		} else {
			s.log.WarnContext(r.Context(), "web sign-in refused", "reason", se.Reason)
		}
		s.metrics.authFailures.WithLabelValues("signin_" + se.Reason).Inc()
		signinFailed(w, http.StatusUnauthorized, se.Message)
		return
	}
	s.log.InfoContext(r.Context(), "web sign-in", "user", user)
	http.SetCookie(w, cookie(sessionCookie, sid, "/", int(c.store.ttl.Seconds()), c.secure))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

// finishSignin checks the provider's answer and starts a session.
func (s *Server) finishSignin(r *http.Request) (user, returnTo, sid string, err error) {
	c := s.auth.sso
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return "", "", "", &signinError{"provider_refused", "The identity provider did not sign you in (" + e + "). Try again, or ask your administrator for access to askmesh."}
	}
	state := q.Get("state")
	ck, _ := r.Cookie(loginCookie)
	if state == "" || ck == nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) != 1 {
		return "", "", "", &signinError{"bad_state", "This sign-in did not start in this browser, or it was already used. Sign in again."}
	}
	p, ok := c.store.take(state)
	if !ok {
		return "", "", "", &signinError{"bad_state", "This sign-in expired or was already used. Sign in again."}
	}
	code := q.Get("code")
	if code == "" {
		return "", "", "", &signinError{"no_code", "The identity provider sent no sign-in code. Sign in again."}
	}
	oc, err := c.oauthConfig(r.Context())
	if err != nil {
		return "", "", "", err
	}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), oauth2.HTTPClient, c.client), providerTimeout)
	defer cancel()
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return "", "", "", &signinError{"code_refused", "The identity provider did not accept the sign-in code (it may have been used already). Sign in again."}
		}
		return "", "", "", fmt.Errorf("exchange the sign-in code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", "", "", &signinError{"no_id_token", "The identity provider sent no ID token. Ask your administrator to check askmesh's client registration."}
	}
	idt, err := c.verify.check(ctx, raw)
	if err != nil {
		return "", "", "", &signinError{"bad_id_token", "The identity provider's ID token is not valid: " + err.Error()}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.nonce)) != 1 {
		return "", "", "", &signinError{"bad_nonce", "The ID token was not issued for this sign-in. Sign in again."}
	}
	claims, err := claimsOf(idt)
	if err != nil {
		return "", "", "", &signinError{"bad_id_token", err.Error()}
	}
	subj, err := c.verify.subject(claims)
	if err != nil {
		return "", "", "", &signinError{"bad_id_token", err.Error()}
	}
	sid, _ = c.store.create(subj.ID, claims)
	return subj.ID, p.returnTo, sid, nil
}

// logout ends the browser's session; the middleware has checked its CSRF
// token. Signing out of askmesh does not sign out of the provider.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	c := s.auth.sso
	if ck, err := r.Cookie(sessionCookie); err == nil && stateOf(r.Context()).session != nil {
		c.store.end(ck.Value)
	}
	http.SetCookie(w, cookie(sessionCookie, "", "/", -1, c.secure))
	writeJSON(w, http.StatusOK, map[string]any{"signed_out": true})
}

var signinPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>askmesh · sign-in failed</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main><section class="signin"><h1>Sign-in failed</h1>
<p class="error" role="alert">{{.}}</p>
<p><a class="primary-link" href="/v1/web/login">Sign in again</a> · <a href="/">Back to askmesh</a></p>
</section></main></body></html>
`))

// signinFailed answers a browser's failed sign-in with a page, not JSON:
// the person arrived here by a redirect, not from a script.
func signinFailed(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = signinPage.Execute(w, strings.TrimSpace(msg))
}
