// Package opt resolves unset options of long-running components to their
// defaults (a zero or negative duration, a nil logger) and reads list
// options.
package opt
