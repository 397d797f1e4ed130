package report

import (
	"testing"

	"lightbox/internal/db"
)

// Lifecycle runs the signing lifecycle on a fresh fixture on d and returns
// its service, for the edge tests in package report_test. results is the
// ORU writer (hl7report.Outbox, which this package cannot import).
func Lifecycle(t *testing.T, d *db.DB, results ResultWriter) *Service {
	f := setup(t, d, results)
	lifecycle(t, f)
	return f.s
}

// Fixture is the lifecycle's starting point: studies, orders, readers.
func Fixture(t *testing.T, d *db.DB, results ResultWriter) *Service {
	return setup(t, d, results).s
}
