// Package event is Lightbox's durable internal event table: how a change
// in one module reaches the modules that must follow it without a window
// in which one has happened and the other never will.
//
// The module that makes a change writes an event row (Publish) in the same
// transaction as the change. A Bus hands every pending row to the handler
// registered for its kind, in order, at least once: right after the commit
// (Drain, called by the publisher), by its poll loop, and on every start,
// so a crash between the commit and the handler only delays the handler.
// Handlers are idempotent (a row may be handled again after a crash
// between the handler and the row being marked done). A failing handler is
// retried with backoff; the row keeps its last error. The pattern is the
// transactional outbox (the HL7 outbox, internal/outbox, does the same for
// messages to other systems).
package event
