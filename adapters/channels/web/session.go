package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Web sessions: after an OIDC sign-in (login.go) the browser holds an
// opaque session id in an HttpOnly cookie; the server keeps what it means.
// The store keeps only the id's hash, so a memory dump names no usable
// session. Every state-changing request a session authenticates must carry
// the session's CSRF token in X-CSRF-Token and pass net/http's
// cross-origin check (middleware.go).

const (
	sessionCookie = "askmesh_session"
	loginCookie   = "askmesh_login" // the state of a sign-in in progress, bound to this browser
	csrfHeader    = "X-CSRF-Token"

	defaultSessionTTL = 8 * time.Hour
	loginTTL          = 10 * time.Minute // time to finish signing in at the provider
	maxPendingLogins  = 10_000           // sign-ins in progress; started by anyone, so bounded
)

// webSession is one signed-in browser.
type webSession struct {
	user    string         // for logs
	claims  map[string]any // the ID token's claims, mapped to a subject on every request
	csrf    string
	expires time.Time
}

// pendingLogin is a sign-in between the redirect to the provider and the
// callback: its nonce and PKCE verifier never leave the server.
type pendingLogin struct {
	nonce, verifier, returnTo string
	expires                   time.Time
}

type sessionStore struct {
	mu       sync.Mutex
	now      func() time.Time
	ttl      time.Duration
	sessions map[[32]byte]*webSession
	pending  map[string]pendingLogin
}

func newSessionStore(ttl time.Duration, now func() time.Time) *sessionStore {
	if ttl <= 0 {
		ttl = defaultSessionTTL
	}
	return &sessionStore{now: now, ttl: ttl, sessions: map[[32]byte]*webSession{}, pending: map[string]pendingLogin{}}
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errTooManyLogins = errors.New("too many sign-ins in progress; try again in a few minutes")

// begin records a sign-in in progress under a fresh state.
func (st *sessionStore) begin(returnTo string) (state string, p pendingLogin, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.now()
	if len(st.pending) >= maxPendingLogins {
		for k, v := range st.pending {
			if now.After(v.expires) {
				delete(st.pending, k)
			}
		}
		if len(st.pending) >= maxPendingLogins {
			return "", p, errTooManyLogins
		}
	}
	state = randomToken()
	p = pendingLogin{nonce: randomToken(), verifier: oauth2.GenerateVerifier(), returnTo: returnTo, expires: now.Add(loginTTL)}
	st.pending[state] = p
	return state, p, nil
}

// take removes and returns a sign-in in progress: a state is good once,
// so a replayed callback finds nothing.
func (st *sessionStore) take(state string) (pendingLogin, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	p, ok := st.pending[state]
	delete(st.pending, state)
	if !ok || st.now().After(p.expires) {
		return pendingLogin{}, false
	}
	return p, true
}

// create starts a session and returns its cookie value.
func (st *sessionStore) create(user string, claims map[string]any) (string, *webSession) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.now()
	for k, s := range st.sessions { // sign-ins are rare next to requests: sweep here
		if now.After(s.expires) {
			delete(st.sessions, k)
		}
	}
	id := randomToken()
	s := &webSession{user: user, claims: claims, csrf: randomToken(), expires: now.Add(st.ttl)}
	st.sessions[sha256.Sum256([]byte(id))] = s
	return id, s
}

// lookup finds the live session a cookie names.
func (st *sessionStore) lookup(id string) (*webSession, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	key := sha256.Sum256([]byte(id))
	s, ok := st.sessions[key]
	switch {
	case !ok:
		return nil, &authError{"unknown", "you are signed out; sign in again"}
	case st.now().After(s.expires):
		delete(st.sessions, key)
		return nil, &authError{"expired", "your sign-in expired; sign in again"}
	}
	return s, nil
}

// end signs a session out.
func (st *sessionStore) end(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.sessions, sha256.Sum256([]byte(id)))
}

// checkCSRF compares the request's CSRF header with the session's.
func (s *webSession) checkCSRF(r *http.Request) bool {
	got := r.Header.Get(csrfHeader)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// cookie builds one of the server's cookies: HttpOnly always, Secure when
// the browser reaches askmesh over TLS (directly, or per the https redirect
// URL behind a TLS proxy), SameSite=Lax so the provider's redirect back
// carries the sign-in state while other sites' requests carry nothing.
func cookie(name, value, path string, maxAge int, secure bool) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
