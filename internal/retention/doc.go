// Package retention applies each facility's retention period: instances
// older than the facility's retention_years (by the study's date, or by
// when an instance was received when the study has no date) are deleted,
// unless their study or their patient is under a legal hold.
//
// A run is a dry run (what would go: counts and bytes per facility, the
// studies concerned) or a real one. A real run purges one study per
// transaction: it takes the retention lock, checks the holds again (a hold
// added meanwhile wins), deletes the index rows through internal/archive,
// queues their blobs in blob_delete and appends a "DICOM Study Deleted"
// audit event (DICOM PS3.15 A.5.3.8, event 110105) with who ran it and the
// counts, all in that one transaction. Blobs are deleted afterwards from
// the durable queue (archive.DeleteQueued), so a crash at any point leaves
// neither an index row without its bytes nor a forgotten blob. A queued
// blob is retired (moved aside) and purged only after a grace period,
// because the same bytes may be stored again meanwhile (keys are content
// hashes); a row naming it restores it. A legal hold
// can only be added while the lock is free, so a held study's rows are
// never purged.
//
// Every node runs the timer (Service.Timer); the row retention_timer makes
// each period run on exactly one node of a cluster (a conditional UPDATE
// moves next_run_at forward), and the blob queue's claims let any node
// finish what a dead one queued. Logs carry counts only, never patient or
// study identifiers.
package retention
