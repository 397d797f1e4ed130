package report

import (
	"testing"

	"lightbox/internal/db"
)

// Lifecycle runs the signing lifecycle on a fresh fixture on d and returns
// its service, for the edge tests in package report_test.
func Lifecycle(t *testing.T, d *db.DB) *Service {
	f := setup(t, d)
	lifecycle(t, f)
	return f.s
}

// Fixture is the lifecycle's starting point: studies, orders, readers.
func Fixture(t *testing.T, d *db.DB) *Service { return setup(t, d).s }
