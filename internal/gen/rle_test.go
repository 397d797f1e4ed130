package gen

// unpackBits decodes one PackBits segment into exactly len(dst) bytes; it
// is the inverse used by the tests.
func unpackBits(dst, src []byte) bool {
	o := 0
	for i := 0; i < len(src) && o < len(dst); {
		h := int8(src[i])
		i++
		switch {
		case h >= 0:
			n := int(h) + 1
			if i+n > len(src) || o+n > len(dst) {
				return false
			}
			copy(dst[o:], src[i:i+n])
			i += n
			o += n
		case h != -128:
			n := 1 - int(h)
			if i >= len(src) || o+n > len(dst) {
				return false
			}
			for k := 0; k < n; k++ {
				dst[o+k] = src[i]
			}
			i++
			o += n
		}
	}
	return o == len(dst)
}
