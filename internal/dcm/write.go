package dcm

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WriteDataset encodes ds in the given transfer syntax. Encapsulated syntaxes
// are explicit VR little endian; big endian is read but never written.
func WriteDataset(w io.Writer, ds *Dataset, tsUID string) error {
	ts, ok := LookupTransferSyntax(tsUID)
	if !ok || ts.BigEndian {
		return fmt.Errorf("write data set: unsupported transfer syntax %q", tsUID)
	}
	if ts.Deflated {
		fw, err := flate.NewWriter(w, flate.DefaultCompression)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(fw, 64<<10)
		if err := writeElements(bw, ds, false); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return fw.Close()
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := writeElements(bw, ds, ts.Implicit); err != nil {
		return err
	}
	return bw.Flush()
}

// NewMeta builds file meta information for an instance.
func NewMeta(sopClassUID, sopInstanceUID, tsUID, sourceAE string) *Dataset {
	m := &Dataset{}
	m.SetBytes(TagFileMetaInformationVersion, "OB", []byte{0, 1})
	m.Put(StrElement(TagMediaStorageSOPClassUID, "UI", sopClassUID))
	m.Put(StrElement(TagMediaStorageSOPInstanceUID, "UI", sopInstanceUID))
	m.Put(StrElement(TagTransferSyntaxUID, "UI", tsUID))
	m.Put(StrElement(TagImplementationClassUID, "UI", ImplementationClassUID))
	m.Put(StrElement(TagImplementationVersionName, "SH", ImplementationVersionName))
	if sourceAE != "" {
		m.Put(StrElement(TagSourceApplicationEntityTitle, "AE", sourceAE))
	}
	return m
}

// WriteHeader writes the 128-byte preamble, "DICM" and the meta information
// with a correct group length. The data set follows, written by the caller.
func WriteHeader(w io.Writer, meta *Dataset) error {
	// The meta information is a few hundred bytes, written once per stored
	// instance: buffers sized to it, not bufio's 4 KiB twice.
	body := &countingBuffer{}
	bw := bufio.NewWriterSize(body, 512)
	var rest Dataset
	for _, e := range meta.Elements {
		if e.Tag != TagFileMetaInformationGroupLength {
			rest.Elements = append(rest.Elements, e)
		}
	}
	if err := writeElements(bw, &rest, false); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	out := bufio.NewWriterSize(w, 132+12+len(body.b))
	var pre [132]byte
	copy(pre[128:], "DICM")
	_, _ = out.Write(pre[:])
	_ = writeHeader(out, TagFileMetaInformationGroupLength, "UL", 4, false)
	writeU32(out, uint32(len(body.b)))
	_, _ = out.Write(body.b)
	return out.Flush()
}

// WriteFile writes a complete Part 10 file.
func WriteFile(w io.Writer, ds *Dataset, tsUID, sourceAE string) error {
	meta := NewMeta(ds.Str(TagSOPClassUID), ds.Str(TagSOPInstanceUID), tsUID, sourceAE)
	if err := WriteHeader(w, meta); err != nil {
		return fmt.Errorf("write meta: %w", err)
	}
	return WriteDataset(w, ds, tsUID)
}

type countingBuffer struct{ b []byte }

func (c *countingBuffer) Write(p []byte) (int, error) {
	c.b = append(c.b, p...)
	return len(p), nil
}

func writeTag(w *bufio.Writer, t Tag) {
	var b [4]byte
	binary.LittleEndian.PutUint16(b[:], t.Group())
	binary.LittleEndian.PutUint16(b[2:], t.Element())
	_, _ = w.Write(b[:])
}

func writeU32(w *bufio.Writer, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	_, _ = w.Write(b[:])
}

func writeHeader(w *bufio.Writer, t Tag, vr string, length uint32, implicit bool) error {
	writeTag(w, t)
	if implicit {
		writeU32(w, length)
		return nil
	}
	_, _ = w.WriteString(vr)
	if longVRs[vr] {
		_, _ = w.Write([]byte{0, 0})
		writeU32(w, length)
		return nil
	}
	if length > 0xFFFF {
		return fmt.Errorf("element %s: %d bytes do not fit VR %s", t, length, vr)
	}
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], uint16(length))
	_, _ = w.Write(b[:])
	return nil
}

var errBulkNotLoaded = errors.New("bulk value was not loaded")

func writeElements(w *bufio.Writer, ds *Dataset, implicit bool) error {
	for _, e := range ds.Elements {
		switch {
		case e.VR == "SQ":
			if err := writeHeader(w, e.Tag, "SQ", UndefinedLength, implicit); err != nil {
				return err
			}
			for _, it := range e.Items {
				writeTag(w, TagItem)
				writeU32(w, UndefinedLength)
				if err := writeElements(w, it, implicit); err != nil {
					return err
				}
				writeTag(w, TagItemDelimitation)
				writeU32(w, 0)
			}
			writeTag(w, TagSequenceDelimitation)
			writeU32(w, 0)
		case e.Encapsulated != nil:
			if err := writeHeader(w, e.Tag, "OB", UndefinedLength, implicit); err != nil {
				return err
			}
			for _, frag := range e.Encapsulated {
				writeTag(w, TagItem)
				writeU32(w, uint32(len(frag)+len(frag)%2)) // items are even; the pad byte counts
				_, _ = w.Write(frag)
				if len(frag)%2 == 1 {
					_ = w.WriteByte(0)
				}
			}
			writeTag(w, TagSequenceDelimitation)
			writeU32(w, 0)
		case e.Bulk != nil && e.Value == nil:
			return fmt.Errorf("element %s: %w", e.Tag, errBulkNotLoaded)
		default:
			v := e.Value
			pad := len(v)%2 == 1
			n := uint32(len(v))
			if pad {
				n++
			}
			if err := writeHeader(w, e.Tag, e.VR, n, implicit); err != nil {
				return err
			}
			_, _ = w.Write(v)
			if pad {
				if e.VR == "UI" || isBulkVR(e.VR) {
					_ = w.WriteByte(0)
				} else {
					_ = w.WriteByte(' ')
				}
			}
		}
	}
	return nil
}
