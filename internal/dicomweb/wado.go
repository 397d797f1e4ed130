package dicomweb

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"lightbox/internal/blob"
	"lightbox/internal/dcm"
	"lightbox/internal/query"
)

// target reads the UIDs of a WADO-RS path.
func target(r *http.Request) query.Target {
	return query.Target{StudyUID: r.PathValue("study"), SeriesUID: r.PathValue("series"), SOPInstanceUID: r.PathValue("instance")}
}

func (h *Handler) resolve(w http.ResponseWriter, r *http.Request, scope query.Scope) ([]query.Instance, bool) {
	return h.resolveWith(w, r, scope, h.q.Instances)
}

// resolveWith is resolve with the query to run: Engine.Files where the
// frame offsets are not needed.
func (h *Handler) resolveWith(w http.ResponseWriter, r *http.Request, scope query.Scope,
	find func(context.Context, query.Scope, query.Target) ([]query.Instance, error)) ([]query.Instance, bool) {
	t := target(r)
	for _, u := range []string{t.StudyUID, t.SeriesUID, t.SOPInstanceUID} {
		if u != "" && !dcm.ValidUID(u) {
			h.fail(w, r, http.StatusNotFound, "no such study, series or instance")
			return nil, false
		}
	}
	h.resolved.Add(1)
	ins, err := find(r.Context(), scope, t)
	if err != nil {
		h.internal(w, r, err)
		return nil, false
	}
	if len(ins) == 0 {
		h.fail(w, r, http.StatusNotFound, "no such study, series or instance")
		return nil, false
	}
	return ins, true
}

// filesEntry is query.Files, kept for a whole study or series like its
// metadata: one aggregate over the index rows (query.MetaVersionOf)
// instead of a thousand rows read and sorted. A single instance is
// resolved each time (its one row costs less than the check): its entry
// has no key and is not kept.
func (h *Handler) filesEntry(ctx context.Context, scope query.Scope, t query.Target) (*metaEntry, error) {
	if t.SOPInstanceUID != "" {
		ins, err := h.q.Files(ctx, scope, t)
		return &metaEntry{files: ins}, err
	}
	ver, err := h.q.MetaVersionOf(ctx, scope, t)
	if err != nil || ver.N == 0 {
		return &metaEntry{}, err
	}
	key := "files\x00" + t.StudyUID + "\x00" + t.SeriesUID
	if e := h.metas.get(key, ver); e != nil {
		return e, nil
	}
	ins, err := h.q.Files(ctx, scope, t)
	if err != nil {
		return nil, err
	}
	// Rows newer than ver make the next request read them again, never
	// serve fewer.
	e := &metaEntry{ver: ver, files: ins, key: key}
	h.metas.put(key, e)
	return e, nil
}

// tsChoice is what an Accept entry asks of application/dicom parts: a
// transfer syntax UID, "*" (as stored), or "" (the default).
type tsChoice struct {
	ts     string
	single bool // bare application/dicom: a single-part body
}

// dicomChoices reads the acceptable transfer syntaxes for application/dicom.
func dicomChoices(r *http.Request) []tsChoice {
	var out []tsChoice
	for _, m := range parseAccept(r) {
		switch {
		case m.typ == "multipart/related" && typeMatches(m.partType(), "application/dicom"):
			out = append(out, tsChoice{ts: m.params["transfer-syntax"]})
		case m.typ == "application/dicom":
			out = append(out, tsChoice{ts: m.params["transfer-syntax"], single: true})
		case m.typ == "*/*" || m.typ == "multipart/*" || m.typ == "application/*":
			out = append(out, tsChoice{ts: ""})
		}
	}
	return out
}

// nativeLE can be transcoded to and from by re-encoding the data set.
func nativeLE(uid string) bool {
	switch uid {
	case dcm.ImplicitVRLittleEndian, dcm.ExplicitVRLittleEndian, dcm.DeflatedExplicitVRLittleEndian:
		return true
	}
	return false
}

// decideTS picks the transfer syntax to send an instance in: "" means the
// stored bytes. ok is false when no choice can be met.
func decideTS(stored string, c tsChoice) (string, bool) {
	switch {
	case c.ts == "*" || c.ts == stored:
		return "", true
	case c.ts == "":
		// Default: Explicit VR Little Endian (PS3.18 8.7.3.5.2) for native
		// data; compressed data is sent as stored rather than inflated.
		if (nativeLE(stored) || stored == dcm.ExplicitVRBigEndian) && stored != dcm.ExplicitVRLittleEndian {
			return dcm.ExplicitVRLittleEndian, true
		}
		return "", true
	case transcodable(stored, c.ts):
		return c.ts, true
	}
	return "", false
}

// retrieve serves WADO-RS study, series and instance retrieval.
func (h *Handler) retrieve(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	choices := dicomChoices(r)
	var fe *metaEntry
	withFrames := false
	ins, ok := h.resolveWith(w, r, scope, func(ctx context.Context, scope query.Scope, t query.Target) ([]query.Instance, error) {
		if t.SOPInstanceUID != "" && slices.ContainsFunc(choices, func(c tsChoice) bool { return c.ts != "*" }) {
			// One row, which a transcoding needs with its frame offsets:
			// read with them now rather than read again.
			withFrames = true
			ins, err := h.q.Instances(ctx, scope, t)
			fe = &metaEntry{files: ins}
			return ins, err
		}
		e, err := h.filesEntry(ctx, scope, t)
		if err != nil {
			return nil, err
		}
		fe = e
		return e.files, nil
	})
	if !ok {
		return
	}
	plan := make([]string, len(ins))
	var chosen *tsChoice
	for ci := range choices {
		c := choices[ci]
		if c.single && len(ins) != 1 {
			continue
		}
		all := true
		for i, in := range ins {
			ts, ok := decideTS(in.TransferSyntax, c)
			if !ok {
				all = false
				break
			}
			plan[i] = ts
		}
		if all {
			chosen = &c
			break
		}
	}
	if chosen == nil {
		h.fail(w, r, http.StatusNotAcceptable, "none of the accepted media types and transfer syntaxes can be provided; stored: "+storedSyntaxes(ins))
		return
	}
	asStored := !slices.ContainsFunc(plan, func(ts string) bool { return ts != "" })
	if !asStored && !withFrames {
		// Transcoding reads frames by their offsets: the rows again, with them.
		again, ok := h.resolve(w, r, scope)
		if !ok {
			return
		}
		if !slices.EqualFunc(ins, again, func(a, b query.Instance) bool { return a.SHA256 == b.SHA256 && a.TransferSyntax == b.TransferSyntax }) {
			h.internal(w, r, errors.New("retrieve: the instances changed while being read"))
			return
		}
		ins = again
	}
	parts := make([]string, 0, 2*len(ins))
	for i, in := range ins {
		parts = append(parts, in.SHA256, plan[i])
	}
	tag := hashTag(parts...)
	etag := etagOf(tag)
	if len(ins) == 1 && plan[0] == "" {
		etag = etagOf(ins[0].SHA256)
	}
	hd := w.Header()
	if r.PathValue("instance") != "" {
		hd.Set("Cache-Control", h.instanceCache())
	} else {
		hd.Set("Cache-Control", "private, no-cache")
	}
	if chosen.single {
		etag = etagOf(tag, "single")
	}
	if notModified(w, r, etag) {
		return
	}
	ctx := r.Context()
	if chosen.single {
		in := ins[0]
		ts := plan[0]
		src, err := h.openInstance(r, &in)
		if err != nil {
			h.internal(w, r, err)
			return
		}
		defer src.close()
		if ts == "" {
			ts = in.TransferSyntax
			hd.Set("Content-Length", strconv.FormatInt(src.size(), 10))
		}
		hd.Set("Content-Type", `application/dicom; transfer-syntax=`+ts)
		if err := src.write(w, &in, plan[0]); err != nil {
			h.log.Warn("dicomweb: retrieve aborted", "error", err)
		}
		return
	}
	boundary := "lightbox-" + tag
	hd.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+boundary)
	// Parts are small and many (headers, prefix, bytes): gathered here,
	// they reach the connection in large writes instead of a chunk each.
	bw := writerBufs.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		writerBufs.Put(bw)
	}()
	fr := partFraming{boundary: boundary}
	base := h.base(r)
	if asStored && fe.prefixes != nil {
		h.sendKnown(w, r, bw, ins, fe.prefixes, &fr, base)
		return
	}
	// Otherwise each blob's first bytes tell its prefix: learnt here for
	// the next request, which can then send a Content-Length.
	var learnt []int32
	if asStored && fe.key != "" {
		learnt = make([]int32, len(ins))
	}
	head := make([]byte, 0, 512)
	for i := range ins {
		if ctx.Err() != nil {
			return
		}
		in := &ins[i]
		ts := plan[i]
		src, err := h.openInstance(r, in)
		if err != nil {
			h.log.Warn("dicomweb: retrieve aborted", "sop_class", in.SOPClassUID, "error", err)
			panic(http.ErrAbortHandler)
		}
		length := int64(-1)
		if ts == "" {
			ts, length = in.TransferSyntax, src.size()
		}
		if learnt != nil {
			learnt[i] = int32(len(src.prefix))
			if src.obj.Size() != in.Size {
				learnt = nil // the length could not be told from the index
			}
		}
		head = fr.appendHead(head[:0], base, in, ts, length)
		if _, err := bw.Write(head); err != nil {
			src.close()
			return
		}
		err = src.write(bw, in, plan[i])
		src.close()
		if err != nil {
			// Headers are gone: abort the response so the client sees a
			// broken body rather than a silently short one.
			h.log.Warn("dicomweb: retrieve aborted", "sop_class", in.SOPClassUID, "error", err)
			panic(http.ErrAbortHandler)
		}
	}
	_, _ = io.WriteString(bw, fr.tail())
	_ = bw.Flush()
	if learnt != nil {
		h.metas.put(fe.key, &metaEntry{ver: fe.ver, files: fe.files, key: fe.key, prefixes: learnt})
	}
}

// sendAbove is the part size from which a part's stored bytes go by
// sendfile (the gathered bytes before it flushed first) rather than
// through the gathering buffer: below it, the two system calls cost more
// than copying the bytes. (The folder store keeps the bytes of blobs below
// the same size in memory, so they have no file to sendfile from anyway.)
const sendAbove = 16 << 10

// sendKnown sends whole instances, stored as they were received, whose
// prefixes are known (learnt by an earlier request): the response's length
// is then known before its first byte, so net/http neither chunks it nor
// copies it, and parts of files go by sendfile where the connection can.
// No blob is read to tell its prefix, nor asked for its size (an fstat
// per instance): the index's is the length promised, and a blob shorter
// than that aborts the response when its read comes up short.
func (h *Handler) sendKnown(w http.ResponseWriter, r *http.Request, bw *bufio.Writer, ins []query.Instance, prefixes []int32, fr *partFraming, base string) {
	total := int64(len(fr.tail()))
	head := make([]byte, 0, 512)
	count := partFraming{boundary: fr.boundary}
	for i := range ins {
		in := &ins[i]
		head = count.appendHead(head[:0], base, in, in.TransferSyntax, int64(prefixes[i])+in.Size)
		total += int64(len(head)) + int64(prefixes[i]) + in.Size
	}
	w.Header().Set("Content-Length", contentLength(total))
	rf := readerFrom(w)
	buf := copyBufs.Get().(*[64 << 10]byte)
	defer copyBufs.Put(buf)
	abort := func(in *query.Instance, err error) {
		h.log.Warn("dicomweb: retrieve aborted", "sop_class", in.SOPClassUID, "error", err)
		panic(http.ErrAbortHandler)
	}
	for i := range ins {
		if r.Context().Err() != nil {
			return
		}
		in := &ins[i]
		prefix, err := prefixOf(in, prefixes[i])
		if err != nil {
			abort(in, err)
		}
		obj, err := h.a.Open(r.Context(), in.Ref())
		if err != nil {
			abort(in, fmt.Errorf("open instance blob: %w", err))
		}
		head = fr.appendHead(head[:0], base, in, in.TransferSyntax, int64(len(prefix))+in.Size)
		_, _ = bw.Write(head)
		_, _ = bw.Write(prefix)
		_, file := obj.(syscall.Conn)
		if file && rf != nil && in.Size >= sendAbove {
			// A fresh file is read from its start: no seek.
			if err = bw.Flush(); err == nil {
				var n int64
				n, err = rf.ReadFrom(&io.LimitedReader{R: obj, N: in.Size})
				if err == nil && n < in.Size {
					err = io.ErrUnexpectedEOF
				}
			}
		} else if in.Size <= int64(bw.Size()) {
			err = readInto(bw, obj, int(in.Size))
		} else {
			var n int64
			n, err = io.CopyBuffer(writerOnly{bw}, io.NewSectionReader(obj, 0, in.Size), buf[:])
			if err == nil && n < in.Size {
				err = io.ErrUnexpectedEOF
			}
		}
		obj.Close()
		if err != nil {
			abort(in, err)
		}
	}
	_, _ = io.WriteString(bw, fr.tail())
	_ = bw.Flush()
}

// readInto reads the n bytes of obj, n at most bw's size, straight into
// bw's free space (flushed first if they do not fit): one copy, where a
// copy through a buffer made two and cost a SectionReader.
func readInto(bw *bufio.Writer, obj io.ReaderAt, n int) error {
	if bw.Available() < n {
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	b := bw.AvailableBuffer()[:n]
	m, err := obj.ReadAt(b, 0)
	if m < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	_, err = bw.Write(b)
	return err
}

// prefixOf rebuilds the prefix openInstance found for an instance from
// its length alone: none, the preamble, the preamble and "DICM", or the
// generated meta header.
func prefixOf(in *query.Instance, n int32) ([]byte, error) {
	switch n {
	case 0:
		return nil, nil
	case 128:
		return make([]byte, 128), nil
	case 132:
		return append(make([]byte, 128), "DICM"...), nil
	}
	var b bytes.Buffer
	if err := dcm.WriteHeader(&b, dcm.NewMeta(in.SOPClassUID, in.SOPInstanceUID, in.TransferSyntax, "")); err != nil {
		return nil, err
	}
	if b.Len() != int(n) {
		return nil, fmt.Errorf("generated meta header of %d bytes, learnt as %d", b.Len(), n)
	}
	return b.Bytes(), nil
}

// writerBufs gather the parts of whole-study and whole-series responses.
var writerBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 256<<10) }}

// storedInstance is an opened blob and, for an instance stored without
// preamble or meta information, the prefix that makes it a Part 10 file.
// Its first bytes, read to tell which prefix, are kept for the copy (one
// read fewer per instance of a series).
type storedInstance struct {
	obj    blob.Object
	prefix []byte
	buf    *[64 << 10]byte
	first  []byte // the blob's first bytes, in buf
}

func (s *storedInstance) size() int64 { return int64(len(s.prefix)) + s.obj.Size() }

func (s *storedInstance) close() {
	s.obj.Close()
	copyBufs.Put(s.buf)
}

// copyBufs serve the copies of whole instances: a multipart part writer
// has no ReadFrom, and io.Copy would allocate 32 KiB per instance (a
// series of 1,000 small instances allocated 32 MB per request).
var copyBufs = sync.Pool{New: func() any { return new([64 << 10]byte) }}

// openInstance opens an instance's blob and works out its prefix: the
// data set bytes are served as received, behind a preamble and (when the
// sender sent none) a generated meta header, since application/dicom is a
// Part 10 file (PS3.18 8.7.3.5).
func (h *Handler) openInstance(r *http.Request, in *query.Instance) (*storedInstance, error) {
	obj, err := h.a.Open(r.Context(), in.Ref())
	if err != nil {
		return nil, fmt.Errorf("open instance blob: %w", err)
	}
	s := &storedInstance{obj: obj, buf: copyBufs.Get().(*[64 << 10]byte)}
	n, _ := obj.ReadAt(s.buf[:], 0) // a failed read shows in the copy
	s.first = s.buf[:n]
	head := s.first[:min(n, 132)]
	switch {
	case n >= 132 && string(head[128:]) == "DICM":
	case n >= 4 && string(head[:4]) == "DICM":
		s.prefix = make([]byte, 128)
	case n >= 2 && head[0] == 0x02 && head[1] == 0x00:
		s.prefix = append(make([]byte, 128), "DICM"...)
	default:
		var b bytes.Buffer
		if err := dcm.WriteHeader(&b, dcm.NewMeta(in.SOPClassUID, in.SOPInstanceUID, in.TransferSyntax, "")); err != nil {
			s.close()
			return nil, err
		}
		s.prefix = b.Bytes()
	}
	return s, nil
}

// write copies the stored bytes (ts == "") or a transcoded copy.
func (s *storedInstance) write(w io.Writer, in *query.Instance, ts string) error {
	if ts != "" {
		return transcode(w, s.obj, in.Frames, ts)
	}
	if _, err := w.Write(s.prefix); err != nil {
		return err
	}
	if _, err := w.Write(s.first); err != nil {
		return err
	}
	off := int64(len(s.first))
	if off >= s.obj.Size() {
		return nil
	}
	_, err := io.CopyBuffer(w, io.NewSectionReader(s.obj, off, s.obj.Size()-off), s.buf[:])
	return err
}

func storedSyntaxes(ins []query.Instance) string {
	seen := map[string]bool{}
	var out []string
	for _, in := range ins {
		if !seen[in.TransferSyntax] {
			seen[in.TransferSyntax] = true
			out = append(out, in.TransferSyntax)
		}
	}
	return strings.Join(out, ", ")
}

var placeholder = []byte("{{dicomweb}}")

// metadata serves the precomputed DICOM JSON of the instances of a study,
// series or instance, never opening a file.
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	h.serveMetadata(w, r, scope, false)
}

// sharedMetadata serves a series' metadata in Lightbox's own compact form
// (not DICOMweb; docs/conformance.md): the attributes every instance has
// with the same value once, then each instance's others,
//
//	{"shared": {"00280010": {...}, ...}, "instances": [{"00080018": {...}, ...}, ...]}
//
// in the order of …/metadata. Merged, each instance is exactly its DICOM
// JSON there. Lightbox's viewer asks for it first: a 1,000-slice CT is
// 3.8 MB of DICOM JSON, almost all of it repeated, which the browser had
// to parse on the page's thread before the first image.
func (h *Handler) sharedMetadata(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	h.serveMetadata(w, r, scope, true)
}

func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request, scope query.Scope, shared bool) {
	t := target(r)
	for _, u := range []string{t.StudyUID, t.SeriesUID, t.SOPInstanceUID} {
		if u != "" && !dcm.ValidUID(u) {
			h.fail(w, r, http.StatusNotFound, "no such study, series or instance")
			return
		}
	}
	if !acceptsJSON(r) {
		h.fail(w, r, http.StatusNotAcceptable, "metadata is available as application/dicom+json only")
		return
	}
	ver, err := h.q.MetaVersionOf(r.Context(), scope, t)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	if ver.N == 0 {
		h.fail(w, r, http.StatusNotFound, "no such study, series or instance")
		return
	}
	base := h.base(r)
	if ver.N > metaStreamAbove {
		if shared {
			// Assembled whole in memory: a series this large is left to
			// the streamed standard form.
			h.fail(w, r, http.StatusNotAcceptable, "series too large for the shared form: use …/metadata")
			return
		}
		h.streamMetadata(w, r, scope, base)
		return
	}
	// Visibility is all or nothing per study (the scope names facilities
	// and studies), so the version query's scope check covers the entry.
	key := base + "\x00" + t.StudyUID + "\x00" + t.SeriesUID + "\x00" + t.SOPInstanceUID
	if shared {
		key += "\x00shared"
	}
	e := h.metas.get(key, ver)
	if e == nil {
		if e, err = h.buildMetadata(r, scope, t, base, ver, shared); err != nil {
			h.internal(w, r, err)
			return
		}
		if e == nil {
			h.fail(w, r, http.StatusNotFound, "no such study, series or instance")
			return
		}
		h.metas.put(key, e)
	}
	hd := w.Header()
	hd.Set("Cache-Control", "private, no-cache")
	if notModified(w, r, e.etag) {
		return
	}
	ctype := "application/dicom+json"
	if shared {
		ctype = "application/json"
	}
	serveJSON(w, r, e, ctype)
}

// serveJSON sends a cached JSON body, gzipped when the client takes gzip.
func serveJSON(w http.ResponseWriter, r *http.Request, e *metaEntry, ctype string) {
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Add("Vary", "Accept-Encoding")
	b := e.body
	if acceptsGzip(r) {
		// Compressed once per entry: most clients ask for gzip (Go's and
		// browsers' by default), and compressing megabytes of JSON took
		// most of a warm request's time.
		b = e.gzipped()
		hd.Set("Content-Encoding", "gzip")
	}
	// Known length: no chunked encoding for megabytes of JSON.
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// buildMetadata assembles the metadata response of a target (nil when no
// instance is visible) and its ETag, in the shared form when asked.
func (h *Handler) buildMetadata(r *http.Request, scope query.Scope, t query.Target, base string, ver query.MetaVersion, shared bool) (*metaEntry, error) {
	metas, err := h.q.Metas(r.Context(), scope, t)
	if err != nil || len(metas) == 0 {
		return nil, err
	}
	parts := make([]string, 0, len(metas)+1)
	parts = append(parts, base)
	size := 2
	for _, m := range metas {
		parts = append(parts, m.SOPInstanceUID+"/"+m.SHA256)
		size += len(m.JSON) + 1
	}
	baseJSON := []byte(strings.Trim(string(mustJSON(base)), `"`))
	var body []byte
	if shared {
		parts = append(parts, "shared")
		b, err := sharedForm(metas, baseJSON)
		if err != nil {
			return nil, err
		}
		body = b
	} else {
		buf := bytes.NewBuffer(make([]byte, 0, size+size/8))
		buf.WriteByte('[')
		for n, m := range metas {
			if n > 0 {
				buf.WriteByte(',')
			}
			appendMeta(buf, m.JSON, baseJSON)
		}
		buf.WriteByte(']')
		body = buf.Bytes()
	}
	// The version read before the rows may be older than they are: the
	// entry is then rebuilt once more by the next request, never served stale.
	return &metaEntry{ver: ver, etag: etagOf(hashTag(parts...)), body: body}, nil
}

// sharedForm writes the instances' DICOM JSON in the shared form
// (sharedMetadata): an attribute goes to "shared" when every instance has
// it with byte-for-byte the same value.
func sharedForm(metas []query.Meta, baseJSON []byte) ([]byte, error) {
	objs := make([]map[string]json.RawMessage, len(metas))
	var one bytes.Buffer
	for i, m := range metas {
		one.Reset()
		appendMeta(&one, m.JSON, baseJSON)
		if err := json.Unmarshal(one.Bytes(), &objs[i]); err != nil {
			return nil, fmt.Errorf("instance %s metadata: %w", m.SOPInstanceUID, err)
		}
	}
	common := map[string]bool{}
	if len(objs) > 0 {
	tags:
		for k, v := range objs[0] {
			for _, o := range objs[1:] {
				if w, ok := o[k]; !ok || !bytes.Equal(v, w) {
					continue tags
				}
			}
			common[k] = true
		}
	}
	var out bytes.Buffer
	// writeObject writes o's attributes that common holds (or lacks) in
	// tag order, as DICOM JSON orders them.
	writeObject := func(o map[string]json.RawMessage, inCommon bool) {
		keys := make([]string, 0, len(o))
		for k := range o {
			if common[k] == inCommon {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		out.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(strconv.Quote(k))
			out.WriteByte(':')
			out.Write(o[k])
		}
		out.WriteByte('}')
	}
	out.WriteString(`{"shared":`)
	if len(objs) > 0 {
		writeObject(objs[0], true)
	} else {
		out.WriteString("{}")
	}
	out.WriteString(`,"instances":[`)
	for i, o := range objs {
		if i > 0 {
			out.WriteByte(',')
		}
		writeObject(o, false)
	}
	out.WriteString("]}")
	return out.Bytes(), nil
}

// appendMeta appends one instance's stored JSON with its BulkDataURIs'
// placeholder replaced by the service's base URL.
func appendMeta(buf *bytes.Buffer, meta, baseJSON []byte) {
	for {
		i := bytes.Index(meta, placeholder)
		if i < 0 {
			buf.Write(meta)
			return
		}
		buf.Write(meta[:i])
		buf.Write(baseJSON)
		meta = meta[i+len(placeholder):]
	}
}

// metaStreamAbove is the size (instances) above which a target's metadata
// streams from the index instead of being assembled and cached: memory per
// request stays bounded whatever the series. A variable for tests.
var metaStreamAbove = 5000

// streamMetadata serves the metadata of a large target: the index rows,
// sorted by the database, go out in 256 KiB writes.
func (h *Handler) streamMetadata(w http.ResponseWriter, r *http.Request, scope query.Scope, base string) {
	ins, ok := h.resolveWith(w, r, scope, h.q.Files)
	if !ok {
		return
	}
	parts := make([]string, 0, len(ins)+1)
	parts = append(parts, base)
	for _, in := range ins {
		parts = append(parts, in.SOPInstanceUID+"/"+in.SHA256)
	}
	etag := etagOf(hashTag(parts...))
	hd := w.Header()
	hd.Set("Cache-Control", "private, no-cache")
	if notModified(w, r, etag) {
		return
	}
	baseJSON := []byte(strings.Trim(string(mustJSON(base)), `"`))
	hd.Set("Content-Type", "application/dicom+json")
	out, closeBody := body(w, r, true)
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteByte('[')
	n := 0
	_, err := h.q.EachMeta(r.Context(), scope, target(r), func(_ string, meta []byte) error {
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		appendMeta(&buf, meta, baseJSON)
		if buf.Len() >= 256<<10 {
			if _, err := out.Write(buf.Bytes()); err != nil {
				return err
			}
			buf.Reset()
		}
		return nil
	})
	if err != nil {
		h.log.Warn("dicomweb: metadata aborted", "error", err)
		panic(http.ErrAbortHandler)
	}
	buf.WriteByte(']')
	_, _ = out.Write(buf.Bytes())
	_ = closeBody()
}
