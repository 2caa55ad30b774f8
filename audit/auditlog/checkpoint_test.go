package auditlog

import (
	"context"
	"crypto/ed25519"
	"github.com/askmesh/askmesh/audit"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testKeys(t *testing.T) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "checkpoint")
	if err := GenerateKeyFiles(out); err != nil {
		t.Fatal(err)
	}
	privPath, pubPath := out+".key", out+".pub"
	priv, err := LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Fatal("the public key file does not hold the private key's public half")
	}
	if fi, err := os.Stat(privPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if err := GenerateKeyFiles(out); err == nil {
		t.Error("GenerateKeyFiles overwrote an existing key pair")
	}
	if again, err := LoadPrivateKey(privPath); err != nil || !again.Equal(priv) {
		t.Errorf("the private key changed after a refused GenerateKeyFiles (%v)", err)
	}
	if _, err := LoadPrivateKey(pubPath); err == nil || !strings.Contains(err.Error(), `"PUBLIC KEY", want "PRIVATE KEY"`) {
		t.Errorf("loading a public key as private: %v", err)
	}
	return priv, pub
}

func TestCheckpoint(t *testing.T) {
	t.Parallel()
	priv, pub := testKeys(t)
	_, otherPub := testKeys(t)
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

	cases := []struct {
		name    string
		after   func(t *testing.T, h *harness, cp *Checkpoint) // what happens after the checkpoint
		pub     ed25519.PublicKey
		wantErr string // "" means VerifyCheckpoint must pass
	}{
		{name: "untouched", wantErr: ""},
		{name: "more records appended since", after: func(t *testing.T, h *harness, _ *Checkpoint) {
			appendAll(t, h.store, []audit.Record{sampleRecord(10), sampleRecord(11)})
		}},
		{name: "a record altered", after: func(t *testing.T, h *harness, _ *Checkpoint) {
			h.bypass(t, "UPDATE "+h.table+` SET "rows_returned" = 0 WHERE "seq" = 2`)
		}, wantErr: "the chain is broken at seq 2"},
		{name: "the checkpointed record rewritten", after: func(t *testing.T, h *harness, _ *Checkpoint) {
			h.bypass(t, "UPDATE "+h.table+` SET "hash" = '`+GenesisHash+`' WHERE "seq" = 4`)
		}, wantErr: "the record with seq 4 (id cp-4) now has hash " + GenesisHash},
		{name: "the tail deleted", after: func(t *testing.T, h *harness, _ *Checkpoint) {
			h.bypass(t, "DELETE FROM "+h.table+` WHERE "seq" >= 3`)
		}, wantErr: "the record with seq 4 is gone"},
		{name: "the checkpoint edited", after: func(t *testing.T, h *harness, cp *Checkpoint) {
			cp.Seq = 3
		}, wantErr: "the signature is not valid"},
		{name: "another key", pub: otherPub, wantErr: "signed by key " + KeyID(pub) + ", not by key " + KeyID(otherPub)},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					h := b.new(t)
					ctx := context.Background()
					if _, err := MakeCheckpoint(ctx, h.store, priv, now); err == nil || !strings.Contains(err.Error(), "empty") {
						t.Errorf("checkpoint of an empty log: %v", err)
					}
					var in []audit.Record
					for i := range 4 {
						r := sampleRecord(i)
						r.ID = "cp-" + string(rune('1'+i))
						in = append(in, r)
					}
					recs := appendAll(t, h.store, in)
					cp, err := MakeCheckpoint(ctx, h.store, priv, now)
					if err != nil {
						t.Fatal(err)
					}
					if cp.Seq != 4 || cp.Hash != recs[3].Hash || !cp.At.Equal(now) || cp.KeyID != KeyID(pub) {
						t.Fatalf("checkpoint %+v, want seq 4 hash %s", cp, recs[3].Hash)
					}
					if c.after != nil {
						c.after(t, h, &cp)
					}
					key := pub
					if c.pub != nil {
						key = c.pub
					}
					err = VerifyCheckpoint(ctx, h.store, cp, key)
					switch {
					case c.wantErr == "" && err != nil:
						t.Errorf("VerifyCheckpoint: %v", err)
					case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
						t.Errorf("VerifyCheckpoint: %v, want %q", err, c.wantErr)
					}
				})
			}
			t.Run("refuses to sign a broken chain", func(t *testing.T) {
				h := b.new(t)
				appendAll(t, h.store, []audit.Record{sampleRecord(1), sampleRecord(2)})
				h.bypass(t, "UPDATE "+h.table+` SET "reason" = 'x' WHERE "seq" = 1`)
				if _, err := MakeCheckpoint(context.Background(), h.store, priv, now); err == nil || !strings.Contains(err.Error(), "broken at seq 1") {
					t.Errorf("MakeCheckpoint of a broken chain: %v", err)
				}
			})
		})
	}
}

// The signed message is fixed text; a verifier in another language rebuilds it.
func TestCheckpointMessage(t *testing.T) {
	t.Parallel()
	cp := Checkpoint{Seq: 42, Hash: "abc", At: time.Date(2026, 11, 15, 13, 0, 0, 1500, time.FixedZone("CET", 3600)), KeyID: "k1"}
	want := "askmesh-audit-checkpoint/v1\nseq=42\nhash=abc\nat=2026-11-15T12:00:00.000001Z\nkey_id=k1\n"
	if got := string(cp.Message()); got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
}
