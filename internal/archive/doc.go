// Package archive stores DICOM instances durably and indexes them.
//
// An instance streams from its source (C-STORE, STOW-RS, import) through a
// structural parser that validates it and reads its header while the bytes
// are hashed (SHA-256); Pixel Data is never decoded. Nothing is
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
//     streams to a temporary blob and takes the per-file path below: the
//     journal writes every byte twice, which pays only where flushes, not
//     bytes or CPU, bound the rate; see bench/README.md).
//     Acknowledged bytes waiting for their blob (step 3) are bounded
//     (128 MiB; stores wait past it), so memory stays flat.
//  2. Its bytes are appended to this process's journal segment under
//     <blobs>/journal/<id>/, as one record: magic, length, SHA-256, bytes.
//     The appender waits until an fdatasync(2) covers its record; one
//     fdatasync covers every record appended meanwhile by any association,
//     STOW-RS request or import worker (group commit), and the journal is
//     written sequentially.
//  3. The bytes are published under their content address
//     (objects/ab/cd/<sha256>.dcm) by write and rename, without fsync.
//  4. The index rows are committed; concurrent stores share one transaction
//     (group commit, committer in archive.go), durable when it returns
//     (SQLite synchronous=FULL, PostgreSQL commit).
//  5. Only then does Store return success, and the edge acknowledge.
//
// Why this is still durable: when an instance is acknowledged, its bytes are
// on disk in the journal (step 2) and its index rows are committed (step 4),
// and the rows were committed only after the journal record was durable, so
// no crash can leave a row whose bytes are nowhere. What a crash can lose is
// the page-cache copy of step 3. So when an Archive opens (serve, import,
// check), it first replays the journal of every process that is gone (its
// flock is free): each intact record's blob is rewritten, fsync'd, if it is
// missing or its digest differs; a torn tail record fails its length or
// digest and is ignored (it was never acknowledged). A record whose rows
// never committed (a crash between steps 2 and 4, or a refused instance)
// leaves an unreferenced blob for the orphan sweep (orphans.go).
//
// A segment is sealed at 128 MiB. Once every record in it has been
// published, one syncfs(2) makes all those blobs and their folder entries
// durable, and only then is the segment deleted; a crash before the delete
// means a replay, which is idempotent. syncfs flushes the whole file system,
// which on a busy shared disk takes a while, but it runs off the
// acknowledgement path. A clean Close checkpoints and removes the journal.
//
// Object folders a process has made are remembered (blob.Dir), so a store
// into a known folder costs no stat or mkdir, and a durable commit into a
// folder the journal's unsynced publishing made flushes its entry first.
//
// Elsewhere the per-file path is kept: an encrypted store would put
// plaintext in the journal, and an S3 store uploads and confirms each
// object (PUT, HEAD) before the index commit. There, and for instances
// over 256 KiB, the blob is fsync'd, published by rename, its folder fsync'd,
// then indexed through the same group commit. Index commits from
// concurrent stores are always grouped into one transaction.
//
// StoreAsync lets one STOW-RS request read its next parts while earlier
// ones commit; only its wait's success acknowledges.
package archive
