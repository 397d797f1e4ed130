package dicomweb

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"lightbox/internal/archive"
	"lightbox/internal/blob"
	"lightbox/internal/dcm"
	"lightbox/internal/dcm/codec"
)

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// loaded is a stored instance parsed with every bulk value it needs in memory.
type loaded struct {
	file *dcm.File
	// src holds the bytes bulk offsets point into: the blob, or the
	// inflated data set of a deflated instance.
	src io.ReaderAt
}

// errEncapsulated means a value is compressed pixel data and cannot be
// re-encoded here.
var errEncapsulated = errors.New("encapsulated pixel data cannot be transcoded")

// load parses one stored instance. Bulk values stay where they are (see
// fill); a deflated data set is inflated into memory (one instance).
func load(obj blob.Object) (*loaded, error) {
	f, err := dcm.ReadFile(io.NewSectionReader(obj, 0, obj.Size()), dcm.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("parse stored instance: %w", err)
	}
	l := &loaded{file: f, src: obj}
	if f.TransferSyntax.Deflated {
		data, err := io.ReadAll(flate.NewReader(io.NewSectionReader(obj, f.DatasetOffset, obj.Size()-f.DatasetOffset)))
		if err != nil {
			return nil, fmt.Errorf("inflate stored instance: %w", err)
		}
		ds, err := dcm.ReadDataset(bytes.NewReader(data), dcm.ExplicitVRLittleEndian, dcm.ReadOptions{})
		if err != nil {
			return nil, fmt.Errorf("parse inflated instance: %w", err)
		}
		f.Dataset = ds
		l.src = bytes.NewReader(data)
	}
	return l, nil
}

// value reads a bulk value.
func (l *loaded) value(e *dcm.Element) ([]byte, error) {
	if e.Value != nil || e.Bulk == nil {
		return e.Value, nil
	}
	if e.Bulk.Length < 0 {
		return nil, errEncapsulated
	}
	if e.Bulk.Offset < 0 {
		return nil, fmt.Errorf("element %s: no stable offset", e.Tag)
	}
	v := make([]byte, e.Bulk.Length)
	if _, err := l.src.ReadAt(v, e.Bulk.Offset); err != nil {
		return nil, fmt.Errorf("element %s: %w", e.Tag, err)
	}
	return v, nil
}

// fill loads every bulk value of ds (recursively) into memory, little
// endian.
func (l *loaded) fill(ds *dcm.Dataset) error {
	for _, e := range ds.Elements {
		for _, it := range e.Items {
			if err := l.fill(it); err != nil {
				return err
			}
		}
		if e.Bulk != nil && e.Value == nil {
			v, err := l.value(e)
			if err != nil {
				return err
			}
			if l.file.TransferSyntax.BigEndian {
				dcm.SwapToLittle(e.VR, v)
			}
			e.Value, e.Bulk = v, nil
		}
	}
	return nil
}

// decodePixels replaces compressed or big endian Pixel Data with native
// little endian frames, decoded frame by frame from their located ranges.
func (l *loaded) decodePixels(frames []archive.Frame) error {
	ds := l.file.Dataset
	px := ds.Get(dcm.TagPixelData)
	ts := l.file.TransferSyntax
	if px == nil || px.Bulk == nil || !(ts.Encapsulated || ts.BigEndian) {
		return nil
	}
	if frames == nil {
		if ts.Encapsulated {
			return fmt.Errorf("%w: its frames cannot be told apart", errEncapsulated)
		}
		return nil // unaligned (1-bit) native data: swapped by fill
	}
	info := codec.InfoOf(ds)
	var out []byte
	photometric := info.Photometric
	for i, fr := range frames {
		var src []byte
		for _, rg := range fr {
			b := make([]byte, rg[1])
			if _, err := l.src.ReadAt(b, rg[0]); err != nil {
				return fmt.Errorf("frame %d: %w", i+1, err)
			}
			src = append(src, b...)
		}
		f, err := codec.Decode(ts.UID, src, info)
		if err != nil {
			return fmt.Errorf("frame %d: %w", i+1, err)
		}
		out = append(out, f.Data...)
		photometric = f.Photometric
	}
	px.Bulk, px.Value, px.VR = nil, out, "OB"
	if info.BitsAllocated > 8 {
		px.VR = "OW"
	}
	if photometric != info.Photometric {
		ds.SetStr(tagPhotometricInterpretation, photometric)
	}
	return nil
}

const tagPhotometricInterpretation dcm.Tag = 0x00280004

// transcodable reports whether an instance stored in syntax from can be
// sent in the native little endian syntax to.
func transcodable(from, to string) bool {
	if !nativeLE(to) {
		return false
	}
	return nativeLE(from) || codec.CanDecode(from)
}

// transcode re-encodes a stored instance in a native little endian
// transfer syntax, decoding compressed or big endian pixel data (frames
// locates them). It holds one instance in memory.
func transcode(w io.Writer, obj blob.Object, frames []archive.Frame, ts string) error {
	l, err := load(obj)
	if err != nil {
		return err
	}
	ds := l.file.Dataset
	if err := l.decodePixels(frames); err != nil {
		return fmt.Errorf("transcode: %w", err)
	}
	if err := l.fill(ds); err != nil {
		return err
	}
	if l.file.TransferSyntax.Implicit {
		// Implicit VR takes the dictionary's first VR; Pixel Data's depends
		// on Bits Allocated.
		if px := ds.Get(dcm.TagPixelData); px != nil {
			px.VR = "OB"
			if ds.IntOr(dcm.TagBitsAllocated, 8) > 8 {
				px.VR = "OW"
			}
		}
	}
	meta := dcm.NewMeta(ds.Str(dcm.TagSOPClassUID), ds.Str(dcm.TagSOPInstanceUID), ts, l.file.Meta.Str(dcm.TagSourceApplicationEntityTitle))
	if err := dcm.WriteHeader(w, meta); err != nil {
		return fmt.Errorf("transcode: %w", err)
	}
	if err := dcm.WriteDataset(w, ds, ts); err != nil {
		return fmt.Errorf("transcode: %w", err)
	}
	return nil
}
