// Package archive stores DICOM instances durably and indexes them.
//
// An instance is read from its source (C-STORE, STOW-RS, import) straight
// into the memory that holds it, hashed there (BLAKE3-256, its content
// digest: see below) and parsed from there by a structural parser that
// validates it and reads its header, skipping Pixel Data in place; one too
// large to hold (step 1 below) streams through the parser instead, as it
// is written to a temporary blob. Pixel Data is never decoded. Nothing is
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
//  1. The instance is received into memory (up to 16 MiB, and while all
//     instances being received stay within a budget; otherwise it streams
//     to a temporary blob — O_TMPFILE, no name — and takes the per-file
//     path below). Acknowledged bytes waiting for their blob
//     (step 4) are bounded (128 MiB; stores wait past it), so memory stays
//     flat.
//  2. Its index rows are decided in the committer's group transaction
//     (commit.go), with every store that arrived meanwhile from any
//     association, STOW-RS request or import worker: duplicates, the
//     facility's namespace and Source.Check are settled there.
//  3. Before that transaction commits, the group is appended to this
//     process's journal segment in writes of up to 2 MiB, directly to the
//     disk where the file system has direct I/O (below): a record per instance
//     holding what replaying its rows needs (group number, UIDs, digest,
//     source) and, for an instance the journal takes, its bytes. One
//     fdatasync(2) makes the whole group durable. The transaction then
//     commits without a flush of its own (SQLite synchronous=NORMAL,
//     PostgreSQL synchronous_commit off), and records the group number in
//     ingest_journal.
//  4. An instance under 16 KiB is published under its content address
//     (objects/blake3/ab/<digest>.dcm) by write and rename, without fsync,
//     in the background; Open serves it from memory until then, and the
//     blob store's read cache (internal/blob, files under 16 KiB) after.
//     A larger one is packed: its record stays where it was appended, as
//     its blob for good (Packs, below), so its bytes are written once and
//     no file is made for it. (Packed bytes are durable at step 3
//     already.) Packing from 16 KiB rather than 256 KiB took a 38 KB
//     instance's publish off the CPU (bench/README.md, session 10,
//     h/packsmall); below it a packed record's alignment would waste more
//     than a quarter, and reads would lose the cache.
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
// far, and only then is the segment checkpointed (its journal link
// removed, the pack trimmed to its packed blobs: below); a crash before
// that means a replay, which is idempotent and keeps every intact packed
// record. syncfs flushes the whole file system, which on a busy shared
// disk takes a while, but it runs off the acknowledgement path. A clean Close checkpoints and removes the journal,
// then its ingest_journal row; a row whose journal folder is gone (a crash
// between the two) is dropped when an Archive opens (pruneMarkers).
//
// # Packs: instances from 16 KiB in the journal's segments
//
// A segment is made in <blobs>/packs/<id>-<n>.pack and hard-linked as
// <blobs>/journal/<id>/<n>.wal (both folder entries durable before its
// first record). A packed record starts on a 4 KiB boundary and the next
// record on the boundary after its bytes; its index rows name the bytes
// by place, blob key "pack:<id>-<n>.pack@<offset>+<length>" (blob.PackKey),
// decided by the committer (journal.place) before the rows are written:
// it is the only appender, so nothing moves the segment's end meanwhile.
// Per instance that is one sequential write into a shared file (direct,
// see below) and
// a share of the group's fdatasync (up to 4 KiB of alignment besides), against the per-file path's file
// creation, writes, fsync, link and folder fsync (≈ 0.3–0.5 ms less CPU per
// instance, bench/README.md, session 10). Every consumer goes by key:
// reads (pread; sendfile from the pack's descriptor, the copy bounded by
// the blob's length, so WADO-RS stays zero-copy), check and check
// --rehash, the duplicate test (by digest, as before), the deletion queue
// (a pack blob is never published twice, so it is not retired: Delete
// punches a hole over its record with fallocate(PUNCH_HOLE)), and the
// orphan check, which walks the packs' records besides objects/. The same
// bytes stored again under a new row get a new place; a record whose rows
// never committed (a duplicate of a stored instance, a failed group) is
// an orphan until a checkpoint frees it or check --clean-orphans removes
// it. A checkpoint (or a recovery) punches out everything in a segment but
// the packed blobs its rows name, removes the journal's link, seals the
// pack (its sticky bit: no more appends) and removes it if nothing is
// kept; Delete removes a sealed pack it leaves empty. Nodes sharing the
// folder read and delete each other's packs by key through it (hole
// punching needs a file system that has it: ext4, XFS, NFS 4.2; elsewhere
// a deleted blob's space stays until its pack empties). Encrypted and S3
// stores keep the per-file path; a pack key has no meaning to them, so a
// move of a folder store to S3 must copy blobs by reading them (Open) and
// name them anew in the index.
//
// # Direct I/O: segments written past the page cache
//
// Where the file system has direct I/O (statx STATX_DIOALIGN at 4 KiB or
// finer, as on ext4 and XFS; where statx does not say, fcntl's taking
// O_DIRECT decides), a segment is switched to O_DIRECT when made (by
// fcntl: open(O_DIRECT) fails only after creating the file) and written
// at explicit offsets: each group begins on a 4 KiB boundary
// and is padded with zeros to the next, gathered into a reused, aligned
// 2 MiB buffer and pwritten 2 MiB at a time; then the same fdatasync as
// before makes it durable (the device's cache flush, the extents and the
// size), and nothing is acknowledged before it. Why: a buffered write
// copies every byte into the page cache, and on the bench VM, whose free
// memory goes back to its host (free page reporting), that copy was the
// largest single CPU item of a 526 KB instance's ingest (0.6 ms of 1.4–2
// ms, varying run to run with how fresh the host's pages were); the
// gathering copy into a warm buffer costs ≈ 0.07 ms instead (bench/README.md,
// session 11, h/direct). The layout on disk is the same as a buffered
// segment's, whose groups simply are not padded: records, keys and the
// scan (zeros where a record would begin are skipped, however few) do
// not change, so nothing needs migrating and either kind of segment is
// replayed, checkpointed, walked and rehashed alike. Readers are
// unchanged too: pread and sendfile of packed blobs go through the page
// cache, which the kernel keeps coherent with the direct writes (it drops
// cached pages of a range written directly), by this process and by
// nodes sharing the folder; the one difference is that a study read
// right after it arrived comes from the disk, not from pages the write
// left in memory. A direct write the file system refuses (EINVAL) is
// written again through the page cache, and the journal stays there; so
// does one on a file system without direct I/O (logged once at info).
// --ingest-direct-io=false (Options.NoDirectIO) writes through the page
// cache, for comparison and for file systems whose direct I/O misbehaves.
//
// A group's packed records are written while the group is indexed: their
// bytes do not depend on the index (a duplicate's are written too, and
// freed later), so the committer's SQLite or PostgreSQL work runs while
// the device writes, and the other records (journaled bytes, rows) follow
// once both are done, then the flush. When indexing fails nothing is
// appended: the packed bytes lie past the segment's end, where the next
// group writes over them (journal.Append).
//
// Object folders a process has made are remembered (blob.Dir), so a store
// into a known folder costs no stat or mkdir, and a durable commit into a
// folder the journal's unsynced publishing made flushes its entry first.
//
// Elsewhere the per-file path is kept: an encrypted store would put
// plaintext in the journal, and an S3 store uploads and confirms each
// object (PUT, HEAD) before the index commit. There, and for instances
// over 16 MiB, the blob is fsync'd, published (linked, or renamed where
// the file system has no O_TMPFILE), its folder fsync'd, then indexed
// through the same group commit: its rows ride in the journal's flush when
// its group holds instances the journal takes (its record has no bytes);
// otherwise the commit is flushed. Index commits from concurrent stores
// are always grouped into one transaction.
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
