package dicomweb

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"lightbox/internal/dcm"
	"lightbox/internal/query"
)

// qidoParams is a parsed QIDO-RS query string.
type qidoParams struct {
	q        query.Query
	ignored  []string // parameters accepted but not used (sequence paths)
	capped   bool     // the limit was lowered to MaxResults
	hasLimit bool
}

// paramError is a bad query parameter (400).
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

// parseQIDO reads QIDO-RS query parameters (PS3.18 8.3.4) for a level.
func parseQIDO(v url.Values, level query.Level, maxResults int) (*qidoParams, error) {
	p := &qidoParams{q: query.Query{Level: level, Match: map[dcm.Tag]string{}}}
	for key, vals := range v {
		switch strings.ToLower(key) {
		case "limit":
			n, err := strconv.Atoi(lastOf(vals))
			if err != nil || n <= 0 {
				return nil, &paramError{fmt.Sprintf("limit must be a positive integer, got %q", lastOf(vals))}
			}
			p.q.Limit, p.hasLimit = n, true
		case "offset":
			n, err := strconv.Atoi(lastOf(vals))
			if err != nil || n < 0 {
				return nil, &paramError{fmt.Sprintf("offset must be a non-negative integer, got %q", lastOf(vals))}
			}
			p.q.Offset = n
		case "fuzzymatching":
			b, err := strconv.ParseBool(lastOf(vals))
			if err != nil {
				return nil, &paramError{fmt.Sprintf("fuzzymatching must be true or false, got %q", lastOf(vals))}
			}
			p.q.Fuzzy = b
		case "includefield":
			for _, val := range vals {
				for _, f := range strings.Split(val, ",") {
					f = strings.TrimSpace(f)
					switch {
					case f == "":
					case strings.EqualFold(f, "all"):
						p.q.IncludeAll = true
					default:
						t, err := parseAttr(f)
						if err != nil {
							return nil, err
						}
						p.q.Return = append(p.q.Return, t)
					}
				}
			}
		case "accept", "charset", "count":
			// Format parameters (PS3.18 8.3.3) that change nothing here.
		default:
			if strings.Contains(key, ".") {
				// Sequence attribute paths: matching inside sequences is not supported.
				p.ignored = append(p.ignored, key)
				continue
			}
			t, err := parseAttr(key)
			if err != nil {
				return nil, err
			}
			val := strings.Join(vals, `\`)
			if dcm.VROf(t) == "UI" {
				val = strings.ReplaceAll(val, ",", `\`)
			}
			if len(val) > 1024 {
				return nil, &paramError{fmt.Sprintf("value of %s is too long", key)}
			}
			p.q.Match[t] = val
		}
	}
	if p.q.Limit == 0 || p.q.Limit > maxResults {
		p.capped = p.q.Limit > maxResults
		p.q.Limit = maxResults
	}
	return p, nil
}

func lastOf(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[len(vals)-1]
}

// parseAttr reads an attribute keyword or tag, refusing group 0002 and
// item tags.
func parseAttr(s string) (dcm.Tag, error) {
	t, err := dcm.ParseTag(s)
	if err != nil || t.Group() == 0x0002 || t.Group() == 0xFFFE || t.Group() == 0xFFFC || t.Element() == 0 && t.Group() != 0 {
		return 0, &paramError{fmt.Sprintf("unknown attribute %q", s)}
	}
	if t == 0 {
		return 0, &paramError{fmt.Sprintf("unknown attribute %q", s)}
	}
	return t, nil
}

func (h *Handler) searchStudies(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	h.search(w, r, scope, query.Study)
}

func (h *Handler) searchSeries(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	h.search(w, r, scope, query.Series)
}

func (h *Handler) searchInstances(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	h.search(w, r, scope, query.Image)
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request, scope query.Scope, level query.Level) {
	p, err := parseQIDO(r.URL.Query(), level, h.opt.MaxResults)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if !acceptsJSON(r) {
		h.fail(w, r, http.StatusNotAcceptable, "QIDO-RS answers application/dicom+json only")
		return
	}
	if s := r.PathValue("study"); s != "" {
		p.q.Match[dcm.TagStudyInstanceUID] = s
	}
	if s := r.PathValue("series"); s != "" {
		p.q.Match[dcm.TagSeriesInstanceUID] = s
	}
	p.q.Scope = scope
	// The instance list of one series (or study), asked for as is (what a
	// viewer asks first), is kept like series metadata: checked on every
	// request by one aggregate over the index rows, rebuilt when an
	// instance of the series is stored, replaced or deleted. Only index columns of the
	// instance rows and the path's UIDs are in it: attributes of the
	// patient or study (which change without the instance rows changing)
	// are not.
	base := h.base(r)
	key, cacheable := qidoCacheKey(r, p, level, base)
	var ver query.MetaVersion
	if cacheable {
		var err error
		ver, err = h.q.MetaVersionOf(r.Context(), scope, query.Target{StudyUID: r.PathValue("study"), SeriesUID: r.PathValue("series")})
		if err != nil {
			h.internal(w, r, err)
			return
		}
		cacheable = ver.N > 0
		if e := h.metas.get(key, ver); cacheable && e != nil {
			if e.warning != "" {
				w.Header().Add("Warning", e.warning)
			}
			w.Header().Set("Cache-Control", "private, no-cache")
			serveJSON(w, r, e, "application/dicom+json")
			return
		}
	}
	// The whole answer is written into one pooled buffer while the rows
	// are read (the database connection is not held while a client reads),
	// each result from a data set the query reuses, with one RetrieveURL
	// element refilled per result.
	buf := jsonBufs.Get().(*bytes.Buffer)
	defer putJSONBuf(buf)
	buf.Reset()
	buf.WriteByte('[')
	url := &dcm.Element{Tag: query.TagRetrieveURL, VR: "UR"}
	n := 0
	res, err := h.q.FindEach(r.Context(), p.q, func(ds *dcm.Dataset) error {
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		url.Value = appendRetrieveURL(url.Value[:0], base, level, ds)
		ds.Put(url)
		dcm.AppendJSON(buf, ds, dcm.JSONOptions{SkipMeta: true})
		return nil
	})
	if err != nil {
		var ke *query.KeyError
		if errors.As(err, &ke) {
			h.fail(w, r, http.StatusBadRequest, err.Error())
			return
		}
		h.internal(w, r, err)
		return
	}
	buf.WriteByte(']')
	var warnings []string
	for _, t := range res.Unsupported {
		warnings = append(warnings, "matching on "+attrName(t)+" is not supported and was ignored")
	}
	for _, k := range p.ignored {
		warnings = append(warnings, "sequence matching ("+k+") is not supported and was ignored")
	}
	if res.More {
		warnings = append(warnings, fmt.Sprintf("the number of results exceeded the limit; use offset=%d for more", p.q.Offset+n))
	}
	for i, msg := range warnings {
		warnings[i] = `299 lightbox "` + strings.ReplaceAll(msg, `"`, "'") + `"`
		w.Header().Add("Warning", warnings[i])
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/dicom+json")
	hd.Set("Cache-Control", "private, no-cache")
	if cacheable && len(warnings) <= 1 {
		// The version read before the rows may be older than they are: the
		// entry is then rebuilt by the next request, never served stale.
		e := &metaEntry{ver: ver, body: bytes.Clone(buf.Bytes())}
		if len(warnings) == 1 {
			e.warning = warnings[0]
		}
		h.metas.put(key, e)
	}
	out, closeBody := body(w, r, true)
	w.WriteHeader(http.StatusOK)
	_, _ = out.Write(buf.Bytes())
	_ = closeBody()
}

// qidoCacheKey is the cache key of a search for the instances of one
// series or study with nothing but paging asked (ok false for any other
// search).
func qidoCacheKey(r *http.Request, p *qidoParams, level query.Level, base string) (key string, ok bool) {
	study, series := r.PathValue("study"), r.PathValue("series")
	if level != query.Image || study == "" || !dcm.ValidUID(study) || series != "" && !dcm.ValidUID(series) ||
		len(p.q.Return) > 0 || p.q.IncludeAll || len(p.ignored) > 0 {
		return "", false
	}
	for t := range p.q.Match {
		if t != dcm.TagStudyInstanceUID && t != dcm.TagSeriesInstanceUID { // the path's, set by search
			return "", false
		}
	}
	return "qido\x00" + base + "\x00" + study + "\x00" + series + "\x00" + strconv.Itoa(p.q.Limit) + "\x00" + strconv.Itoa(p.q.Offset), true
}

// jsonBufs hold QIDO-RS responses while they are written (up to
// MaxResults results: a 1,000-instance answer is about 600 KB).
var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putJSONBuf(b *bytes.Buffer) {
	if b.Cap() <= 8<<20 {
		jsonBufs.Put(b)
	}
}

func attrName(t dcm.Tag) string {
	if k := dcm.Keyword(t); k != "" {
		return k
	}
	return t.Hex()
}

// appendRetrieveURL appends the WADO-RS URL of a QIDO result to dst.
func appendRetrieveURL(dst []byte, base string, level query.Level, ds *dcm.Dataset) []byte {
	dst = append(dst, base...)
	dst = append(append(dst, "/studies/"...), firstUID(ds, dcm.TagStudyInstanceUID)...)
	if level >= query.Series {
		dst = append(append(dst, "/series/"...), firstUID(ds, dcm.TagSeriesInstanceUID)...)
	}
	if level >= query.Image {
		dst = append(append(dst, "/instances/"...), firstUID(ds, dcm.TagSOPInstanceUID)...)
	}
	return dst
}

// firstUID is the first value of a UI element, without copying it.
func firstUID(ds *dcm.Dataset, t dcm.Tag) []byte {
	e := ds.Get(t)
	if e == nil {
		return nil
	}
	v, _, _ := bytes.Cut(e.Value, []byte{'\\'})
	return bytes.TrimRight(v, "\x00 ")
}

// acceptsJSON reports whether the Accept header allows application/dicom+json.
func acceptsJSON(r *http.Request) bool {
	for _, m := range parseAccept(r) {
		if typeMatches(m.typ, "application/dicom+json") || m.typ == "application/json" {
			return true
		}
	}
	return false
}
