//go:build lightbox_codecs && cgo

package codec

/*
#cgo pkg-config: libopenjp2
#include <stdlib.h>
#include <string.h>
#include <openjpeg.h>

typedef struct { const unsigned char *data; OPJ_SIZE_T len, pos; } lb_mem;

static OPJ_SIZE_T lb_read(void *buf, OPJ_SIZE_T n, void *u) {
	lb_mem *m = u;
	if (m->pos >= m->len) return (OPJ_SIZE_T)-1;
	OPJ_SIZE_T k = m->len - m->pos;
	if (k > n) k = n;
	memcpy(buf, m->data + m->pos, k);
	m->pos += k;
	return k;
}

static OPJ_OFF_T lb_skip(OPJ_OFF_T n, void *u) {
	lb_mem *m = u;
	if (n < 0 || (OPJ_SIZE_T)n > m->len - m->pos) return -1;
	m->pos += n;
	return n;
}

static OPJ_BOOL lb_seek(OPJ_OFF_T n, void *u) {
	lb_mem *m = u;
	if (n < 0 || (OPJ_SIZE_T)n > m->len) return OPJ_FALSE;
	m->pos = n;
	return OPJ_TRUE;
}

// lb_decode decodes a JPEG 2000 codestream (or JP2 file) held in memory.
static opj_image_t *lb_decode(const unsigned char *data, size_t len) {
	OPJ_CODEC_FORMAT fmt = (len >= 2 && data[0] == 0xFF && data[1] == 0x4F) ? OPJ_CODEC_J2K : OPJ_CODEC_JP2;
	opj_codec_t *c = opj_create_decompress(fmt);
	if (!c) return NULL;
	opj_dparameters_t p;
	opj_set_default_decoder_parameters(&p);
	opj_image_t *img = NULL;
	if (!opj_setup_decoder(c, &p)) { opj_destroy_codec(c); return NULL; }
	lb_mem m = { data, len, 0 };
	opj_stream_t *s = opj_stream_create(1 << 16, OPJ_TRUE);
	opj_stream_set_user_data(s, &m, NULL);
	opj_stream_set_user_data_length(s, len);
	opj_stream_set_read_function(s, lb_read);
	opj_stream_set_skip_function(s, lb_skip);
	opj_stream_set_seek_function(s, lb_seek);
	if (!opj_read_header(s, c, &img) || !opj_decode(c, s, img) || !opj_end_decompress(c, s)) {
		if (img) opj_image_destroy(img);
		img = NULL;
	}
	opj_stream_destroy(s);
	opj_destroy_codec(c);
	return img;
}

static opj_image_comp_t *lb_comp(opj_image_t *img, int i) { return &img->comps[i]; }
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"lightbox/internal/dcm"
)

// JPEG 2000 through Debian's libopenjp2 (build tag lightbox_codecs).
func init() { register("JPEG 2000", decodeJPEG2000, dcm.JPEG2000Lossless, dcm.JPEG2000) }

func decodeJPEG2000(src []byte, info Info) (Frame, error) {
	cs := C.CBytes(src)
	defer C.free(cs)
	img := C.lb_decode((*C.uchar)(cs), C.size_t(len(src)))
	if img == nil {
		return Frame{}, fmt.Errorf("openjpeg could not decode the frame")
	}
	defer C.opj_image_destroy(img)
	if int(img.numcomps) != info.SamplesPerPixel {
		return Frame{}, fmt.Errorf("JPEG 2000 has %d component(s); the image attributes say %d", img.numcomps, info.SamplesPerPixel)
	}
	n := info.Rows * info.Columns
	bps := info.BitsAllocated / 8
	if bps < 1 || bps > 2 {
		return Frame{}, fmt.Errorf("%w: JPEG 2000 for %d bits allocated", ErrUnsupported, info.BitsAllocated)
	}
	planes := make([]byte, n*info.SamplesPerPixel*bps)
	for s := range info.SamplesPerPixel {
		c := C.lb_comp(img, C.int(s))
		if int(c.w) != info.Columns || int(c.h) != info.Rows || c.data == nil {
			return Frame{}, fmt.Errorf("%w: JPEG 2000 component %d is %dx%d (subsampled?)", ErrUnsupported, s, c.w, c.h)
		}
		vals := unsafe.Slice((*C.OPJ_INT32)(unsafe.Pointer(c.data)), n)
		for p, v := range vals {
			for b := range bps {
				planes[(s*n+p)*bps+b] = byte(int32(v) >> (8 * b))
			}
		}
	}
	f := Frame{Data: interleave(planes, info)}
	if info.SamplesPerPixel == 3 && strings.HasPrefix(info.Photometric, "YBR_") {
		f.Photometric = "RGB" // openjpeg undoes the component transform
	}
	return f, nil
}
