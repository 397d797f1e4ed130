//go:build lightbox_codecs && cgo

package codec

/*
#cgo LDFLAGS: -lcharls
#include <stdlib.h>
#include <charls/charls.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"lightbox/internal/dcm"
)

// JPEG-LS through Debian's libcharls (build tag lightbox_codecs).
func init() { register("JPEG-LS", decodeJPEGLS, dcm.JPEGLSLossless, dcm.JPEGLSNearLossless) }

func decodeJPEGLS(src []byte, info Info) (Frame, error) {
	d := C.charls_jpegls_decoder_create()
	if d == nil {
		return Frame{}, fmt.Errorf("charls: cannot create a decoder")
	}
	defer C.charls_jpegls_decoder_destroy(d)
	// CharLS keeps the source pointer between calls: C memory, not Go's.
	cs := C.CBytes(src)
	defer C.free(cs)
	check := func(what string, ec C.charls_jpegls_errc) error {
		if ec != 0 {
			return fmt.Errorf("charls %s: %s", what, C.GoString(C.charls_get_error_message(ec)))
		}
		return nil
	}
	if err := check("source", C.charls_jpegls_decoder_set_source_buffer(d, cs, C.size_t(len(src)))); err != nil {
		return Frame{}, err
	}
	if err := check("header", C.charls_jpegls_decoder_read_header(d)); err != nil {
		return Frame{}, err
	}
	var fi C.charls_frame_info
	if err := check("frame info", C.charls_jpegls_decoder_get_frame_info(d, &fi)); err != nil {
		return Frame{}, err
	}
	if int(fi.width) != info.Columns || int(fi.height) != info.Rows || int(fi.component_count) != info.SamplesPerPixel {
		return Frame{}, fmt.Errorf("JPEG-LS is %dx%d with %d component(s); the image attributes say %dx%d with %d",
			fi.width, fi.height, fi.component_count, info.Columns, info.Rows, info.SamplesPerPixel)
	}
	bytesPerSample := 1
	if fi.bits_per_sample > 8 {
		bytesPerSample = 2
	}
	if bytesPerSample != info.BitsAllocated/8 {
		return Frame{}, fmt.Errorf("%w: %d-bit JPEG-LS for %d bits allocated", ErrUnsupported, fi.bits_per_sample, info.BitsAllocated)
	}
	var ilv C.charls_interleave_mode
	if err := check("interleave mode", C.charls_jpegls_decoder_get_interleave_mode(d, &ilv)); err != nil {
		return Frame{}, err
	}
	var size C.size_t
	if err := check("size", C.charls_jpegls_decoder_get_destination_size(d, 0, &size)); err != nil {
		return Frame{}, err
	}
	dst := make([]byte, int(size))
	if err := check("decode", C.charls_jpegls_decoder_decode_to_buffer(d, unsafe.Pointer(&dst[0]), size, 0)); err != nil {
		return Frame{}, err
	}
	switch {
	case info.SamplesPerPixel == 1:
	case ilv == C.CHARLS_INTERLEAVE_MODE_NONE:
		dst = interleave(dst, info) // decoded by plane
	case info.PlanarConfiguration == 1:
		return Frame{}, fmt.Errorf("%w: interleaved JPEG-LS for Planar Configuration 1", ErrUnsupported)
	}
	return Frame{Data: dst}, nil
}
