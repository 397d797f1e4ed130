// Package archive stores DICOM instances durably and indexes them.
//
// An instance streams from its source (C-STORE, STOW-RS, import) through a
// structural parser that validates it and reads its header while the bytes
// are hashed (BLAKE3-256, its content digest: see below); Pixel Data is
// never decoded. Nothing is
// acknowledged before the instance's bytes and its index rows are durable.
// Each instance's DICOM JSON metadata and frame locations are computed at
// ingest so metadata and frame requests never reparse files.
//
// # The write path on a folder store: a group-committed journal
//
// Writing each instance as its own durable file costs an fsync of the file,
// one of its folder (more when the folder is new) and the index commit, all
// serialised per association: the disk's fsync rate, not its bandwidth,
// bounds ingest. On a plain folder store (blob.Dir, not encrypted) the
// archive instead keeps a write-ahead journal (journal.go):
//
//  1. The instance is received into memory (up to 256 KiB; a larger one
//     streams to a temporary blob — O_TMPFILE, no name — and takes the
//     per-file path below: the journal writes every byte twice, which pays
//     only where flushes, not bytes or CPU, bound the rate; see
//     bench/README.md). Acknowledged bytes waiting for their blob (step 4)
//     are bounded (128 MiB; stores wait past it), so memory stays flat.
//  2. Its index rows are decided in the committer's group transaction
//     (commit.go), with every store that arrived meanwhile from any
//     association, STOW-RS request or import worker: duplicates, the
//     facility's namespace and Source.Check are settled there.
//  3. Before that transaction commits, the group is appended to this
//     process's journal segment under <blobs>/journal/<id>/ with one writev:
//     a record per instance holding what replaying its rows needs (group
//     number, UIDs, digest, source) and, for an instance the journal takes,
//     its bytes. One fdatasync(2) makes the whole group durable. The
//     transaction then commits without a flush of its own (SQLite
//     synchronous=NORMAL, PostgreSQL synchronous_commit off), and records
//     the group number in ingest_journal.
//  4. The bytes are published under their content address
//     (objects/blake3/ab/<digest>.dcm) by write and rename, without fsync, in
//     the background; Open serves them from memory until then.
//  5. Store returns success, and the edge acknowledges.
//
// Why this is still durable: when an instance is acknowledged, its bytes
// and the inputs of its rows are on disk in the journal (step 3), and the
// rows could reach the disk only after them. What a crash can lose is the
// page-cache copy of step 4 and the unflushed index commits of step 3. So
// when an Archive opens (serve, import, check), it first replays the
// journal of every process that is gone (its flock is free): each intact
// record's blob is rewritten, fsync'd, if it is missing or its digest
// differs; then the rows of every group above the position ingest_journal
// kept for that journal are indexed again from their blobs, in order.
// Both databases keep commits in log order, so a lost group means every
// later change to the index was lost too: nothing deleted meanwhile comes
// back. A torn tail record fails its length or digest and is ignored (it
// was never acknowledged); a group whose transaction failed after its
// flush was answered with an error and is indexed on replay like any other.
//
// A segment is sealed at 128 MiB. Once every record in it has been
// published, one syncfs(2) makes all those blobs and their folder entries
// durable and one flushed commit (of ingest_journal) all index commits so
// far, and only then is the segment deleted; a crash before the delete
// means a replay, which is idempotent. syncfs flushes the whole file
// system, which on a busy shared disk takes a while, but it runs off the
// acknowledgement path. A clean Close checkpoints and removes the journal.
//
// Object folders a process has made are remembered (blob.Dir), so a store
// into a known folder costs no stat or mkdir, and a durable commit into a
// folder the journal's unsynced publishing made flushes its entry first.
//
// Elsewhere the per-file path is kept: an encrypted store would put
// plaintext in the journal, and an S3 store uploads and confirms each
// object (PUT, HEAD) before the index commit. There, and for instances
// over 256 KiB, the blob is fsync'd, published (linked, or renamed where
// the file system has no O_TMPFILE), its folder fsync'd, then indexed
// through the same group commit: its rows ride in the journal's flush when
// its group holds instances the journal takes (its record has no bytes);
// otherwise the commit is flushed. (A group of large instances alone is
// cheaper to flush in SQLite's log, rewritten in place, than in the
// journal, which grows: see commit.go.) Index commits from concurrent stores are always grouped into
// one transaction.
//
// # The content digest
//
// An instance's digest names its blob, is its ETag and is what check
// --rehash and journal recovery verify. It is BLAKE3-256, written
// "blake3:" + hex (digest.go), because hashing was the largest CPU item
// the receive path could still shed: SHA-256 ran at ≈ 1 GB/s on the bench
// machine even with SHA-NI, BLAKE3 at 2–3 GB/s (AVX2), ≈ 0.2 ms less per
// 526 KB instance (bench/README.md, run L). Its keys sit in 256 folders
// (objects/blake3/ab/), so a store no longer makes a folder per instance. Instances stored before keep their
// SHA-256 digest (bare hex) and key (objects/ab/cd/<sha256>.dcm); every
// check goes by the digest's own algorithm, and the same bytes sent again
// are recognised by hashing the stored blob in the new one. The index
// column keeps its name, sha256.
//
// StoreAsync lets one STOW-RS request (or the importer) read its next parts while earlier
// ones commit; only its wait's success acknowledges.
package archive
