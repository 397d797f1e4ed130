package archive

import (
	"context"
	"fmt"
)

// Held returns an instance only when Lightbox durably holds it: its index
// row is committed and its bytes are in the blob store at the indexed size.
// The Storage Commitment SCP (PS3.4 Annex J) reports nothing else as
// committed.
func (a *Archive) Held(ctx context.Context, sopUID string) (*InstanceRef, error) {
	ref, err := a.Instance(ctx, sopUID)
	if err != nil {
		return nil, err
	}
	obj, err := a.Open(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("instance %s: blob: %w", sopUID, err)
	}
	defer obj.Close()
	if n := obj.Size(); n != ref.Size {
		return nil, fmt.Errorf("instance %s: blob holds %d bytes, index says %d", sopUID, n, ref.Size)
	}
	return ref, nil
}

// HasStudy reports whether the index holds a study.
func (a *Archive) HasStudy(ctx context.Context, studyUID string) (bool, error) {
	var n int
	if err := a.db.QueryRow(ctx, "SELECT COUNT(*) FROM study WHERE study_uid = ?", studyUID).Scan(&n); err != nil {
		return false, fmt.Errorf("study %s: %w", studyUID, err)
	}
	return n > 0, nil
}
