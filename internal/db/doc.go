// Package db opens Lightbox's index database — SQLite (embedded default) or
// PostgreSQL (scale-out) — and runs the embedded, ordered migrations.
//
// One schema serves both dialects: SQL is written with ? placeholders and
// portable types; Rebind turns placeholders into $n for PostgreSQL, and DDL
// marks the few differences ({{pk}}, {{blob}}). SQLite gets one writer
// connection (BEGIN IMMEDIATE, synchronous=FULL so a commit survives power
// loss) and a separate read pool, in WAL mode. Every SQLite connection keeps
// the statements it has run prepared, keyed by their text (stmtcache.go), so
// callers pass SQL text and SQLite parses each statement once per
// connection; pgx does the same on PostgreSQL.
package db
