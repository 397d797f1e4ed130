package archivetest

import (
	"testing"

	"lightbox/internal/archive"
	"lightbox/internal/blob"
	"lightbox/internal/db"
)

// New opens an archive over d with its blobs in a temp folder; both are
// closed when the test ends.
func New(t testing.TB, d *db.DB) *archive.Archive {
	t.Helper()
	b, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := archive.New(d, b, archive.Options{})
	t.Cleanup(func() { a.Close(); b.Close() })
	return a
}
