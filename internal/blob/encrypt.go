package blob

// Encryption at rest.
//
// Encrypted wraps any Store and encrypts each blob with AES-256-GCM in
// chunks of 64 KiB of plaintext, so blobs are written and read as streams
// and a read at any offset decrypts only the chunks it touches.
//
// Layout of a stored blob:
//
//	"LBXE" | version (1) | chunk size as a power of two (1) | key ID length (1) | key ID |
//	salt (32) | nonce prefix (8) | chunk 0 | chunk 1 | ... | last chunk
//
// Every chunk but the last holds exactly 64 KiB of plaintext; the last
// holds 0..64 KiB (an empty blob has one empty chunk). A chunk is the GCM
// ciphertext plus its 16-byte tag. Each blob has its own AES key,
// HKDF-SHA256(master key, salt, "lightbox blob v1"), so nonces never repeat
// across blobs; chunk i uses the nonce prefix || uint32(i) and is
// authenticated together with the header, its index and a last-chunk flag,
// so chunks cannot be altered, reordered, moved between blobs, dropped or
// the blob truncated without a read error. The last chunk is checked when
// the blob is opened, so Size (the plaintext size) is authenticated too.
//
// Key rotation: the Keyring holds every key by ID and names the Current
// one, used for new blobs. To rotate, generate a key (NewKey), add it under
// a new ID and make it current; blobs written under older keys stay
// readable as long as their key remains in the ring (the header names the
// key). Keep old keys until no blob uses them (KeyID tells which key a
// blob uses); a key can be dropped only after its blobs have been
// re-encrypted or purged. Losing a key loses its blobs: back keys up
// separately from the data.
//
// Blob keys (names) are unchanged: the archive keeps naming blobs by the
// SHA-256 of their plaintext.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	encMagic     = "LBXE"
	encVersion   = 1
	encShift     = 16 // 64 KiB plaintext chunks
	encSaltLen   = 32
	encPrefixLen = 8
	encTagLen    = 16
	encMaxKeyID  = 64
)

// Errors of encrypted blobs.
var (
	// ErrUnknownKey is returned when a blob was encrypted with a key that
	// is not in the keyring.
	ErrUnknownKey = errors.New("blob encrypted with a key that is not in the keyring")
	// ErrCorrupt is returned when a blob fails authentication: changed,
	// truncated, or not an encrypted blob.
	ErrCorrupt = errors.New("encrypted blob fails authentication (tampered, truncated or corrupt)")
)

// Keyring holds the keys of an Encrypted store.
type Keyring struct {
	// Current names the key new blobs are written with.
	Current string
	// Keys maps key IDs (1-64 of A-Z a-z 0-9 . _ -) to 32-byte keys.
	Keys map[string][]byte
	// AllowPlaintext lets Open return blobs stored before encryption was
	// turned on (no encryption header) as they are. Off, they are errors.
	AllowPlaintext bool
}

// Encrypted is a Store that encrypts blobs at rest in another Store.
type Encrypted struct {
	inner      Store
	current    string
	keys       map[string][]byte
	allowPlain bool
}

var _ Store = (*Encrypted)(nil)

// NewEncrypted wraps inner so blobs are encrypted with the keyring's
// current key and decrypted with whichever key their header names.
func NewEncrypted(inner Store, kr Keyring) (*Encrypted, error) {
	if inner == nil {
		return nil, errors.New("encrypted blob store: no inner store")
	}
	e := &Encrypted{inner: inner, current: kr.Current, keys: map[string][]byte{}, allowPlain: kr.AllowPlaintext}
	for id, k := range kr.Keys {
		if !validKeyID(id) {
			return nil, fmt.Errorf("encrypted blob store: invalid key ID %q (1-%d of A-Z a-z 0-9 . _ -)", id, encMaxKeyID)
		}
		if len(k) != 32 {
			return nil, fmt.Errorf("encrypted blob store: key %q has %d bytes, want 32", id, len(k))
		}
		e.keys[id] = bytes.Clone(k)
	}
	if _, ok := e.keys[kr.Current]; !ok {
		return nil, fmt.Errorf("encrypted blob store: current key %q is not in the keyring", kr.Current)
	}
	return e, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > encMaxKeyID {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewKey returns a fresh random 32-byte key.
func NewKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// ParseKey reads a key given as 64 hexadecimal digits (e.g. from an
// environment variable).
func ParseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != 32 {
		return nil, errors.New("key must be 64 hexadecimal digits (32 bytes)")
	}
	return k, nil
}

// LoadKey reads a key file holding either 32 raw bytes or 64 hexadecimal
// digits (surrounding white space allowed). Keep it readable by the
// service account only.
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	if len(b) == 32 {
		return b, nil
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	return k, nil
}

func blobAEAD(master, salt []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, master, salt, "lightbox blob v1", 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func chunkNonceAAD(header []byte, prefix []byte, i uint64, last bool) (nonce, aad []byte) {
	nonce = make([]byte, 12)
	copy(nonce, prefix)
	binary.BigEndian.PutUint32(nonce[encPrefixLen:], uint32(i))
	aad = make([]byte, len(header)+9)
	copy(aad, header)
	binary.BigEndian.PutUint64(aad[len(header):], i)
	if last {
		aad[len(aad)-1] = 1
	}
	return nonce, aad
}

// Create starts an encrypted blob.
func (e *Encrypted) Create(ctx context.Context) (Writer, error) {
	id := e.current
	h := make([]byte, 0, 7+len(id)+encSaltLen+encPrefixLen)
	h = append(h, encMagic...)
	h = append(h, encVersion, encShift, byte(len(id)))
	h = append(h, id...)
	rnd := make([]byte, encSaltLen+encPrefixLen)
	_, _ = rand.Read(rnd)
	h = append(h, rnd...)
	aead, err := blobAEAD(e.keys[id], rnd[:encSaltLen])
	if err != nil {
		return nil, err
	}
	w, err := e.inner.Create(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(h); err != nil {
		_ = w.Abort()
		return nil, err
	}
	return &encWriter{inner: w, aead: aead, header: h, prefix: rnd[encSaltLen:], buf: make([]byte, 0, 1<<encShift)}, nil
}

type encWriter struct {
	inner  Writer
	aead   cipher.AEAD
	header []byte
	prefix []byte
	buf    []byte
	out    []byte
	n      uint64 // chunks written
	err    error
}

func (w *encWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	total := len(p)
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) { // full and more follows: not the last chunk
			if err := w.flush(false); err != nil {
				return total - len(p), err
			}
		}
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
	}
	return total, nil
}

func (w *encWriter) flush(last bool) error {
	if w.n > 0xFFFFFFFF {
		w.err = errors.New("encrypted blob too large")
		return w.err
	}
	nonce, aad := chunkNonceAAD(w.header, w.prefix, w.n, last)
	w.out = w.aead.Seal(w.out[:0], nonce, w.buf, aad)
	if _, err := w.inner.Write(w.out); err != nil {
		w.err = err
		return err
	}
	w.n++
	w.buf = w.buf[:0]
	return nil
}

func (w *encWriter) Commit(ctx context.Context, key string) error {
	if w.err != nil {
		return w.err
	}
	if err := w.flush(true); err != nil {
		return err
	}
	w.err = errors.New("encrypted blob already committed")
	return w.inner.Commit(ctx, key)
}

func (w *encWriter) Abort() error { return w.inner.Abort() }

// Open opens a blob, checking its header and last chunk.
func (e *Encrypted) Open(ctx context.Context, key string) (Object, error) {
	o, err := e.inner.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	obj, err := e.open(o, key)
	if err != nil {
		o.Close()
		return nil, err
	}
	return obj, nil
}

func readHeader(o Object, key string) (id string, header []byte, plain bool, err error) {
	fixed := make([]byte, 7)
	if n, err := o.ReadAt(fixed, 0); n < len(fixed) {
		if err == nil || errors.Is(err, io.EOF) {
			return "", nil, true, nil // too short to be encrypted
		}
		return "", nil, false, fmt.Errorf("open blob %s: %w", key, err)
	}
	if string(fixed[:4]) != encMagic {
		return "", nil, true, nil
	}
	if fixed[4] != encVersion || fixed[5] != encShift {
		return "", nil, false, fmt.Errorf("open blob %s: unsupported encryption version %d/%d", key, fixed[4], fixed[5])
	}
	header = make([]byte, 7+int(fixed[6])+encSaltLen+encPrefixLen)
	if n, err := o.ReadAt(header, 0); n < len(header) {
		return "", nil, false, fmt.Errorf("open blob %s: %w: short header (%v)", key, ErrCorrupt, err)
	}
	return string(header[7 : 7+int(fixed[6])]), header, false, nil
}

func (e *Encrypted) open(o Object, key string) (Object, error) {
	id, header, plain, err := readHeader(o, key)
	if err != nil {
		return nil, err
	}
	if plain {
		if !e.allowPlain {
			return nil, fmt.Errorf("open blob %s: %w: no encryption header", key, ErrCorrupt)
		}
		if _, err := o.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return o, nil
	}
	master, ok := e.keys[id]
	if !ok {
		return nil, fmt.Errorf("open blob %s: key %q: %w", key, id, ErrUnknownKey)
	}
	salt := header[len(header)-encSaltLen-encPrefixLen : len(header)-encPrefixLen]
	aead, err := blobAEAD(master, salt)
	if err != nil {
		return nil, err
	}
	const chunk = 1 << encShift
	const encChunk = chunk + encTagLen
	hlen := int64(len(header))
	body := o.Size() - hlen
	if body < encTagLen {
		return nil, fmt.Errorf("open blob %s: %w", key, ErrCorrupt)
	}
	nchunks := (body + encChunk - 1) / encChunk
	lastEnc := body - (nchunks-1)*encChunk
	if lastEnc < encTagLen || nchunks > 1<<32 {
		return nil, fmt.Errorf("open blob %s: %w", key, ErrCorrupt)
	}
	obj := &encObject{inner: o, key: key, aead: aead, header: header, prefix: header[len(header)-encPrefixLen:],
		hlen: hlen, nchunks: nchunks, lastEnc: lastEnc, cursor: cursor{size: body - nchunks*encTagLen}, cached: -1}
	if _, err := obj.chunk(nchunks - 1); err != nil {
		return nil, err
	}
	return obj, nil
}

// KeyID returns the ID of the key a blob is encrypted with ("" for a
// plaintext blob), e.g. to find blobs still under a retired key.
func (e *Encrypted) KeyID(ctx context.Context, key string) (string, error) {
	o, err := e.inner.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer o.Close()
	id, _, _, err := readHeader(o, key)
	return id, err
}

// Exists reports whether key is published.
func (e *Encrypted) Exists(ctx context.Context, key string) (bool, error) {
	return e.inner.Exists(ctx, key)
}

// Delete removes a published blob.
func (e *Encrypted) Delete(ctx context.Context, key string) error { return e.inner.Delete(ctx, key) }

// Close closes the inner store.
func (e *Encrypted) Close() error { return e.inner.Close() }

// Walk implements Lister when the inner store does.
func (e *Encrypted) Walk(ctx context.Context, fn func(key string, published time.Time) error) error {
	l, ok := e.inner.(Lister)
	if !ok {
		return errors.New("blob store cannot list its objects")
	}
	return l.Walk(ctx, fn)
}

// encObject decrypts on demand; it caches the last chunk it decrypted, so
// sequential reads decrypt each chunk once. ReadAt is safe for concurrent
// use; Read and Seek, as usual, are not.
type encObject struct {
	inner   Object
	key     string
	aead    cipher.AEAD
	header  []byte
	prefix  []byte
	hlen    int64
	nchunks int64
	lastEnc int64
	cursor

	mu     sync.Mutex
	cached int64
	plain  []byte
}

func (o *encObject) chunk(i int64) ([]byte, error) {
	o.mu.Lock()
	if o.cached == i {
		p := o.plain
		o.mu.Unlock()
		return p, nil
	}
	o.mu.Unlock()
	const encChunk = 1<<encShift + encTagLen
	last := i == o.nchunks-1
	n := int64(encChunk)
	if last {
		n = o.lastEnc
	}
	ct := make([]byte, n)
	if m, err := o.inner.ReadAt(ct, o.hlen+i*encChunk); int64(m) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = ErrCorrupt
		}
		return nil, fmt.Errorf("read blob %s: %w", o.key, err)
	}
	nonce, aad := chunkNonceAAD(o.header, o.prefix, uint64(i), last)
	p, err := o.aead.Open(ct[:0], nonce, ct, aad)
	if err != nil {
		return nil, fmt.Errorf("read blob %s chunk %d: %w", o.key, i, ErrCorrupt)
	}
	o.mu.Lock()
	o.cached, o.plain = i, p
	o.mu.Unlock()
	return p, nil
}

func (o *encObject) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("read blob: negative offset")
	}
	n := 0
	for n < len(p) {
		if off >= o.size {
			return n, io.EOF
		}
		i := off >> encShift
		c, err := o.chunk(i)
		if err != nil {
			return n, err
		}
		k := copy(p[n:], c[off-i<<encShift:])
		n += k
		off += int64(k)
	}
	return n, nil
}

func (o *encObject) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if o.pos >= o.size {
		return 0, io.EOF
	}
	// One chunk at most per call keeps reads short and simple.
	i := o.pos >> encShift
	c, err := o.chunk(i)
	if err != nil {
		return 0, err
	}
	k := copy(p, c[o.pos-i<<encShift:])
	o.pos += int64(k)
	return k, nil
}

// cursor is the Read/Seek position of an object that reads by offset.
type cursor struct{ pos, size int64 }

func (c *cursor) Size() int64 { return c.size }

// Seek is io.Seeker arithmetic over the object's size.
func (c *cursor) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += c.pos
	case io.SeekEnd:
		offset += c.size
	default:
		return 0, errors.New("seek blob: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek blob: negative position")
	}
	c.pos = offset
	return offset, nil
}

func (o *encObject) Close() error { return o.inner.Close() }
