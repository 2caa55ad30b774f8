package authz

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Static bearer tokens, as the HTTP API and product APIs accept them. The
// configuration holds a token's hash, never the token, so a leaked
// configuration file leaks no credentials.

// HashToken returns the form a static token is configured in: "sha256:<hex>".
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// NewToken returns a fresh random token (256 bits) to hand to a user or an
// application; configure HashToken(token), not the token.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return "askmesh_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// DemoToken is the token of a demo user in demo mode: "demo-" and the part
// of the id before "@" (demo-carol for carol@bank.example).
func DemoToken(userID string) string {
	return "demo-" + strings.ToLower(strings.SplitN(userID, "@", 2)[0])
}

// ParseTokenHashes reads configured static tokens ("sha256:<64 hex digits>"
// -> user id) into the lookup form: sha256(token) -> user id. Errors name
// the faulty entry (abbreviated: it might be a pasted token).
func ParseTokenHashes(tokens map[string]string) (map[[32]byte]string, error) {
	keys := make([]string, 0, len(tokens))
	for k := range tokens {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[[32]byte]string, len(tokens))
	for _, k := range keys {
		user := strings.TrimSpace(tokens[k])
		hexPart, ok := strings.CutPrefix(k, "sha256:")
		raw, err := hex.DecodeString(hexPart)
		if !ok || err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("auth tokens: %q is not \"sha256:<64 hex digits>\"; configure the token's hash (askmesh token hash), never the token itself", abbreviate(k))
		}
		if user == "" {
			return nil, fmt.Errorf("auth tokens: %s maps to no user id", abbreviate(k))
		}
		out[[32]byte(raw)] = user
	}
	return out, nil
}

func abbreviate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
