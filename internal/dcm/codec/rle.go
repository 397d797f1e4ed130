package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// decodeRLE decodes PS3.5 Annex G: a 64-byte header of segment offsets,
// one PackBits segment per byte of each sample, most significant first.
func decodeRLE(src []byte, info Info) (Frame, error) {
	if len(src) < 64 {
		return Frame{}, errors.New("RLE header shorter than 64 bytes")
	}
	bps := info.BitsAllocated / 8
	if bps == 0 {
		return Frame{}, fmt.Errorf("%w: RLE of %d-bit samples", ErrUnsupported, info.BitsAllocated)
	}
	nseg := int(binary.LittleEndian.Uint32(src))
	if nseg != info.SamplesPerPixel*bps || nseg > 15 {
		return Frame{}, fmt.Errorf("RLE frame has %d segments; %d sample(s) of %d bits need %d", nseg, info.SamplesPerPixel, info.BitsAllocated, info.SamplesPerPixel*bps)
	}
	n := info.Rows * info.Columns
	planes := make([]byte, n*nseg)
	for s := range nseg {
		start := int(binary.LittleEndian.Uint32(src[4+4*s:]))
		end := len(src)
		if s+1 < nseg {
			end = int(binary.LittleEndian.Uint32(src[8+4*s:]))
		}
		if start < 64 || start > end || end > len(src) {
			return Frame{}, fmt.Errorf("RLE segment %d has offsets %d..%d outside the frame", s, start, end)
		}
		seg := make([]byte, 0, n)
		if err := unpackBits(src[start:end], &seg, n); err != nil {
			return Frame{}, fmt.Errorf("RLE segment %d: %w", s, err)
		}
		if len(seg) < n {
			return Frame{}, fmt.Errorf("RLE segment %d decodes to %d bytes, %d expected", s, len(seg), n)
		}
		// Segment s is byte (bps-1-s%bps) (little endian) of sample s/bps.
		sample, byteIdx := s/bps, bps-1-s%bps
		for p := range n {
			planes[(sample*n+p)*bps+byteIdx] = seg[p]
		}
	}
	return Frame{Data: interleave(planes, info)}, nil
}

func unpackBits(src []byte, out *[]byte, limit int) error {
	for i := 0; i < len(src) && len(*out) < limit; {
		c := int(int8(src[i]))
		i++
		switch {
		case c >= 0:
			if i+c+1 > len(src) {
				return errors.New("literal run past the end of the segment")
			}
			*out = append(*out, src[i:i+c+1]...)
			i += c + 1
		case c > -128:
			if i >= len(src) {
				return errors.New("replicate run past the end of the segment")
			}
			for range 1 - c {
				*out = append(*out, src[i])
			}
			i++
		}
	}
	if len(*out) > limit {
		*out = (*out)[:limit]
	}
	return nil
}
