package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/askmesh/askmesh/authz"
)

// oidcVerifier checks JWTs against the provider's JWKS (fetched and cached by
// go-oidc, refreshed when a token names a key it has not seen) and maps their
// claims to a subject.
type oidcVerifier struct {
	cfg      OIDCConfig
	dir      Directory
	verifier *oidc.IDTokenVerifier
}

func newOIDCVerifier(cfg OIDCConfig, dir Directory) (*oidcVerifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" || cfg.JWKSURL == "" {
		return nil, errors.New("auth oidc: issuer, audience and jwks_url are all required")
	}
	if cfg.IDClaim == "" {
		cfg.IDClaim = "email"
	}
	if cfg.Groups == "" {
		cfg.Groups = "groups"
	}
	if cfg.Name == "" {
		cfg.Name = "name"
	}
	if len(cfg.Algs) == 0 {
		cfg.Algs = []string{oidc.RS256, oidc.ES256}
	}
	switch cfg.Directory {
	case "":
		cfg.Directory = "merge"
	case "merge", "claims":
	default:
		return nil, fmt.Errorf("auth oidc: directory %q is not merge or claims", cfg.Directory)
	}
	// The key set lives as long as the process; its fetches get their own
	// deadline from the client.
	ctx := oidc.ClientContext(context.Background(), &http.Client{Timeout: 10 * time.Second})
	keys := oidc.NewRemoteKeySet(ctx, cfg.JWKSURL)
	v := oidc.NewVerifier(cfg.Issuer, keys, &oidc.Config{ClientID: cfg.Audience, SupportedSigningAlgs: cfg.Algs})
	return &oidcVerifier{cfg: cfg, dir: dir, verifier: v}, nil
}

func (o *oidcVerifier) verify(ctx context.Context, raw string) (authz.Subject, error) {
	tok, err := o.check(ctx, raw)
	if err != nil {
		return authz.Subject{}, err
	}
	claims, err := claimsOf(tok)
	if err != nil {
		return authz.Subject{}, err
	}
	return o.subject(claims)
}

// check verifies a token's signature, issuer, audience and expiry.
func (o *oidcVerifier) check(ctx context.Context, raw string) (*oidc.IDToken, error) {
	tok, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, &authError{"expired", fmt.Sprintf("the token expired at %s; sign in again", expired.Expiry.UTC().Format(time.RFC3339))}
		}
		return nil, &authError{"invalid", o.explain(raw)}
	}
	return tok, nil
}

func claimsOf(tok *oidc.IDToken) (map[string]any, error) {
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, &authError{"invalid", "the token's claims could not be read"}
	}
	return claims, nil
}

// subject maps verified claims to the person they name: the id claim, the
// configured groups claim (through GroupMap) merged with the directory's
// groups (or alone, in claims mode), and the mapped attributes. Bearer
// tokens and web sessions both go through it, so both see the same person.
func (o *oidcVerifier) subject(claims map[string]any) (authz.Subject, error) {
	id, _ := claims[o.cfg.IDClaim].(string)
	id = strings.TrimSpace(id)
	if id == "" {
		return authz.Subject{}, &authError{"invalid", fmt.Sprintf("the token has no %q claim to identify you", o.cfg.IDClaim)}
	}
	if o.cfg.IDClaim == "email" {
		// An email the provider has not verified identifies nobody.
		if v, ok := claims["email_verified"].(bool); ok && !v {
			return authz.Subject{}, &authError{"invalid", "the token's email is not verified"}
		}
		id = strings.ToLower(id)
	}
	groups := o.mapGroups(stringsClaim(claims[o.cfg.Groups]))
	subj := o.dir.Lookup(id)
	if !subj.Known || o.cfg.Directory == "claims" {
		name, _ := claims[o.cfg.Name].(string)
		// In claims mode the provider is the directory: a listed user
		// keeps the file's name, not its groups or attributes.
		subj = authz.Subject{ID: id, Name: cmpOr(subj.Name, name), Attributes: map[string]string{}, Known: subj.Known}
		if o.cfg.Directory == "claims" {
			subj.Known, subj.IdP = true, true
		}
	}
	subj.ID = id
	for _, g := range groups {
		if !slices.Contains(subj.Groups, g) {
			subj.Groups = append(subj.Groups, g)
		}
	}
	if subj.Groups == nil {
		subj.Groups = []string{}
	}
	for attr, claim := range o.cfg.Attributes {
		if v, ok := claims[claim].(string); ok && strings.TrimSpace(v) != "" {
			subj.Attributes[attr] = strings.TrimSpace(v)
		}
	}
	return subj, nil
}

// mapGroups translates the provider's groups through GroupMap; without a
// map they pass as they are.
func (o *oidcVerifier) mapGroups(groups []string) []string {
	if len(o.cfg.GroupMap) == 0 {
		return groups
	}
	var out []string
	for _, g := range groups {
		if m, ok := o.cfg.GroupMap[g]; ok && m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// explain says why a token failed verification, from its unverified
// claims: they are only read to word the error, never trusted.
func (o *oidcVerifier) explain(raw string) string {
	parts := strings.Split(raw, ".")
	var c struct {
		Iss string `json:"iss"`
		Aud any    `json:"aud"`
	}
	if len(parts) != 3 {
		return "the token is not a JWT"
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return "the token is not a well-formed JWT"
	}
	if c.Iss != o.cfg.Issuer {
		return fmt.Sprintf("the token's issuer %q is not the configured issuer", c.Iss)
	}
	if !slices.Contains(stringsClaim(c.Aud), o.cfg.Audience) {
		return fmt.Sprintf("the token's audience %v does not include %q", stringsClaim(c.Aud), o.cfg.Audience)
	}
	return "the token's signature does not verify against the provider's published keys"
}

// stringsClaim reads a claim that is a list of strings, or one string with
// names separated by spaces or commas (as some providers send scopes and roles).
func stringsClaim(v any) []string {
	switch t := v.(type) {
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case string:
		return strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == ',' })
	}
	return nil
}
