package deid

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"lightbox/internal/dcm"
)

// Instance is a de-identified Part 10 file's identity.
type Instance struct {
	StudyUID, SeriesUID, SOPUID, SOPClassUID string
	Result
}

// File reads a Part 10 file (src), de-identifies it and writes the new
// Part 10 file to w: new meta information (the remapped SOP Instance UID),
// the source transfer syntax kept unless it is big endian (the reader has
// already swapped those values to little endian, so Explicit VR Little
// Endian is written).
func File(src []byte, w io.Writer, m *Remapper, o Options) (Instance, error) {
	f, err := dcm.ReadFile(bytes.NewReader(src), dcm.ReadOptions{LoadBulk: true, MaxValueLength: 1 << 30})
	if err != nil {
		return Instance{}, fmt.Errorf("de-identify: %w", err)
	}
	if err := loadFragments(f.Dataset, src); err != nil {
		return Instance{}, err
	}
	res, err := Dataset(f.Dataset, m, o)
	if err != nil {
		return Instance{}, err
	}
	ts := f.TransferSyntax.UID
	if f.TransferSyntax.BigEndian {
		ts = dcm.ExplicitVRLittleEndian
	}
	ds := f.Dataset
	if err := dcm.WriteFile(w, ds, ts, ""); err != nil {
		return Instance{}, fmt.Errorf("de-identify: write: %w", err)
	}
	return Instance{StudyUID: ds.Str(0x0020000D), SeriesUID: ds.Str(0x0020000E), SOPUID: ds.Str(dcm.TagSOPInstanceUID), SOPClassUID: ds.Str(dcm.TagSOPClassUID), Result: res}, nil
}

// loadFragments fills encapsulated Pixel Data, which the reader locates in
// the source rather than loading, from src so it can be written again.
func loadFragments(ds *dcm.Dataset, src []byte) error {
	e := ds.Get(dcm.TagPixelData)
	if e == nil || e.Bulk == nil || e.Bulk.Length != -1 {
		return nil
	}
	bot := make([]byte, 4*len(e.Bulk.OffsetTable))
	for i, v := range e.Bulk.OffsetTable {
		binary.LittleEndian.PutUint32(bot[4*i:], v)
	}
	frags := [][]byte{bot}
	for _, f := range e.Bulk.Fragments {
		if f.Offset < 0 || f.Offset+f.Length > int64(len(src)) {
			return fmt.Errorf("de-identify: pixel data fragment outside the file")
		}
		frags = append(frags, src[f.Offset:f.Offset+f.Length])
	}
	e.Bulk, e.Encapsulated = nil, frags
	return nil
}
