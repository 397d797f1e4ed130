package dicomweb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"lightbox/internal/dcm"
	"lightbox/internal/dcm/codec"
	"lightbox/internal/query"
)

// renderParams are the /rendered and /thumbnail query parameters
// (PS3.18 8.3.5).
type renderParams struct {
	hasWindow     bool
	center, width float64
	function      string // LINEAR, LINEAR_EXACT, SIGMOID ("" = stored or LINEAR)
	vw, vh        int    // viewport, 0 = natural size
	quality       int
	png           bool
}

const maxViewport = 4096

func parseRender(r *http.Request, thumb bool) (*renderParams, int, error) {
	p := &renderParams{quality: 90}
	if thumb {
		p.vw, p.vh = 128, 128
	}
	bad := func(format string, args ...any) (*renderParams, int, error) {
		return nil, http.StatusBadRequest, fmt.Errorf(format, args...)
	}
	for key, vals := range r.URL.Query() {
		v := lastOf(vals)
		switch key {
		case "window":
			f := strings.Split(v, ",")
			if len(f) < 2 || len(f) > 3 {
				return bad("window is center,width[,function]")
			}
			c, err1 := strconv.ParseFloat(strings.TrimSpace(f[0]), 64)
			wd, err2 := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
			if err1 != nil || err2 != nil || wd < 1 || math.IsNaN(c) || math.IsInf(c, 0) || math.IsInf(wd, 0) {
				return bad("window center and width must be numbers, width >= 1")
			}
			p.hasWindow, p.center, p.width = true, c, wd
			if len(f) == 3 {
				switch fn := strings.ToLower(strings.TrimSpace(f[2])); fn {
				case "linear", "linear-exact", "sigmoid":
					p.function = strings.ToUpper(strings.ReplaceAll(fn, "-", "_"))
				default:
					return bad("window function must be linear, linear-exact or sigmoid")
				}
			}
		case "viewport":
			f := strings.Split(v, ",")
			if len(f) != 2 && len(f) != 6 {
				return bad("viewport is vw,vh")
			}
			w, err1 := strconv.Atoi(strings.TrimSpace(f[0]))
			h, err2 := strconv.Atoi(strings.TrimSpace(f[1]))
			if err1 != nil || err2 != nil || w < 1 || h < 1 || w > maxViewport || h > maxViewport {
				return bad("viewport width and height must be 1..%d", maxViewport)
			}
			p.vw, p.vh = w, h
		case "quality":
			q, err := strconv.Atoi(v)
			if err != nil || q < 1 || q > 100 {
				return bad("quality must be 1..100")
			}
			p.quality = q
		case "annotation", "charset", "accept", "iccprofile":
			// Accepted and ignored.
		default:
			return bad("unknown parameter %q", key)
		}
	}
	switch renderType(r) {
	case "image/jpeg":
	case "image/png":
		p.png = true
	default:
		return nil, http.StatusNotAcceptable, errors.New("rendered images are available as image/jpeg or image/png")
	}
	return p, 0, nil
}

// renderType picks image/jpeg or image/png from Accept ("" when neither).
func renderType(r *http.Request) string {
	for _, m := range parseAccept(r) {
		switch {
		case m.typ == "image/png":
			return "image/png"
		case m.typ == "image/jpeg", m.typ == "image/*", m.typ == "*/*":
			return "image/jpeg"
		case m.typ == "multipart/related":
			if pt := m.partType(); pt == "image/png" {
				return pt
			} else if typeMatches(pt, "image/jpeg") {
				return "image/jpeg"
			}
		}
	}
	return ""
}

func (h *Handler) rendered(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	h.render(w, r, scope, false)
}

func (h *Handler) thumbnail(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	h.render(w, r, scope, true)
}

type renderJob struct {
	in    *query.Instance
	frame int
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, scope query.Scope, thumb bool) {
	p, code, err := parseRender(r, thumb)
	if err != nil {
		h.fail(w, r, code, err.Error())
		return
	}
	var frames []int
	if fl := r.PathValue("frames"); fl != "" {
		if frames, err = parseFrameList(fl); err != nil {
			h.fail(w, r, http.StatusBadRequest, err.Error())
			return
		}
	}
	ins, ok := h.resolve(w, r, scope)
	if !ok {
		return
	}
	var jobs []renderJob
	switch {
	case frames != nil:
		for _, f := range frames {
			jobs = append(jobs, renderJob{&ins[0], f})
		}
	case thumb:
		jobs = []renderJob{{&ins[len(ins)/2], 1}}
	default:
		for i := range ins {
			jobs = append(jobs, renderJob{&ins[i], 1})
		}
	}
	if thumb || len(jobs) > 1 && frames == nil && r.PathValue("instance") != "" {
		jobs = jobs[:1]
	}
	typ := "image/jpeg"
	if p.png {
		typ = "image/png"
	}
	parts := []string{r.URL.RawQuery, typ}
	for _, j := range jobs {
		parts = append(parts, j.in.SHA256, strconv.Itoa(j.frame))
	}
	etag := etagOf(hashTag(parts...))
	w.Header().Set("Cache-Control", h.instanceCache())
	if notModified(w, r, etag) {
		return
	}
	if len(jobs) == 1 {
		img, code, err := h.renderFrame(r, jobs[0].in, jobs[0].frame, p)
		if err != nil {
			h.fail(w, r, code, err.Error())
			return
		}
		w.Header().Set("Content-Type", typ)
		w.Header().Set("Content-Length", strconv.Itoa(len(img)))
		_, _ = w.Write(img)
		return
	}
	// Render the first image before committing to a 200.
	first, code, err := h.renderFrame(r, jobs[0].in, jobs[0].frame, p)
	if err != nil {
		h.fail(w, r, code, err.Error())
		return
	}
	boundary := "lightbox-" + hashTag(etag)
	w.Header().Set("Content-Type", `multipart/related; type="`+typ+`"; boundary=`+boundary)
	mw := multipart.NewWriter(w)
	_ = mw.SetBoundary(boundary)
	for i, j := range jobs {
		img := first
		if i > 0 {
			if img, _, err = h.renderFrame(r, j.in, j.frame, p); err != nil {
				h.log.Warn("dicomweb: rendering aborted", "sop_class", j.in.SOPClassUID, "error", err)
				panic(http.ErrAbortHandler)
			}
		}
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Type", typ)
		pw, err := mw.CreatePart(ph)
		if err != nil {
			return
		}
		if _, err := pw.Write(img); err != nil {
			return
		}
	}
	_ = mw.Close()
}

// renderFrame renders one frame (1-based) of an instance as JPEG or PNG.
func (h *Handler) renderFrame(r *http.Request, in *query.Instance, frame int, p *renderParams) ([]byte, int, error) {
	var ds *dcm.Dataset
	_, err := h.q.EachMeta(r.Context(), query.Scope{All: true}, query.Target{SOPInstanceUID: in.SOPInstanceUID}, func(_ string, meta []byte) error {
		var err error
		ds, err = query.DecodeJSON(meta)
		return err
	})
	if err != nil || ds == nil {
		return nil, http.StatusInternalServerError, fmt.Errorf("instance metadata: %v", err)
	}
	if !ds.Has(dcm.TagRows) || ds.Get(dcm.TagPixelData) == nil && in.Frames == nil {
		return nil, http.StatusNotFound, errors.New("the instance has no image")
	}
	fs, code, err := h.openFrames(r, in)
	if err != nil {
		return nil, code, err
	}
	defer fs.obj.Close()
	if frame > fs.count() {
		return nil, http.StatusNotFound, fmt.Errorf("frame %d does not exist; the instance has %d", frame, fs.count())
	}
	data, err := fs.read(frame)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	var img image.Image
	switch in.TransferSyntax {
	case dcm.ImplicitVRLittleEndian, dcm.ExplicitVRLittleEndian, dcm.DeflatedExplicitVRLittleEndian:
		img, err = decodeNative(ds, data, p)
	case dcm.RLELossless:
		var f codec.Frame
		if f, err = codec.Decode(in.TransferSyntax, data, codec.InfoOf(ds)); err == nil {
			img, err = decodeNative(ds, f.Data, p)
		}
	case dcm.JPEGBaseline8Bit, dcm.JPEGExtended12Bit:
		img, err = jpeg.Decode(bytes.NewReader(data))
		if err == nil {
			img = presentJPEG(ds, img, p)
		}
	default:
		return nil, http.StatusNotAcceptable, fmt.Errorf("cannot render transfer syntax %s", in.TransferSyntax)
	}
	if err != nil {
		return nil, http.StatusNotAcceptable, fmt.Errorf("cannot render this image: %v", err)
	}
	img = fit(img, p.vw, p.vh)
	var buf bytes.Buffer
	if p.png {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: p.quality})
	}
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	return buf.Bytes(), 0, nil
}

// voi maps modality values to 0..255.
type voi struct {
	c, w   float64
	fn     string
	invert bool
}

func (v voi) apply(x float64) uint8 {
	var y float64
	switch v.fn {
	case "SIGMOID":
		y = 255 / (1 + math.Exp(-4*(x-v.c)/v.w))
	case "LINEAR_EXACT":
		switch {
		case x <= v.c-v.w/2:
			y = 0
		case x > v.c+v.w/2:
			y = 255
		default:
			y = ((x-v.c)/v.w + 0.5) * 255
		}
	default: // LINEAR, PS3.3 C.11.2.1.2.1
		switch {
		case x <= v.c-0.5-(v.w-1)/2:
			y = 0
		case x > v.c-0.5+(v.w-1)/2:
			y = 255
		default:
			y = ((x-(v.c-0.5))/(v.w-1) + 0.5) * 255
		}
	}
	y = math.Round(min(max(y, 0), 255))
	if v.invert {
		y = 255 - y
	}
	return uint8(y)
}

func firstFloat(ds *dcm.Dataset, t dcm.Tag, def float64) float64 {
	if f, ok := ds.Float(t); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return f
	}
	return def
}

const tagVOILUTFunction dcm.Tag = 0x00281056

// decodeNative turns native pixel data into a displayable image: modality
// rescale, window (requested, stored, or the frame's range), MONOCHROME1
// inversion; RGB (and YBR_FULL) 8-bit colour passes through.
func decodeNative(ds *dcm.Dataset, data []byte, p *renderParams) (image.Image, error) {
	rows, cols := ds.IntOr(dcm.TagRows, 0), ds.IntOr(dcm.TagColumns, 0)
	spp := ds.IntOr(dcm.TagSamplesPerPixel, 1)
	bits := ds.IntOr(dcm.TagBitsAllocated, 16)
	stored := ds.IntOr(dcm.TagBitsStored, bits)
	signed := ds.IntOr(dcm.TagPixelRepresentation, 0) == 1
	photo := strings.TrimSpace(ds.Str(dcm.TagPhotometricInterpretation))
	n := rows * cols
	if rows <= 0 || cols <= 0 || n > 64<<20 {
		return nil, fmt.Errorf("unsupported image size %dx%d", cols, rows)
	}
	if spp == 3 {
		if bits != 8 || len(data) < 3*n {
			return nil, fmt.Errorf("unsupported colour image (%d bits)", bits)
		}
		planar := ds.IntOr(dcm.TagPlanarConfiguration, 0) == 1
		img := image.NewRGBA(image.Rect(0, 0, cols, rows))
		for i := range n {
			var a, b, c byte
			if planar {
				a, b, c = data[i], data[n+i], data[2*n+i]
			} else {
				a, b, c = data[3*i], data[3*i+1], data[3*i+2]
			}
			if strings.HasPrefix(photo, "YBR") {
				a, b, c = color.YCbCrToRGB(a, b, c)
			}
			img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = a, b, c, 255
		}
		return img, nil
	}
	if spp != 1 || (bits != 8 && bits != 16) || stored < 1 || stored > bits {
		return nil, fmt.Errorf("unsupported pixel format: %d samples of %d bits", spp, bits)
	}
	bpp := bits / 8
	if len(data) < n*bpp {
		return nil, fmt.Errorf("frame holds %d bytes; %dx%d needs %d", len(data), cols, rows, n*bpp)
	}
	slope := firstFloat(ds, dcm.TagRescaleSlope, 1)
	intercept := firstFloat(ds, dcm.TagRescaleIntercept, 0)
	if slope == 0 {
		slope = 1
	}
	mask := uint32(1)<<stored - 1
	vals := make([]float64, n)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range n {
		var raw uint32
		if bpp == 1 {
			raw = uint32(data[i])
		} else {
			raw = uint32(binary.LittleEndian.Uint16(data[2*i:]))
		}
		raw &= mask
		v := float64(raw)
		if signed && raw&(1<<(stored-1)) != 0 {
			v = float64(int64(raw) - int64(1)<<stored)
		}
		v = v*slope + intercept
		vals[i] = v
		lo, hi = min(lo, v), max(hi, v)
	}
	vo := voi{invert: photo == "MONOCHROME1", fn: strings.ToUpper(strings.TrimSpace(ds.Str(tagVOILUTFunction)))}
	switch {
	case p.hasWindow:
		vo.c, vo.w = p.center, p.width
	case ds.Has(dcm.TagWindowCenter) && firstFloat(ds, dcm.TagWindowWidth, 0) >= 1:
		vo.c, vo.w = firstFloat(ds, dcm.TagWindowCenter, 0), firstFloat(ds, dcm.TagWindowWidth, 1)
	default:
		vo.c, vo.w = (lo+hi)/2, max(hi-lo, 1)
		vo.fn = "LINEAR_EXACT"
	}
	if p.function != "" {
		vo.fn = p.function
	}
	img := image.NewGray(image.Rect(0, 0, cols, rows))
	for i, v := range vals {
		img.Pix[i] = vo.apply(v)
	}
	return img, nil
}

// presentJPEG applies a requested window and MONOCHROME1 inversion to a
// decoded 8-bit grey JPEG frame; colour frames pass through.
func presentJPEG(ds *dcm.Dataset, img image.Image, p *renderParams) image.Image {
	g, ok := img.(*image.Gray)
	if !ok {
		return img
	}
	invert := strings.TrimSpace(ds.Str(dcm.TagPhotometricInterpretation)) == "MONOCHROME1"
	if !p.hasWindow && !invert {
		return g
	}
	vo := voi{c: 127.5, w: 256, fn: "LINEAR_EXACT", invert: invert}
	if p.hasWindow {
		vo.c, vo.w, vo.fn = p.center, p.width, p.function
	}
	var lut [256]uint8
	for i := range lut {
		lut[i] = vo.apply(float64(i))
	}
	out := image.NewGray(g.Rect)
	for i, v := range g.Pix {
		out.Pix[i] = lut[v]
	}
	return out
}

// fit scales img to fit within vw×vh keeping its aspect ratio (nearest
// neighbour after area averaging is overkill for previews).
func fit(img image.Image, vw, vh int) image.Image {
	if vw <= 0 || vh <= 0 {
		return img
	}
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	scale := math.Min(float64(vw)/float64(sw), float64(vh)/float64(sh))
	dw, dh := max(1, int(math.Round(float64(sw)*scale))), max(1, int(math.Round(float64(sh)*scale)))
	if dw == sw && dh == sh {
		return img
	}
	xs := make([]int, dw)
	for x := range xs {
		xs[x] = b.Min.X + min(sw-1, int((float64(x)+0.5)*float64(sw)/float64(dw)))
	}
	switch src := img.(type) {
	case *image.Gray:
		out := image.NewGray(image.Rect(0, 0, dw, dh))
		for y := range dh {
			sy := b.Min.Y + min(sh-1, int((float64(y)+0.5)*float64(sh)/float64(dh)))
			row := src.Pix[(sy-b.Min.Y)*src.Stride:]
			for x, sx := range xs {
				out.Pix[y*out.Stride+x] = row[sx-b.Min.X]
			}
		}
		return out
	default:
		out := image.NewRGBA(image.Rect(0, 0, dw, dh))
		for y := range dh {
			sy := b.Min.Y + min(sh-1, int((float64(y)+0.5)*float64(sh)/float64(dh)))
			for x, sx := range xs {
				out.Set(x, y, img.At(sx, sy))
			}
		}
		return out
	}
}
