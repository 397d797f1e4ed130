package dicomweb

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"lightbox/internal/archive"
	"lightbox/internal/blob"
	"lightbox/internal/dcm"
	"lightbox/internal/dcm/codec"
	"lightbox/internal/query"
)

// maxFrameList bounds how many frames one request may name.
const maxFrameList = 4096

// parseFrameList reads "1,3,5" (1-based frame numbers).
func parseFrameList(s string) ([]int, error) {
	fields := strings.Split(s, ",")
	if len(fields) > maxFrameList {
		return nil, fmt.Errorf("more than %d frames requested", maxFrameList)
	}
	out := make([]int, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("frame numbers are positive integers separated by commas, got %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// framePart is one body part: its media type and how to write it.
type framePart struct {
	length int64 // -1 when unknown
	write  func(w io.Writer) error
}

// frameSource gives access to an instance's frames.
type frameSource struct {
	in     *query.Instance
	obj    blob.Object
	ts     dcm.TransferSyntax // as stored
	frames []archive.Frame    // located ranges, or nil
	data   [][]byte           // frames held in memory (fallback)
	info   *codec.Info        // image attributes, read when decoding
}

// frameFormat is how frames go out: the parts' media type and transfer
// syntax, and whether frames are decoded on the way.
type frameFormat struct {
	mediaType, ts string
	decode        bool
}

// formats lists what this instance's frames can be sent as, preferred
// first: as stored (native data as Explicit VR Little Endian, big endian
// swapped), then decoded when this build has a decoder.
func (fs *frameSource) formats() []frameFormat {
	switch {
	case !fs.ts.Encapsulated && fs.ts.BigEndian:
		return []frameFormat{{mediaType: octetStream, ts: dcm.ExplicitVRLittleEndian, decode: true}}
	case !fs.ts.Encapsulated:
		return []frameFormat{{mediaType: octetStream, ts: dcm.ExplicitVRLittleEndian}}
	case codec.CanDecode(fs.ts.UID):
		return []frameFormat{{mediaType: fs.ts.MediaType, ts: fs.ts.UID}, {mediaType: octetStream, ts: dcm.ExplicitVRLittleEndian, decode: true}}
	}
	return []frameFormat{{mediaType: fs.ts.MediaType, ts: fs.ts.UID}}
}

const octetStream = "application/octet-stream"

// matchFormat picks the first candidate a part type and transfer-syntax
// parameter accept.
func matchFormat(pt, want string, cands []frameFormat) (frameFormat, bool) {
	octet := pt == octetStream
	for _, c := range cands {
		switch {
		case octet && want == "*":
			// OHIF's request: any syntax, named in each part's
			// Content-Type, as Orthanc and dcm4chee answer it.
			return frameFormat{mediaType: octetStream, ts: c.ts, decode: c.decode}, true
		case !typeMatches(pt, c.mediaType):
			continue
		case want == "*" || want == c.ts:
			return c, true
		case want == "" && (!octet || c.ts == dcm.ExplicitVRLittleEndian):
			// application/octet-stream defaults to Explicit VR Little
			// Endian; the image types to the syntax they were stored in.
			return c, true
		case c.mediaType == octetStream && c.ts == dcm.ExplicitVRLittleEndian && want == dcm.ImplicitVRLittleEndian:
			// Native frames are the same bytes in either syntax.
			c.ts = want
			return c, true
		}
	}
	return frameFormat{}, false
}

// openFrames opens an instance's frames: the located byte ranges, or for
// native data the index could not locate (deflated), the decoded pixels.
func (h *Handler) openFrames(r *http.Request, in *query.Instance) (*frameSource, int, error) {
	ts, ok := dcm.LookupTransferSyntax(in.TransferSyntax)
	if !ok {
		return nil, http.StatusNotAcceptable, fmt.Errorf("unknown transfer syntax %s", in.TransferSyntax)
	}
	obj, err := h.a.Open(r.Context(), in.Ref())
	if err != nil {
		return nil, http.StatusInternalServerError, fmt.Errorf("open instance blob: %w", err)
	}
	fs := &frameSource{in: in, obj: obj, ts: ts, frames: in.Frames}
	if fs.frames != nil {
		return fs, 0, nil
	}
	if ts.Encapsulated {
		obj.Close()
		return nil, http.StatusNotFound, fmt.Errorf("the frames of this instance cannot be told apart without decoding")
	}
	l, err := load(obj)
	if err != nil {
		obj.Close()
		return nil, http.StatusInternalServerError, err
	}
	ds := l.file.Dataset
	px := ds.Get(dcm.TagPixelData)
	if px == nil {
		obj.Close()
		return nil, http.StatusNotFound, fmt.Errorf("the instance has no pixel data")
	}
	v, err := l.value(px)
	if err != nil {
		obj.Close()
		return nil, http.StatusInternalServerError, err
	}
	size := ds.IntOr(dcm.TagRows, 0) * ds.IntOr(dcm.TagColumns, 0) * ds.IntOr(dcm.TagSamplesPerPixel, 1) * ds.IntOr(dcm.TagBitsAllocated, 16) / 8
	n := max(ds.IntOr(dcm.TagNumberOfFrames, 1), 1)
	if size <= 0 || size*n > len(v) {
		obj.Close()
		return nil, http.StatusNotFound, fmt.Errorf("pixel data does not hold %d frame(s)", n)
	}
	for i := range n {
		fs.data = append(fs.data, v[i*size:(i+1)*size])
	}
	return fs, 0, nil
}

func (fs *frameSource) count() int {
	if fs.frames != nil {
		return len(fs.frames)
	}
	return len(fs.data)
}

// part returns frame n (1-based).
func (fs *frameSource) part(n int) framePart {
	if fs.frames == nil {
		d := fs.data[n-1]
		return framePart{length: int64(len(d)), write: func(w io.Writer) error { _, err := w.Write(d); return err }}
	}
	fr := fs.frames[n-1]
	var total int64
	for _, rg := range fr {
		total += rg[1]
	}
	return framePart{length: total, write: func(w io.Writer) error {
		for _, rg := range fr {
			if err := copyRange(w, fs.obj, rg[0], rg[1]); err != nil {
				return err
			}
		}
		return nil
	}}
}

// decodedPart returns frame n decoded to native little endian.
func (fs *frameSource) decodedPart(n int) (framePart, error) {
	if fs.info == nil {
		l, err := load(fs.obj)
		if err != nil {
			return framePart{}, err
		}
		info := codec.InfoOf(l.file.Dataset)
		fs.info = &info
	}
	info := *fs.info
	return framePart{length: int64(info.FrameBytes()), write: func(w io.Writer) error {
		src, err := fs.read(n)
		if err != nil {
			return err
		}
		f, err := codec.Decode(fs.ts.UID, src, info)
		if err != nil {
			return err
		}
		_, err = w.Write(f.Data)
		return err
	}}, nil
}

// partAs returns frame n in format f.
func (fs *frameSource) partAs(n int, f frameFormat) (framePart, error) {
	if f.decode {
		return fs.decodedPart(n)
	}
	return fs.part(n), nil
}

// read returns frame n's bytes.
func (fs *frameSource) read(n int) ([]byte, error) {
	if fs.frames == nil {
		return fs.data[n-1], nil
	}
	p := fs.part(n)
	buf := make([]byte, 0, p.length)
	w := &sliceWriter{b: buf}
	err := p.write(w)
	return w.b, err
}

type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// negotiateParts picks the format of parts and whether to send them as
// multipart or, for one part, a bare body. ok is false for 406.
func negotiateParts(r *http.Request, cands []frameFormat, nparts int) (f frameFormat, multi, ok bool) {
	for _, m := range parseAccept(r) {
		switch {
		case m.typ == "multipart/related":
			if f, ok := matchFormat(m.partType(), m.params["transfer-syntax"], cands); ok {
				return f, true, true
			}
		case m.typ == "*/*" || m.typ == "multipart/*":
			return cands[0], true, true
		case nparts == 1:
			if f, ok := matchFormat(m.typ, m.params["transfer-syntax"], cands); ok {
				return f, false, true
			}
		}
	}
	return frameFormat{}, false, false
}

// serveParts writes parts as multipart/related (or one bare body).
func (h *Handler) serveParts(w http.ResponseWriter, r *http.Request, parts []framePart, f frameFormat, etag string, multi bool) {
	typ, ts := f.mediaType, f.ts
	compress := typ == octetStream && nativeLE(ts) // compressed frames do not shrink
	etag = strings.TrimSuffix(etag, `"`) + "-" + hashTag(typ, ts) + `"`
	hd := w.Header()
	hd.Set("Cache-Control", h.instanceCache())
	gz := compress && prefersGzip(r)
	if gz {
		etag = strings.TrimSuffix(etag, `"`) + `-gz"`
	}
	if notModified(w, r, etag) {
		return
	}
	ctype := typ + "; transfer-syntax=" + ts
	if !gz {
		hd.Add("Vary", "Accept-Encoding")
		h.servePlainParts(w, parts, typ, ctype, etag, multi)
		return
	}
	out, closeBody := body(w, r, gz)
	if !multi {
		hd.Set("Content-Type", ctype)
		w.WriteHeader(http.StatusOK)
		if err := parts[0].write(out); err != nil {
			return
		}
		_ = closeBody()
		return
	}
	boundary := "lightbox-" + hashTag(etag)
	hd.Set("Content-Type", `multipart/related; type="`+typ+`"; boundary=`+boundary)
	w.WriteHeader(http.StatusOK)
	mw := multipart.NewWriter(out)
	_ = mw.SetBoundary(boundary)
	for _, p := range parts {
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Type", ctype)
		if p.length >= 0 {
			ph.Set("Content-Length", strconv.FormatInt(p.length, 10))
		}
		pw, err := mw.CreatePart(ph)
		if err != nil {
			return
		}
		if err := p.write(pw); err != nil {
			h.log.Warn("dicomweb: frame response aborted", "error", err)
			panic(http.ErrAbortHandler)
		}
	}
	_ = mw.Close()
	_ = closeBody()
}

// servePlainParts writes parts uncompressed with a Content-Length, so
// net/http neither chunks nor buffers the body and a frame stored as one
// range of a file goes by sendfile (copyRange).
func (h *Handler) servePlainParts(w http.ResponseWriter, parts []framePart, typ, ctype, etag string, multi bool) {
	hd := w.Header()
	if !multi {
		hd.Set("Content-Type", ctype)
		hd.Set("Content-Length", contentLength(parts[0].length))
		w.WriteHeader(http.StatusOK)
		if err := parts[0].write(w); err != nil {
			h.log.Warn("dicomweb: frame response aborted", "error", err)
			panic(http.ErrAbortHandler)
		}
		return
	}
	fr := partFraming{boundary: "lightbox-" + hashTag(etag)}
	heads := make([]string, len(parts))
	total := int64(0)
	for i, p := range parts {
		heads[i] = fr.head("Content-Type", ctype, "Content-Length", contentLength(p.length))
		total += int64(len(heads[i])) + p.length
	}
	tail := fr.tail()
	total += int64(len(tail))
	hd.Set("Content-Type", `multipart/related; type="`+typ+`"; boundary=`+fr.boundary)
	hd.Set("Content-Length", contentLength(total))
	w.WriteHeader(http.StatusOK)
	for i, p := range parts {
		if _, err := io.WriteString(w, heads[i]); err != nil {
			return
		}
		if err := p.write(w); err != nil {
			h.log.Warn("dicomweb: frame response aborted", "error", err)
			panic(http.ErrAbortHandler)
		}
	}
	_, _ = io.WriteString(w, tail)
}

// frames serves WADO-RS frame retrieval: the stored byte ranges, or the
// frames decoded when the client asks for a syntax they are not stored in.
func (h *Handler) frames(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	list, err := parseFrameList(r.PathValue("frames"))
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	ins, ok := h.resolve(w, r, scope)
	if !ok {
		return
	}
	in := &ins[0]
	fs, code, err := h.openFrames(r, in)
	if err != nil {
		h.fail(w, r, code, err.Error())
		return
	}
	defer fs.obj.Close()
	for _, n := range list {
		if n > fs.count() {
			h.fail(w, r, http.StatusNotFound, fmt.Sprintf("frame %d does not exist; the instance has %d", n, fs.count()))
			return
		}
	}
	cands := fs.formats()
	f, multi, ok := negotiateParts(r, cands, len(list))
	if !ok {
		h.fail(w, r, http.StatusNotAcceptable, "frames of this instance are available as "+describe(cands))
		return
	}
	parts := make([]framePart, len(list))
	for i, n := range list {
		if parts[i], err = fs.partAs(n, f); err != nil {
			h.internal(w, r, err)
			return
		}
	}
	mode := "m"
	if !multi {
		mode = "s"
	}
	etag := etagOf(in.SHA256, "f"+r.PathValue("frames"), mode)
	h.serveParts(w, r, parts, f, etag, multi)
}

func describe(cands []frameFormat) string {
	var out []string
	for _, c := range cands {
		out = append(out, c.mediaType+"; transfer-syntax="+c.ts)
	}
	return strings.Join(out, " or ")
}

// bulk serves BulkDataURIs: Pixel Data (as frames for compressed data)
// and any other top-level bulk value.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	ts := r.PathValue("tag")
	tv, err := strconv.ParseUint(ts, 16, 32)
	if err != nil || len(ts) != 8 {
		h.fail(w, r, http.StatusNotFound, "bulk data tags are eight hex digits")
		return
	}
	tag := dcm.Tag(tv)
	ins, ok := h.resolve(w, r, scope)
	if !ok {
		return
	}
	in := &ins[0]
	if tag == dcm.TagPixelData && in.Frames != nil {
		fs, code, err := h.openFrames(r, in)
		if err != nil {
			h.fail(w, r, code, err.Error())
			return
		}
		defer fs.obj.Close()
		cands := fs.formats()
		n := fs.count()
		if !fs.ts.Encapsulated {
			n = 1 // one part: all frames, the Pixel Data value
		}
		f, multi, ok := negotiateParts(r, cands, n)
		if !ok {
			h.fail(w, r, http.StatusNotAcceptable, "pixel data of this instance is available as "+describe(cands))
			return
		}
		all := make([]framePart, fs.count())
		for i := range all {
			if all[i], err = fs.partAs(i+1, f); err != nil {
				h.internal(w, r, err)
				return
			}
		}
		parts := all
		if !fs.ts.Encapsulated {
			var total int64
			for _, p := range all {
				total += p.length
			}
			parts = []framePart{{length: total, write: func(w io.Writer) error {
				for _, p := range all {
					if err := p.write(w); err != nil {
						return err
					}
				}
				return nil
			}}}
		}
		h.serveParts(w, r, parts, f, etagOf(in.SHA256, "b"+ts, strconv.FormatBool(multi)), multi)
		return
	}
	obj, err := h.a.Open(r.Context(), in.Ref())
	if err != nil {
		h.internal(w, r, err)
		return
	}
	defer obj.Close()
	l, err := load(obj)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	e := l.file.Dataset.Get(tag)
	if e == nil || e.Bulk == nil || e.VR == "SQ" {
		h.fail(w, r, http.StatusNotFound, "no bulk data for "+ts)
		return
	}
	v, err := l.value(e)
	if err != nil {
		h.fail(w, r, http.StatusNotFound, "bulk data "+ts+" cannot be served: "+err.Error())
		return
	}
	f, multi, ok := negotiateParts(r, []frameFormat{{mediaType: octetStream, ts: dcm.ExplicitVRLittleEndian}}, 1)
	if !ok {
		h.fail(w, r, http.StatusNotAcceptable, "bulk data is available as application/octet-stream")
		return
	}
	part := framePart{length: int64(len(v)), write: func(w io.Writer) error { _, err := w.Write(v); return err }}
	h.serveParts(w, r, []framePart{part}, f, etagOf(in.SHA256, "b"+ts, strconv.FormatBool(multi)), multi)
}
