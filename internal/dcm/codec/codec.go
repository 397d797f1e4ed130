package codec

import (
	"errors"
	"fmt"
	"slices"

	"lightbox/internal/dcm"
)

// Info describes the frame being decoded, from the image pixel module.
type Info struct {
	Rows, Columns       int
	SamplesPerPixel     int
	BitsAllocated       int
	PlanarConfiguration int    // of the output: 0 interleaved, 1 by plane
	Photometric         string // as stored
	// PixelVR is Pixel Data's VR: big-endian OW is swapped in 16-bit
	// words, OB is not (PS3.5 7.3), which matters for 1-bit data.
	PixelVR string
}

// InfoOf reads Info from a data set.
func InfoOf(ds *dcm.Dataset) Info {
	return Info{
		Rows: ds.IntOr(dcm.TagRows, 0), Columns: ds.IntOr(dcm.TagColumns, 0),
		SamplesPerPixel: ds.IntOr(dcm.TagSamplesPerPixel, 1), BitsAllocated: ds.IntOr(dcm.TagBitsAllocated, 8),
		PlanarConfiguration: ds.IntOr(tagPlanarConfiguration, 0), Photometric: ds.Str(tagPhotometric),
		PixelVR: pixelVR(ds),
	}
}

func pixelVR(ds *dcm.Dataset) string {
	if e := ds.Get(dcm.TagPixelData); e != nil {
		return e.VR
	}
	return ""
}

const (
	tagPlanarConfiguration dcm.Tag = 0x00280006
	tagPhotometric         dcm.Tag = 0x00280004
)

// FrameBytes is the size of one decoded frame (1-bit frames are packed).
func (i Info) FrameBytes() int {
	return (i.Rows*i.Columns*i.SamplesPerPixel*i.BitsAllocated + 7) / 8
}

func (i Info) check() error {
	if i.Rows <= 0 || i.Columns <= 0 || i.SamplesPerPixel <= 0 || (i.BitsAllocated%8 != 0 && i.BitsAllocated != 1) || i.BitsAllocated == 0 {
		return fmt.Errorf("image of %dx%d, %d sample(s) of %d bits cannot be decoded", i.Rows, i.Columns, i.SamplesPerPixel, i.BitsAllocated)
	}
	if i.Rows*i.Columns > 1<<28 {
		return errors.New("image too large to decode")
	}
	return nil
}

// Frame is a decoded frame: native little endian samples, laid out as
// Info.PlanarConfiguration says.
type Frame struct {
	Data []byte
	// Photometric is the photometric interpretation of Data (JPEG colour
	// frames decode to RGB).
	Photometric string
}

// ErrUnsupported is wrapped when no decoder exists for a transfer syntax
// or for the frame's parameters.
var ErrUnsupported = errors.New("cannot decode")

type decoder func(src []byte, info Info) (Frame, error)

var decoders = map[string]decoder{
	dcm.RLELossless:         decodeRLE,
	dcm.JPEGBaseline8Bit:    decodeJPEG,
	dcm.JPEGLossless:        decodeJPEGLossless,
	dcm.JPEGLosslessSV1:     decodeJPEGLossless,
	dcm.ExplicitVRBigEndian: decodeBigEndian,
}

// register adds d, a decoder in an optional C library (build tag
// lightbox_codecs), for the transfer syntaxes ts; an empty frame is refused
// before it reaches the library.
func register(name string, d decoder, ts ...string) {
	for _, t := range ts {
		decoders[t] = func(src []byte, info Info) (Frame, error) {
			if len(src) == 0 {
				return Frame{}, fmt.Errorf("empty %s frame", name)
			}
			return d(src, info)
		}
	}
}

// CanDecode reports whether frames in this transfer syntax can be decoded
// by this build (8-bit-only decoders may still refuse a given frame).
func CanDecode(ts string) bool {
	_, ok := decoders[ts]
	return ok
}

// Decode decodes one frame's bytes (its fragments concatenated) stored in
// transfer syntax ts.
func Decode(ts string, src []byte, info Info) (Frame, error) {
	d, ok := decoders[ts]
	if !ok {
		return Frame{}, fmt.Errorf("%w: no decoder for transfer syntax %s in this build", ErrUnsupported, ts)
	}
	if err := info.check(); err != nil {
		return Frame{}, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	f, err := d(src, info)
	if err != nil {
		return Frame{}, fmt.Errorf("decode %s frame: %w", ts, err)
	}
	if f.Photometric == "" {
		f.Photometric = info.Photometric
	}
	if len(f.Data) != info.FrameBytes() {
		return Frame{}, fmt.Errorf("decode %s frame: %d bytes decoded, %d expected", ts, len(f.Data), info.FrameBytes())
	}
	return f, nil
}

func decodeBigEndian(src []byte, info Info) (Frame, error) {
	out := slices.Clone(src)
	if n := info.FrameBytes(); len(out) > n {
		out = out[:n]
	}
	size := info.BitsAllocated / 8
	if info.BitsAllocated == 1 && info.PixelVR != "OB" {
		size = 2 // packed bits travel in OW words, swapped as such
	}
	if size > 1 {
		for i := 0; i+size <= len(out); i += size {
			slices.Reverse(out[i : i+size])
		}
	}
	return Frame{Data: out}, nil
}

// interleave turns planes (all of sample 0, then sample 1, ...) into the
// requested layout.
func interleave(planes []byte, info Info) []byte {
	if info.SamplesPerPixel == 1 || info.PlanarConfiguration == 1 {
		return planes
	}
	bps := info.BitsAllocated / 8
	n := info.Rows * info.Columns
	out := make([]byte, len(planes))
	for s := range info.SamplesPerPixel {
		for p := range n {
			copy(out[(p*info.SamplesPerPixel+s)*bps:][:bps], planes[(s*n+p)*bps:][:bps])
		}
	}
	return out
}
