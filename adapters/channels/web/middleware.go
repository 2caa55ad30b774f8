package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/internal/httpguard"
)

// reqState is one request's bookkeeping, shared by the outer middleware
// (logs, metrics) and the route wrapper (route, subject) through a pointer
// in the context, since inner layers replace the *http.Request.
type reqState struct {
	id      string
	client  string // the client's own X-Request-Id, when valid: logged, never recorded as ours
	route   string
	subject *authz.Subject
	session *webSession // set when a web session cookie authenticated the request
}

type stateKey struct{}

func stateOf(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// RequestID returns the request id of a request the server is handling.
func RequestID(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.id
	}
	return ""
}

// ClientRequestID returns the id the client sent in X-Request-Id, if it
// was a valid one: recorded beside the request id, never as it.
func ClientRequestID(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.client
	}
	return ""
}

// serve is the outermost layer: request id, panic recovery, access log and
// HTTP metrics.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// The request id, which the audit records carry and feedback and review
	// select an answer's calls by, is always the server's: a client could
	// otherwise reuse another user's id and mix its calls with theirs. A
	// client's own id (bounded, validated) is kept beside it, in the access
	// log and echoed as X-Client-Request-Id, for the client's tracing.
	st := &reqState{id: uuid.NewString()}
	if c := r.Header.Get("X-Request-Id"); httpguard.ValidID(c) {
		st.client = c
		w.Header().Set("X-Client-Request-Id", c)
	}
	w.Header().Set("X-Request-Id", st.id)
	sw := &statusWriter{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.ErrorContext(r.Context(), "panic serving a request", "request_id", st.id, "panic", p, "stack", string(debug.Stack()))
			if !sw.wrote {
				writeError(sw, http.StatusInternalServerError, "internal", "internal error; quote request id "+st.id)
			}
		}
		route := st.route
		if route == "" {
			route = "other"
		}
		d := time.Since(start)
		s.metrics.request(route, r.Method, sw.status(), d)
		attrs := []slog.Attr{slog.String("request_id", st.id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", route), slog.Int("status", sw.status()), slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", d), slog.String("remote", r.RemoteAddr)}
		if st.subject != nil {
			attrs = append(attrs, slog.String("user", st.subject.ID))
		}
		if st.client != "" {
			attrs = append(attrs, slog.String("client_request_id", st.client))
		}
		level := slog.LevelInfo
		if sw.status() >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "http request", attrs...)
	}()
	securityHeaders(sw.Header())
	s.mux.ServeHTTP(sw, r)
}

func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
}

// Route flags.
const (
	public  = 0
	authed  = 1 << iota // bearer token required; rate limited per user
	rawBody             // the handler caps its own body (MCP)
	perIP               // unauthenticated work: limited per client address, small bodies
)

// handle registers a route wrapped with its name (for logs and metrics),
// authentication, the per-user rate limit and the body cap.
func (s *Server) handle(pattern string, flags int, h http.HandlerFunc) {
	route := pattern
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		route = pattern[i+1:]
	}
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r.Context())
		st.route = route
		if flags&authed != 0 {
			subj, sess, err := s.auth.authenticate(r.Context(), r)
			if err != nil {
				if s.auth.sso != nil && r.Header.Get("Authorization") == "" {
					http.SetCookie(w, cookie(sessionCookie, "", "/", -1, s.auth.sso.secure)) // a dead session's cookie
				}
				s.unauthorized(w, r, err)
				return
			}
			st.subject, st.session = &subj, sess
			// A cookie rides along on any request the browser makes, so a
			// session's state-changing requests must prove they come from
			// askmesh's own pages: same origin, and the session's CSRF token.
			if sess != nil && !safeMethod(r.Method) {
				if err := s.crossOrigin.Check(r); err != nil || !sess.checkCSRF(r) {
					s.metrics.authFailures.WithLabelValues("csrf").Inc()
					writeError(w, http.StatusForbidden, "csrf", "this request did not come from askmesh's own page (missing or wrong "+csrfHeader+"); reload the page")
					return
				}
			}
			if ok, wait := s.rate.allow(subj.ID); !ok {
				s.metrics.rateLimited.Inc()
				secs := int(math.Ceil(wait.Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
				writeError(w, http.StatusTooManyRequests, "rate_limited",
					fmt.Sprintf("too many requests from %s; retry in %d s", subj.ID, max(secs, 1)))
				return
			}
		}
		limit := s.lim.MaxBodyBytes
		if flags&perIP != 0 {
			if ok, wait := s.ipRate.Allow(r); !ok {
				s.metrics.rateLimited.Inc()
				secs := max(int(math.Ceil(wait.Seconds())), 1)
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many requests from this address; retry in %d s", secs))
				return
			}
			limit = s.lim.MaxPublicBodyBytes
		}
		if r.ContentLength > limit {
			tooLarge(w, limit)
			return
		}
		// The whole body is read here, within BodyTimeout, so no handler
		// ever waits on a client that sends it slowly.
		body, err := httpguard.ReadBody(w, r, limit, s.lim.BodyTimeout)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			tooLarge(w, limit)
			return
		case errors.Is(err, httpguard.ErrSlowBody):
			writeError(w, http.StatusRequestTimeout, "body_timeout", fmt.Sprintf("the request body did not arrive within %s", s.lim.BodyTimeout))
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, "invalid_request", "the request body could not be read")
			return
		}
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h(w, r)
	}))
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	var ae *authError
	if !errors.As(err, &ae) {
		ae = &authError{"invalid", "the bearer token could not be verified"}
		s.log.ErrorContext(r.Context(), "authentication failed", "err", err)
	}
	s.metrics.authFailures.WithLabelValues(ae.Reason).Inc()
	desc := strings.ReplaceAll(ae.Message, `"`, "'")
	if ae.Reason == "missing" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="askmesh"`)
	} else {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="askmesh", error="invalid_token", error_description=%q`, desc))
	}
	writeError(w, http.StatusUnauthorized, "unauthorized", ae.Message)
}

func tooLarge(w http.ResponseWriter, limit int64) {
	writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the request body is larger than %d bytes", limit))
}

// errorBody is every error's shape: {"error":{"code","message","type"}}.
// type repeats the class in OpenAI's vocabulary, so OpenAI clients show it.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Type    string `json:"type"`
	} `json:"error"`
}

func newError(status int, code, msg string) errorBody {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	switch {
	case status == http.StatusUnauthorized:
		b.Error.Type = "authentication_error"
	case status == http.StatusForbidden:
		b.Error.Type = "permission_error"
	case status == http.StatusNotFound:
		b.Error.Type = "not_found_error"
	case status == http.StatusTooManyRequests:
		b.Error.Type = "rate_limit_error"
	case status >= 500:
		b.Error.Type = "server_error"
	default:
		b.Error.Type = "invalid_request_error"
	}
	return b
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, newError(status, code, msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	// Encode writes what Marshal returns and a newline, here into a
	// pooled buffer: an answer's JSON is not allocated and copied again
	// for every response.
	buf := jsonBufs.Get().(*bytes.Buffer)
	defer putJSONBuf(buf)
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(buf).Encode(newError(status, "internal", "the response could not be encoded"))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putJSONBuf returns buf to the pool unless an unusually large response
// grew it (a pool keeps what it is given).
func putJSONBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 256<<10 {
		jsonBufs.Put(buf)
	}
}

// decodeJSON reads one JSON object into dst. strict rejects unknown fields
// (askmesh's own API); OpenAI clients send many fields askmesh ignores.
// It writes the error response itself and reports whether to go on.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, strict bool, limit int64) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
			return false
		}
	}
	dec := json.NewDecoder(r.Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("the body holds more than one JSON value")
	}
	if err == nil {
		return true
	}
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		tooLarge(w, limit)
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "invalid_request", "the request body is empty; send a JSON object")
	case errors.As(err, &syn):
		writeError(w, http.StatusBadRequest, "invalid_json", fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, err))
	case errors.As(err, &typ) && typ.Field == "":
		writeError(w, http.StatusBadRequest, "invalid_request", "the body must be a JSON object")
	case errors.As(err, &typ):
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type, typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		writeError(w, http.StatusBadRequest, "invalid_request", strings.TrimPrefix(err.Error(), "json: ")+"; see docs/api.md")
	default:
		writeError(w, http.StatusBadRequest, "invalid_json", "malformed JSON: "+err.Error())
	}
	return false
}

// statusWriter records the status and size, and passes Flush through for streams.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// rateLimiter keeps a token bucket per user: httpguard's keyed limiter,
// keyed by user id instead of address.
type rateLimiter struct{ keyed *httpguard.IPLimiter }

func newRateLimiter(perMinute float64, burst int) *rateLimiter {
	if perMinute < 0 {
		return nil
	}
	return &rateLimiter{keyed: httpguard.NewIPLimiter(perMinute, burst)}
}

// allow takes a token for the user, or says how long until one is free.
func (l *rateLimiter) allow(user string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	return l.keyed.AllowKey(user)
}
