package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askmesh/askmesh/adapters/channels/web"
)

// fakeClock is the clock web sessions expire by in these tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ssoHarness is the stack with web sign-in through p (demo mode off).
func ssoHarness(t *testing.T, p *oidcProvider, clock *fakeClock) *harness {
	return newHarness(t, setup{served: func(o *web.Options, base string) {
		o.Demo = false
		o.Auth.OIDC = &web.OIDCConfig{Issuer: p.issuer(), Audience: clientID, JWKSURL: p.issuer() + "/keys",
			RedirectURL: base + "/v1/web/callback", SessionTTL: 2 * time.Hour}
		if clock != nil {
			o.Now = clock.Now
		}
	}})
}

// browserClient keeps cookies like a browser and, unless follow is set,
// stops at each redirect so the test sees it.
func browserClient(t *testing.T, follow bool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func send(t *testing.T, c *http.Client, method, u string, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

type sessionMe struct {
	ID      string          `json:"id"`
	Groups  []string        `json:"groups"`
	Offers  map[string]bool `json:"offers"`
	Session *struct {
		CSRF      string `json:"csrf_token"`
		ExpiresAt string `json:"expires_at"`
	} `json:"session"`
}

func meOf(t *testing.T, body string) sessionMe {
	t.Helper()
	var m sessionMe
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("/v1/me: %v: %s", err, body)
	}
	return m
}

// startSignIn follows GET /v1/web/login to the provider and returns the
// callback URL the provider sends the browser back to.
func startSignIn(t *testing.T, h *harness, c *http.Client) *url.URL {
	t.Helper()
	res, body := send(t, c, "GET", h.ts.URL+"/v1/web/login", "", nil)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("login: %d %s", res.StatusCode, body)
	}
	auth, _ := url.Parse(res.Header.Get("Location"))
	q := auth.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" ||
		!strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("the authorization request lacks PKCE, nonce, state or scope: %s", auth)
	}
	res, body = send(t, c, "GET", auth.String(), "", nil)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("provider: %d %s", res.StatusCode, body)
	}
	back, _ := url.Parse(res.Header.Get("Location"))
	return back
}

// TestWebSignIn: the code flow ends in a session cookie (HttpOnly,
// SameSite=Lax); the session is carol with her directory groups and the
// token's; a question asked with the session and its CSRF token answers;
// without the token, or from another site, a POST is refused; bearer tokens
// still work; sign-out ends the session.
func TestWebSignIn(t *testing.T) {
	t.Parallel()
	p := newOIDCProvider(t)
	h := ssoHarness(t, p, nil)
	c := browserClient(t, false)

	res, body := send(t, c, "GET", h.ts.URL+"/v1/web/signin", "", nil)
	if res.StatusCode != 200 || !strings.Contains(body, `"sso":true`) || !strings.Contains(body, `"login_url":"/v1/web/login"`) {
		t.Fatalf("signin options: %d %s", res.StatusCode, body)
	}
	back := startSignIn(t, h, c)
	res, body = send(t, c, "GET", back.String(), "", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("callback: %d %s %s", res.StatusCode, res.Header.Get("Location"), body)
	}
	var sess *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "askmesh_session" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure || sess.MaxAge != 7200 {
		t.Fatalf("session cookie %+v (want HttpOnly, SameSite=Lax, not Secure over plain HTTP, 2 h)", sess)
	}

	res, body = send(t, c, "GET", h.ts.URL+"/v1/me", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("/v1/me with the session: %d %s", res.StatusCode, body)
	}
	m := meOf(t, body)
	if m.ID != "carol@bank.example" || !slices.Equal(m.Groups, []string{"executive", "risk-committee"}) || m.Session == nil || m.Session.CSRF == "" {
		t.Fatalf("signed in as %+v", m)
	}

	ask := `{"message":"` + acquisitionQuestion + `"}`
	res, body = send(t, c, "POST", h.ts.URL+"/v1/web/chat", ask, nil)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, `"csrf"`) {
		t.Fatalf("a POST without the CSRF token: %d %s", res.StatusCode, body)
	}
	res, body = send(t, c, "POST", h.ts.URL+"/v1/web/chat", ask, map[string]string{"X-CSRF-Token": "not-the-token"})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a POST with a wrong CSRF token: %d %s", res.StatusCode, body)
	}
	res, body = send(t, c, "POST", h.ts.URL+"/v1/web/chat", ask,
		map[string]string{"X-CSRF-Token": m.Session.CSRF, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site POST with the token: %d %s", res.StatusCode, body)
	}
	res, body = send(t, c, "POST", h.ts.URL+"/v1/web/chat", ask, map[string]string{"X-CSRF-Token": m.Session.CSRF, "Sec-Fetch-Site": "same-origin"})
	if res.StatusCode != 200 {
		t.Fatalf("a question with the session: %d %s", res.StatusCode, body)
	}
	oct, _ := octSep(t, h.dir)
	if !strings.Contains(body, thousands(oct)) {
		t.Errorf("the answer does not state October's %d: %s", oct, body)
	}
	recs := auditByRequest(t, h.app.Audit, "carol@bank.example", res.Header.Get("X-Request-Id"))
	if len(recs) == 0 || recs[0].Channel != "web" {
		t.Errorf("the session's question is not recorded as carol's on channel web: %+v", recs)
	}

	// Bearer tokens work beside sessions, with no CSRF token (no cookie rides along).
	if res, body := h.do("GET", "/v1/me", p.bearer(), nil, nil); res.StatusCode != 200 || meOf(t, string(body)).Session != nil {
		t.Fatalf("a bearer token: %d %s", res.StatusCode, body)
	}

	res, body = send(t, c, "POST", h.ts.URL+"/v1/web/logout", "", nil)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out without the CSRF token: %d %s", res.StatusCode, body)
	}
	res, body = send(t, c, "POST", h.ts.URL+"/v1/web/logout", "", map[string]string{"X-CSRF-Token": m.Session.CSRF})
	if res.StatusCode != 200 {
		t.Fatalf("sign-out: %d %s", res.StatusCode, body)
	}
	// The server forgot the session: even the old cookie value is refused.
	req, _ := http.NewRequest("GET", h.ts.URL+"/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: "askmesh_session", Value: sess.Value})
	old, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	old.Body.Close()
	if old.StatusCode != 401 {
		t.Fatalf("the signed-out session still authenticates: %d", old.StatusCode)
	}
}

// TestWebSignInRefusals: each forged or replayed step of the flow is
// refused and starts no session.
func TestWebSignInRefusals(t *testing.T) {
	t.Parallel()
	p := newOIDCProvider(t)
	h := ssoHarness(t, p, nil)
	refused := func(t *testing.T, c *http.Client, u, want string) {
		t.Helper()
		res, body := send(t, c, "GET", u, "", nil)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, want) {
			t.Fatalf("callback %s: %d, want 401 saying %q: %s", u, res.StatusCode, want, body)
		}
		for _, ck := range res.Cookies() {
			if ck.Name == "askmesh_session" && ck.MaxAge >= 0 {
				t.Fatalf("a refused sign-in set a session cookie")
			}
		}
		if res, _ := send(t, c, "GET", h.ts.URL+"/v1/me", "", nil); res.StatusCode != 401 {
			t.Fatalf("after a refused sign-in /v1/me answers %d", res.StatusCode)
		}
	}
	withState := func(u *url.URL, state string) string {
		v := u.Query()
		v.Set("state", state)
		c := *u
		c.RawQuery = v.Encode()
		return c.String()
	}

	t.Run("bad state", func(t *testing.T) {
		c := browserClient(t, false)
		back := startSignIn(t, h, c)
		refused(t, c, withState(back, "forged-state"), "did not start in this browser")
	})
	t.Run("callback in another browser", func(t *testing.T) {
		back := startSignIn(t, h, browserClient(t, false))
		refused(t, browserClient(t, false), back.String(), "did not start in this browser")
	})
	t.Run("bad nonce", func(t *testing.T) {
		p.setBadNonce(true)
		defer p.setBadNonce(false)
		c := browserClient(t, false)
		refused(t, c, startSignIn(t, h, c).String(), "not issued for this sign-in")
	})
	t.Run("replayed code", func(t *testing.T) {
		c := browserClient(t, false)
		back := startSignIn(t, h, c)
		if res, body := send(t, c, "GET", back.String(), "", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d %s", res.StatusCode, body)
		}
		// The same callback again (a stolen URL, the back button): its state is spent.
		thief := browserClient(t, false)
		refused(t, thief, back.String(), "did not start in this browser")
		// The spent code under a fresh sign-in's state: the provider takes a code once.
		next := startSignIn(t, h, thief)
		replay := *back
		v := replay.Query()
		v.Set("state", next.Query().Get("state"))
		replay.RawQuery = v.Encode()
		refused(t, thief, replay.String(), "did not accept the sign-in code")
	})
	t.Run("provider refused", func(t *testing.T) {
		c := browserClient(t, false)
		back := startSignIn(t, h, c)
		v := url.Values{"error": {"access_denied"}, "state": {back.Query().Get("state")}}
		refused(t, c, h.ts.URL+"/v1/web/callback?"+v.Encode(), "did not sign you in (access_denied)")
	})
	t.Run("escaped", func(t *testing.T) {
		c := browserClient(t, false)
		v := url.Values{"error": {"<script>alert(1)</script>"}}
		res, body := send(t, c, "GET", h.ts.URL+"/v1/web/callback?"+v.Encode(), "", nil)
		if res.StatusCode != 401 || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
			t.Fatalf("the provider's error is not escaped: %s", body)
		}
	})
}

// TestWebSessionExpires: a session ends after session_ttl, on the server's
// clock, whatever the cookie says.
func TestWebSessionExpires(t *testing.T) {
	t.Parallel()
	p := newOIDCProvider(t)
	clock := &fakeClock{now: time.Now()}
	h := ssoHarness(t, p, clock)
	c := browserClient(t, true)
	if res, body := send(t, c, "GET", h.ts.URL+"/v1/web/login", "", nil); res.StatusCode != 200 || !strings.Contains(body, "askmesh") {
		t.Fatalf("sign-in round trip: %d %s", res.StatusCode, body)
	}
	if res, body := send(t, c, "GET", h.ts.URL+"/v1/me", "", nil); res.StatusCode != 200 {
		t.Fatalf("signed in: %d %s", res.StatusCode, body)
	}
	clock.advance(2*time.Hour - time.Minute)
	if res, _ := send(t, c, "GET", h.ts.URL+"/v1/me", "", nil); res.StatusCode != 200 {
		t.Fatalf("a minute before expiry: %d", res.StatusCode)
	}
	clock.advance(2 * time.Minute)
	res, body := send(t, c, "GET", h.ts.URL+"/v1/me", "", nil)
	if res.StatusCode != 401 || !strings.Contains(body, "expired") {
		t.Fatalf("after expiry: %d %s", res.StatusCode, body)
	}
}
