package auditlog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/askmesh/askmesh/audit"
	"os"
	"strconv"
	"time"
)

// Checkpoint is a signed statement that the chain's record Seq had hash
// Hash at time At. Kept outside the database (a ticket, an email, a WORM
// bucket), it catches what the chain alone cannot: an owner who rewrites
// the chain from some record onwards, or deletes its tail.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"` // base64 (standard) Ed25519 signature of Message()
}

// Message is the exact byte string a checkpoint's signature covers:
//
//	askmesh-audit-checkpoint/v1
//	seq=<seq>
//	hash=<hash>
//	at=<at in TimeLayout>
//	key_id=<key id>
//
// each line ending in "\n".
func (cp Checkpoint) Message() []byte {
	b := []byte("askmesh-audit-checkpoint/v1\n")
	b = append(b, "seq="...)
	b = strconv.AppendInt(b, cp.Seq, 10)
	b = append(b, "\nhash="...)
	b = append(b, cp.Hash...)
	b = append(b, "\nat="...)
	b = append(b, cp.At.UTC().Truncate(time.Microsecond).Format(TimeLayout)...)
	b = append(b, "\nkey_id="...)
	b = append(b, cp.KeyID...)
	return append(b, '\n')
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// MakeCheckpoint verifies the whole chain and signs its head. It refuses to
// sign a broken or empty chain.
func MakeCheckpoint(ctx context.Context, store audit.Store, priv ed25519.PrivateKey, now time.Time) (Checkpoint, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return Checkpoint{}, errors.New("audit: checkpoint: not an Ed25519 private key")
	}
	res, err := store.Verify(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: %w", err)
	}
	if !res.OK {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: the chain is broken at seq %d (id %s): %s", res.BrokenSeq, res.BrokenID, res.Problem)
	}
	if res.HeadSeq == 0 {
		return Checkpoint{}, errors.New("audit: checkpoint: the log is empty")
	}
	cp := Checkpoint{
		Seq:   res.HeadSeq,
		Hash:  res.Head,
		At:    now.UTC().Truncate(time.Microsecond),
		KeyID: KeyID(priv.Public().(ed25519.PublicKey)),
	}
	cp.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, cp.Message()))
	return cp, nil
}

// VerifyCheckpoint checks that cp was signed by pub, that the record at
// cp.Seq still has cp.Hash, and that the chain up to it verifies.
func VerifyCheckpoint(ctx context.Context, store audit.Store, cp Checkpoint, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return errors.New("audit: checkpoint: not an Ed25519 public key")
	}
	if id := KeyID(pub); cp.KeyID != id {
		return fmt.Errorf("audit: checkpoint: signed by key %s, not by key %s", cp.KeyID, id)
	}
	sig, err := base64.StdEncoding.DecodeString(cp.Signature)
	if err != nil || !ed25519.Verify(pub, cp.Message(), sig) {
		return errors.New("audit: checkpoint: the signature is not valid: the checkpoint was altered or not signed by this key")
	}
	if cp.Seq <= 0 {
		return fmt.Errorf("audit: checkpoint: seq %d is not a record", cp.Seq)
	}
	recs, err := store.Search(ctx, audit.Query{AfterSeq: cp.Seq - 1, Limit: 1})
	if err != nil {
		return fmt.Errorf("audit: checkpoint: %w", err)
	}
	if len(recs) == 0 || recs[0].Seq != cp.Seq {
		return fmt.Errorf("audit: checkpoint: the record with seq %d is gone: the log was truncated or records were deleted", cp.Seq)
	}
	if recs[0].Hash != cp.Hash {
		return fmt.Errorf("audit: checkpoint: the record with seq %d (id %s) now has hash %s, not the checkpointed %s: the chain was rewritten",
			cp.Seq, recs[0].ID, recs[0].Hash, cp.Hash)
	}
	// Our stores walk only as far as the checkpoint; another Store is
	// verified whole and judged on its prefix.
	var res audit.VerifyResult
	if pv, ok := store.(interface {
		verifyUpTo(context.Context, int64) (audit.VerifyResult, error)
	}); ok {
		res, err = pv.verifyUpTo(ctx, cp.Seq)
	} else {
		res, err = store.Verify(ctx)
	}
	if err != nil {
		return fmt.Errorf("audit: checkpoint: %w", err)
	}
	if !res.OK && res.BrokenSeq <= cp.Seq {
		return fmt.Errorf("audit: checkpoint: the chain is broken at seq %d (id %s): %s", res.BrokenSeq, res.BrokenID, res.Problem)
	}
	return nil
}

// GenerateKeyFiles creates an Ed25519 key pair for signing checkpoints and
// writes out+".key" (the private key, PKCS #8 PEM, mode 0600) and
// out+".pub" (the public key, PKIX PEM, mode 0644). It never overwrites an
// existing file.
func GenerateKeyFiles(out string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("audit: generate key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("audit: generate key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("audit: generate key: %w", err)
	}
	privPath, pubPath := out+".key", out+".pub"
	if _, err := os.Lstat(pubPath); err == nil {
		return fmt.Errorf("audit: write key: %s already exists", pubPath)
	}
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		_ = os.Remove(privPath) // no private key without its public half
		return err
	}
	return nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("audit: write key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("audit: write key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("audit: write key %s: %w", path, err)
	}
	return nil
}

func readPEM(path, wantType string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if block.Type != wantType {
		return nil, fmt.Errorf("%s: PEM block is %q, want %q", path, block.Type, wantType)
	}
	return block.Bytes, nil
}

// LoadPrivateKey reads an Ed25519 private key from a PKCS #8 PEM file.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("audit: load private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("audit: load private key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit: load private key %s: %T is not an Ed25519 key", path, k)
	}
	return priv, nil
}

// LoadPublicKey reads an Ed25519 public key from a PKIX PEM file.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, fmt.Errorf("audit: load public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("audit: load public key %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("audit: load public key %s: %T is not an Ed25519 key", path, k)
	}
	return pub, nil
}
