// Package bgloop starts and stops one background goroutine for a
// long-running component (the audit syslog forwarder, delivery workers):
// Start is a no-op while the loop runs, Stop cancels its context and waits
// for it, after which Start may run it again. Poll is the body most such
// loops share: a step at once, then every period or when woken. Batch is how a group-committing loop
// takes what queued while its last commit ran.
package bgloop
