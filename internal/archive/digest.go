package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"strings"

	"github.com/zeebo/blake3"
)

// An instance's content digest names its blob, is its ETag and is checked
// by check --rehash and journal recovery. Instances are stored under
// BLAKE3-256, written "blake3:" + 64 hex digits: hashing was the largest
// CPU item a 526 KB instance's receive path could still shed (SHA-256 ≈
// 1 GB/s on this project's 2-core bench machine even with SHA-NI, BLAKE3
// 2–3 GB/s with AVX2; bench/README.md), and BLAKE3 is as collision
// resistant for a content address. A digest without a prefix is SHA-256:
// rows, blob keys and journal records written before keep theirs, and
// every reader of a digest goes through digestHash, so both are found.
const blake3Prefix = "blake3:"

// newContentHash starts the digest a new instance is stored under.
func newContentHash() hash.Hash { return blake3.New() }

// formatDigest writes a sum from newContentHash as a digest.
func formatDigest(sum []byte) string { return blake3Prefix + hex.EncodeToString(sum) }

// Digest is the content digest Lightbox stores bytes under (tools and
// tests compare it with what the archive reported).
func Digest(data []byte) string {
	sum := blake3.Sum256(data)
	return formatDigest(sum[:])
}

// digestHash returns the hash a recorded digest was made with and the hex
// of its sum.
func digestHash(digest string) (hash.Hash, string) {
	if h, ok := strings.CutPrefix(digest, blake3Prefix); ok {
		return blake3.New(), h
	}
	return sha256.New(), digest
}

// hasDigest reports whether r's bytes have digest (in its algorithm).
func hasDigest(r io.Reader, digest string) bool {
	h, want := digestHash(digest)
	if _, err := io.Copy(h, r); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == want
}

// BlobKey is where the bytes with this digest live. BLAKE3 keys sit under
// blake3/ (not two hex digits, so no folder is shared with a SHA-256 key)
// in 256 folders rather than SHA-256's 65,536: on a folder store a new
// folder per instance cost a mkdir and the fsync of its parent (≈ 0.35 and
// 0.2 ms of CPU per instance until most of the 65,536 existed, pprof of
// BenchmarkIngest), and ext4's hashed directories keep lookups flat in
// folders of millions of entries.
func BlobKey(digest string) string {
	if h, ok := strings.CutPrefix(digest, blake3Prefix); ok {
		return "blake3/" + h[:2] + "/" + h + ".dcm"
	}
	return digest[:2] + "/" + digest[2:4] + "/" + digest + ".dcm"
}

// sameContent reports whether a stored instance (oldDigest, under oldKey)
// has the bytes with newDigest. Digests in different algorithms (an
// instance stored before BLAKE3, sent again) are settled by hashing the
// stored blob in the new one; a blob that cannot be read counts as
// different, as a differing digest does.
func (a *Archive) sameContent(ctx context.Context, oldDigest, oldKey, newDigest string) bool {
	if oldDigest == newDigest {
		return true
	}
	if strings.HasPrefix(oldDigest, blake3Prefix) == strings.HasPrefix(newDigest, blake3Prefix) {
		return false
	}
	o, err := a.openBlob(ctx, oldKey)
	if err != nil {
		return false
	}
	defer o.Close()
	return hasDigest(o, newDigest)
}
