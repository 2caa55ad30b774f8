package productapi

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is the iss claim of the tokens askmesh signs for the people it asks for.
const Issuer = "askmesh"

// DefaultTokenTTL is how long a per-call token lives: long enough for one
// request and its retries, short enough to be useless if it leaks.
const DefaultTokenTTL = 2 * time.Minute

// Claims are what a product API learns from an askmesh token: who asks
// (Subject) and, for its own audit log, where the question came from.
type Claims struct {
	jwt.Claims
	Channel        string `json:"chn,omitempty"`
	RequestID      string `json:"rid,omitempty"`
	ConversationID string `json:"cid,omitempty"`
}

// Signer signs short-lived EdDSA JWTs on behalf of an asker, one per call,
// with the audience set to the product called, so a token for one product
// is refused by every other.
type Signer struct {
	signer jose.Signer
	ttl    time.Duration
	now    func() time.Time
}

// NewSigner returns a signer with key; ttl <= 0 means DefaultTokenTTL.
func NewSigner(key ed25519.PrivateKey, ttl time.Duration) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("productapi: the signing key must be an Ed25519 private key")
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("productapi: signer: %w", err)
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	return &Signer{signer: s, ttl: ttl, now: time.Now}, nil
}

// Sign returns a token for subject calling the product audience.
func (s *Signer) Sign(subject, audience string, extra Claims) (string, error) {
	if subject == "" || audience == "" {
		return "", errors.New("productapi: a token needs a subject and an audience")
	}
	now := s.now()
	c := extra
	c.Claims = jwt.Claims{Issuer: Issuer, Subject: subject, Audience: jwt.Audience{audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
		Expiry: jwt.NewNumericDate(now.Add(s.ttl)), ID: rand.Text()}
	tok, err := jwt.Signed(s.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("productapi: sign token: %w", err)
	}
	return tok, nil
}

// Verifier checks askmesh tokens: signature (EdDSA only), issuer, audience
// and expiry, with a small leeway for clock skew between hosts.
type Verifier struct {
	keys   []ed25519.PublicKey
	leeway time.Duration
	now    func() time.Time
}

// NewVerifier accepts tokens signed by any of keys (several during a key rotation).
func NewVerifier(keys ...ed25519.PublicKey) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("productapi: a verifier needs at least one public key")
	}
	for _, k := range keys {
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("productapi: verification keys must be Ed25519 public keys")
		}
	}
	return &Verifier{keys: keys, leeway: 30 * time.Second, now: time.Now}, nil
}

// Verify checks token for audience and returns its claims.
func (v *Verifier) Verify(token, audience string) (*Claims, error) {
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, fmt.Errorf("not a signed JWT: %w", err)
	}
	var lastErr error
	for _, k := range v.keys {
		var c Claims
		if err := parsed.Claims(k, &c); err != nil {
			lastErr = err
			continue
		}
		if err := c.ValidateWithLeeway(jwt.Expected{Issuer: Issuer, AnyAudience: jwt.Audience{audience}, Time: v.now()}, v.leeway); err != nil {
			return nil, err
		}
		if c.Expiry == nil {
			return nil, errors.New("the token has no expiry")
		}
		if c.Subject == "" {
			return nil, errors.New("the token names no subject")
		}
		return &c, nil
	}
	return nil, fmt.Errorf("signature: %w", lastErr)
}

// KeyFromSeed decodes a base64 (standard or URL, padded or not) 32-byte
// Ed25519 seed, the form ASKMESH_MESH_KEY holds.
func KeyFromSeed(s string) (ed25519.PrivateKey, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == ed25519.SeedSize {
			return ed25519.NewKeyFromSeed(b), nil
		}
	}
	return nil, errors.New("the mesh key must be a base64-encoded 32-byte Ed25519 seed")
}

// PublicKeyFromText decodes a base64 32-byte Ed25519 public key.
func PublicKeyFromText(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == ed25519.PublicKeySize {
			return ed25519.PublicKey(b), nil
		}
	}
	return nil, errors.New("the mesh public key must be a base64-encoded 32-byte Ed25519 public key")
}
