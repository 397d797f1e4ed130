// Package blob stores instance files. A blob is written to a temporary object,
// made durable (fsync) and only then published under its final key, so a
// crash leaves at worst a temporary file, never a half-written object under a
// real key. Lightbox keys blobs by content (SHA-256), so publishing the same
// bytes twice is a no-op and an object never changes once published.
//
// The local-folder store keeps each process's temporary files in a folder
// guarded by an flock; at start, folders whose owner has died are removed,
// while those of a live process sharing the data folder are left alone.
// Its objects are read through bare descriptors (a syscall.Conn, so net
// can sendfile them); the bytes of small blobs are kept after a read, a
// bounded amount, since they never change (filecache.go). Large blobs the
// archive's journal appended are ranges of pack files, named by place
// (pack.go): read by pread and sendfile, deleted by punching a hole.
package blob
