package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// decodeJPEGLossless decodes JPEG lossless (ITU T.81 Annex H, SOF3):
// Huffman-coded differences from one of seven predictors. One scan holding
// every component, no subsampling (what DICOM writers produce).
func decodeJPEGLossless(src []byte, info Info) (Frame, error) {
	var (
		tables    [4]*huffTable
		precision int
		rows      int
		cols      int
		comps     []int // component IDs in frame order
		restart   int
	)
	i := 0
	if len(src) < 4 || src[0] != 0xFF || src[1] != 0xD8 {
		return Frame{}, errors.New("no JPEG SOI marker")
	}
	i = 2
	for i+4 <= len(src) {
		if src[i] != 0xFF {
			return Frame{}, fmt.Errorf("expected a marker at byte %d", i)
		}
		marker := src[i+1]
		if marker == 0xFF {
			i++
			continue
		}
		seglen := int(binary.BigEndian.Uint16(src[i+2:]))
		if seglen < 2 || i+2+seglen > len(src) {
			return Frame{}, fmt.Errorf("marker %02X segment overruns the frame", marker)
		}
		seg := src[i+4 : i+2+seglen]
		i += 2 + seglen
		switch marker {
		case 0xC3:
			if len(seg) < 6 {
				return Frame{}, errors.New("short SOF3")
			}
			precision, rows, cols = int(seg[0]), int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:]))
			nf := int(seg[5])
			if len(seg) < 6+3*nf {
				return Frame{}, errors.New("short SOF3")
			}
			for c := range nf {
				if seg[6+3*c+1] != 0x11 {
					return Frame{}, fmt.Errorf("%w: subsampled lossless JPEG", ErrUnsupported)
				}
				comps = append(comps, int(seg[6+3*c]))
			}
		case 0xC0, 0xC1, 0xC2, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			return Frame{}, fmt.Errorf("%w: JPEG process SOF%X is not lossless", ErrUnsupported, marker&0x0F)
		case 0xC4:
			for len(seg) > 17 {
				th := seg[0] & 0x0F
				var counts [16]int
				total := 0
				for k := range 16 {
					counts[k] = int(seg[1+k])
					total += counts[k]
				}
				if th > 3 || len(seg) < 17+total {
					return Frame{}, errors.New("bad Huffman table")
				}
				tables[th] = newHuffTable(counts, seg[17:17+total])
				seg = seg[17+total:]
			}
		case 0xDD:
			if len(seg) >= 2 {
				restart = int(binary.BigEndian.Uint16(seg))
			}
		case 0xDA:
			return decodeScan(seg, src[i:], tables, precision, rows, cols, comps, restart, info)
		}
	}
	return Frame{}, errors.New("no scan in JPEG data")
}

func decodeScan(sos, data []byte, tables [4]*huffTable, precision, rows, cols int, comps []int, restart int, info Info) (Frame, error) {
	if len(comps) == 0 || precision < 2 || precision > 16 {
		return Frame{}, errors.New("no lossless frame header before the scan")
	}
	if rows != info.Rows || cols != info.Columns || len(comps) != info.SamplesPerPixel {
		return Frame{}, fmt.Errorf("JPEG is %dx%d with %d component(s); the image attributes say %dx%d with %d", cols, rows, len(comps), info.Columns, info.Rows, info.SamplesPerPixel)
	}
	if precision > info.BitsAllocated || info.BitsAllocated%8 != 0 {
		return Frame{}, fmt.Errorf("JPEG precision %d exceeds Bits Allocated %d", precision, info.BitsAllocated)
	}
	ns := int(sos[0])
	if ns != len(comps) || len(sos) < 1+2*ns+3 {
		return Frame{}, fmt.Errorf("%w: a scan per component", ErrUnsupported)
	}
	htab := make([]*huffTable, ns)
	for c := range ns {
		t := tables[sos[2+2*c]>>4&3]
		if t == nil {
			return Frame{}, errors.New("scan uses an undefined Huffman table")
		}
		htab[c] = t
	}
	pred := int(sos[1+2*ns])
	pt := int(sos[3+2*ns] & 0x0F)
	if pred < 1 || pred > 7 {
		return Frame{}, fmt.Errorf("predictor %d", pred)
	}
	n := rows * cols
	samples := make([]int, ns*n) // plane per component
	br := &bitReader{data: data}
	mask := 1<<precision - 1
	initial := 1 << (precision - pt - 1)
	resetAt := 0
	for p := range n {
		if restart > 0 && p > 0 && p%restart == 0 {
			br.restart()
			resetAt = p
		}
		x := p % cols
		for c := range ns {
			plane := samples[c*n:]
			t, err := htab[c].decode(br)
			if err != nil {
				return Frame{}, err
			}
			diff := 0
			switch {
			case t == 16:
				diff = 32768
			case t > 0:
				v := br.bits(t)
				if v < 1<<(t-1) {
					v -= 1<<t - 1
				}
				diff = v
			}
			var px int
			switch {
			case p == resetAt:
				px = initial
			case p < resetAt+cols:
				px = plane[p-1]
			case x == 0:
				px = plane[p-cols]
			default:
				ra, rb, rc := plane[p-1], plane[p-cols], plane[p-cols-1]
				switch pred {
				case 1:
					px = ra
				case 2:
					px = rb
				case 3:
					px = rc
				case 4:
					px = ra + rb - rc
				case 5:
					px = ra + (rb-rc)>>1
				case 6:
					px = rb + (ra-rc)>>1
				case 7:
					px = (ra + rb) >> 1
				}
			}
			plane[p] = (px + diff) & mask
		}
	}
	bps := info.BitsAllocated / 8
	planes := make([]byte, ns*n*bps)
	for k, v := range samples {
		v <<= pt
		for b := range bps {
			planes[k*bps+b] = byte(v >> (8 * b))
		}
	}
	return Frame{Data: interleave(planes, info)}, nil
}

// huffTable decodes with the canonical-code limits of T.81 Annex F.2.2.3.
type huffTable struct {
	maxcode [17]int
	valptr  [17]int
	mincode [17]int
	vals    []byte
}

func newHuffTable(counts [16]int, vals []byte) *huffTable {
	t := &huffTable{vals: vals}
	code, k := 0, 0
	for l := 1; l <= 16; l++ {
		t.valptr[l] = k
		t.mincode[l] = code
		code += counts[l-1]
		k += counts[l-1]
		if counts[l-1] == 0 {
			t.maxcode[l] = -1
		} else {
			t.maxcode[l] = code - 1
		}
		code <<= 1
	}
	return t
}

func (t *huffTable) decode(br *bitReader) (int, error) {
	code := 0
	for l := 1; l <= 16; l++ {
		code = code<<1 | br.bits(1)
		if t.maxcode[l] >= 0 && code <= t.maxcode[l] && code >= t.mincode[l] {
			j := t.valptr[l] + code - t.mincode[l]
			if j >= len(t.vals) {
				break
			}
			return int(t.vals[j]), nil
		}
	}
	return 0, errors.New("invalid Huffman code in JPEG lossless data")
}

// bitReader reads entropy-coded bits, removing stuffed zero bytes; at a
// marker it yields zero bits (as libjpeg does) until restart() skips it.
type bitReader struct {
	data  []byte
	pos   int
	acc   uint32
	nbits int
}

func (b *bitReader) fill() {
	for b.nbits <= 24 {
		var c byte
		if b.pos < len(b.data) {
			c = b.data[b.pos]
			if c == 0xFF {
				if b.pos+1 < len(b.data) && b.data[b.pos+1] == 0x00 {
					b.pos += 2
				} else {
					c = 0 // a marker: pad with zeros
				}
			} else {
				b.pos++
			}
		}
		b.acc |= uint32(c) << (24 - b.nbits)
		b.nbits += 8
	}
}

func (b *bitReader) bits(n int) int {
	if n == 0 {
		return 0
	}
	if b.nbits < n {
		b.fill()
	}
	v := int(b.acc >> (32 - n))
	b.acc <<= n
	b.nbits -= n
	return v
}

// restart drops buffered bits and skips an RSTn marker.
func (b *bitReader) restart() {
	b.acc, b.nbits = 0, 0
	for b.pos+1 < len(b.data) {
		if b.data[b.pos] == 0xFF && b.data[b.pos+1] >= 0xD0 && b.data[b.pos+1] <= 0xD7 {
			b.pos += 2
			return
		}
		b.pos++
	}
}
