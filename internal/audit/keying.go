package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Keying makes the chain evident against someone who can write the
// database but not read the node's secret: links are HMACs (so rows cannot
// be edited and the later hashes recomputed), and a signed head — the last
// seq (which is also the row count: seq has no gaps) and its hash — is kept
// in a file outside the database, so deleting the newest rows shows.
type Keying struct {
	Key      []byte // HMAC key; see DeriveKey
	HeadFile string // where the signed head is kept ("" = none)

	mu sync.Mutex
}

// DeriveKey derives the chain key from the node's secret, so the secret
// itself is never used for two purposes.
func DeriveKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lightbox audit chain key v2"))
	return m.Sum(nil)
}

// Head is the signed head of the chain.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	Sig  string `json:"sig"`
}

func (k *Keying) sign(seq int64, hash string) string {
	m := hmac.New(sha256.New, k.Key)
	m.Write([]byte("lightbox-audit-head-v1|" + strconv.FormatInt(seq, 10) + "|" + hash))
	return hex.EncodeToString(m.Sum(nil))
}

// ReadHead reads and checks the head file. ok is false when there is none.
func (k *Keying) ReadHead() (h Head, ok bool, err error) {
	b, err := os.ReadFile(k.HeadFile)
	if errors.Is(err, os.ErrNotExist) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("audit: read head: %w", err)
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, true, fmt.Errorf("audit: head file is not valid: %w", err)
	}
	if !hmac.Equal([]byte(h.Sig), []byte(k.sign(h.Seq, h.Hash))) {
		return h, true, errors.New("audit: head file signature does not verify")
	}
	return h, true, nil
}

// advance records (seq, hash) as the head unless the file already names a
// later one (another process appended meanwhile).
func (k *Keying) advance(seq int64, hash string) error {
	if k == nil || k.HeadFile == "" {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if cur, ok, err := k.ReadHead(); err == nil && ok && cur.Seq >= seq {
		return nil
	}
	b, _ := json.Marshal(Head{Seq: seq, Hash: hash, Sig: k.sign(seq, hash)})
	tmp, err := os.CreateTemp(filepath.Dir(k.HeadFile), ".audit-head-*")
	if err != nil {
		return fmt.Errorf("audit: write head: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("audit: write head: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("audit: write head: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("audit: write head: %w", err)
	}
	if err := os.Rename(tmp.Name(), k.HeadFile); err != nil {
		return fmt.Errorf("audit: write head: %w", err)
	}
	return nil
}

func (k *Keying) key() []byte {
	if k == nil {
		return nil
	}
	return k.Key
}
