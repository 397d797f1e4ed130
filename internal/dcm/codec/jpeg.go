package codec

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
)

// decodeJPEG decodes 8-bit JPEG (baseline, extended, progressive) with the
// standard library. Colour decodes to RGB, except that YCbCr-coded data a
// writer labelled RGB (no colour transform) is taken as is, as GDCM does.
func decodeJPEG(src []byte, info Info) (Frame, error) {
	if info.BitsAllocated != 8 {
		return Frame{}, fmt.Errorf("%w: %d-bit JPEG", ErrUnsupported, info.BitsAllocated)
	}
	img, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		return Frame{}, err
	}
	b := img.Bounds()
	if b.Dx() != info.Columns || b.Dy() != info.Rows {
		return Frame{}, fmt.Errorf("JPEG is %dx%d; the image attributes say %dx%d", b.Dx(), b.Dy(), info.Columns, info.Rows)
	}
	n := info.Rows * info.Columns
	switch m := img.(type) {
	case *image.Gray:
		if info.SamplesPerPixel != 1 {
			return Frame{}, fmt.Errorf("grey JPEG for %d samples per pixel", info.SamplesPerPixel)
		}
		out := make([]byte, 0, n)
		for y := range info.Rows {
			out = append(out, m.Pix[y*m.Stride:y*m.Stride+info.Columns]...)
		}
		return Frame{Data: out}, nil
	case *image.YCbCr:
		if info.SamplesPerPixel != 3 {
			return Frame{}, fmt.Errorf("colour JPEG for %d samples per pixel", info.SamplesPerPixel)
		}
		raw := info.Photometric == "RGB"
		planes := make([]byte, 3*n)
		for y := range info.Rows {
			for x := range info.Columns {
				yy, cb, cr := m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)]
				r, g, bl := yy, cb, cr
				if !raw {
					r, g, bl = color.YCbCrToRGB(yy, cb, cr)
				}
				p := y*info.Columns + x
				planes[p], planes[n+p], planes[2*n+p] = r, g, bl
			}
		}
		return Frame{Data: interleave(planes, info), Photometric: "RGB"}, nil
	case *image.RGBA:
		if info.SamplesPerPixel != 3 {
			return Frame{}, fmt.Errorf("colour JPEG for %d samples per pixel", info.SamplesPerPixel)
		}
		planes := make([]byte, 3*n)
		for y := range info.Rows {
			for x := range info.Columns {
				o := m.PixOffset(x, y)
				p := y*info.Columns + x
				planes[p], planes[n+p], planes[2*n+p] = m.Pix[o], m.Pix[o+1], m.Pix[o+2]
			}
		}
		return Frame{Data: interleave(planes, info), Photometric: "RGB"}, nil
	}
	return Frame{}, fmt.Errorf("%w: JPEG colour model %T", ErrUnsupported, img)
}
