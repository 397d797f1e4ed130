package gen

import "encoding/binary"

// RLE Lossless (PS3.5 Annex G). A frame is a 64-byte header (segment count
// and up to 15 segment offsets) followed by one segment per byte plane:
// for each sample (R, G, B or the single grey sample) its bytes from most
// to least significant. Each segment is a PackBits stream, coded row by row
// so that no run crosses a row boundary, and padded to even length.

// rleEncodeFrame appends the encoding of one frame of native little-endian
// pixel data (colour-by-pixel when spp > 1) to dst. row is scratch space of
// at least cols bytes.
func rleEncodeFrame(dst, frame []byte, rows, cols, spp, bytesPerSample int, row []byte) []byte {
	nseg := spp * bytesPerSample
	hdr := len(dst)
	dst = append(dst, make([]byte, 64)...)
	binary.LittleEndian.PutUint32(dst[hdr:], uint32(nseg))
	stride := spp * bytesPerSample
	row = row[:cols]
	seg := 0
	for s := 0; s < spp; s++ {
		for b := bytesPerSample - 1; b >= 0; b-- {
			binary.LittleEndian.PutUint32(dst[hdr+4+4*seg:], uint32(len(dst)-hdr))
			seg++
			start := len(dst)
			off := s*bytesPerSample + b
			for r := 0; r < rows; r++ {
				src := frame[r*cols*stride:]
				for c := range row {
					row[c] = src[c*stride+off]
				}
				dst = packBits(dst, row)
			}
			if (len(dst)-start)%2 == 1 {
				dst = append(dst, 0)
			}
		}
	}
	return dst
}

// packBits appends the PackBits coding of src: a header byte n in 0..127
// copies the next n+1 bytes literally, -1..-127 repeats the next byte 1-n
// times.
func packBits(dst, src []byte) []byte {
	n := len(src)
	i := 0
	for i < n {
		j := i + 1
		for j < n && j-i < 128 && src[j] == src[i] {
			j++
		}
		if j-i >= 3 {
			dst = append(dst, byte(int8(-(j - i - 1))), src[i])
			i = j
			continue
		}
		start := i
		for i < n && i-start < 128 {
			if i+2 < n && src[i] == src[i+1] && src[i] == src[i+2] {
				break
			}
			i++
		}
		dst = append(dst, byte(i-start-1))
		dst = append(dst, src[start:i]...)
	}
	return dst
}

// basicOffsetTable returns the Basic Offset Table for fragments written one
// per frame: each frame's offset from the first fragment's item tag.
func basicOffsetTable(frags [][]byte) []byte {
	if len(frags) <= 1 {
		return []byte{}
	}
	bot := make([]byte, 4*len(frags))
	off := 0
	for i, f := range frags {
		binary.LittleEndian.PutUint32(bot[4*i:], uint32(off))
		off += 8 + len(f) + len(f)%2
	}
	return bot
}
