// Package opt resolves unset options of long-running components to their
// defaults: a zero or negative duration, a nil logger.
package opt
