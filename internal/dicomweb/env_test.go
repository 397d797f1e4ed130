package dicomweb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lightbox/internal/archive"
	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/gen"
	"lightbox/internal/query"
)

// testAuth maps bearer tokens to scopes: tokA sees SGH, tokB sees HBI.
func testAuth(r *http.Request) (query.Scope, error) {
	switch r.Header.Get("Authorization") {
	case "":
		return query.Scope{}, ErrNoCredentials
	case "Bearer tokA":
		return query.Scope{Facilities: []string{"SGH"}}, nil
	case "Bearer tokB":
		return query.Scope{Facilities: []string{"HBI"}}, nil
	case "Bearer admin":
		return query.Scope{All: true}, nil
	case "Bearer blocked":
		return query.Scope{}, ErrForbidden
	}
	return query.Scope{}, ErrNoCredentials
}

type stored struct {
	data                  []byte
	study, series, sop    string
	ts                    string
	pixels                []byte   // native pixel data, when native
	fragments             [][]byte // encapsulated frames, one fragment each
	rows, cols, numFrames int
}

type env struct {
	t     testing.TB
	h     *Handler
	srv   *httptest.Server
	a     *archive.Archive
	db    *db.DB
	insts map[string]*stored // by SOP Instance UID
	order []*stored
}

func newEnv(t testing.TB, d *db.DB, opts ...archive.Options) *env {
	t.Helper()
	b, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var o archive.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	a := archive.New(d, b, o)
	h, err := New(Options{Archive: a, Query: query.New(d), Authorize: testAuth})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); a.Close(); b.Close() })
	return &env{t: t, h: h, srv: srv, a: a, db: d, insts: map[string]*stored{}}
}

// generate returns generated instances without storing them.
func generate(t testing.TB, o gen.Options) []*stored {
	t.Helper()
	var out []*stored
	err := gen.Each(context.Background(), o, func(in *gen.Instance) error {
		data, err := gen.Encode(in)
		if err != nil {
			return err
		}
		s := &stored{data: data, study: in.StudyInstanceUID, series: in.SeriesInstanceUID, sop: in.SOPInstanceUID, ts: in.TransferSyntax,
			rows: in.Dataset.IntOr(dcm.TagRows, 0), cols: in.Dataset.IntOr(dcm.TagColumns, 0), numFrames: in.Dataset.IntOr(dcm.TagNumberOfFrames, 1)}
		px := in.Dataset.Get(dcm.TagPixelData)
		if px.Encapsulated != nil {
			for _, f := range px.Encapsulated[1:] {
				s.fragments = append(s.fragments, append([]byte(nil), f...))
			}
		} else {
			s.pixels = append([]byte(nil), px.Value...)
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// add stores instances through the archive for a facility.
func (e *env) add(facility string, insts []*stored) {
	e.t.Helper()
	for _, s := range insts {
		if _, err := e.a.Store(context.Background(), bytes.NewReader(s.data), archive.Source{Facility: facility}); err != nil {
			e.t.Fatal(err)
		}
		e.insts[s.sop] = s
		e.order = append(e.order, s)
	}
}

type resp struct {
	code int
	h    http.Header
	body []byte
}

func (e *env) do(method, path, token string, hdr map[string]string, body io.Reader) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// Let the test see raw gzip.
	req.Header.Set("Accept-Encoding", hdr["Accept-Encoding"])
	if hdr["Accept-Encoding"] == "" {
		req.Header.Del("Accept-Encoding")
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp{code: res.StatusCode, h: res.Header, body: b}
}

func (e *env) get(path, token string, hdr map[string]string) resp {
	e.t.Helper()
	return e.do("GET", path, token, hdr, nil)
}

// jsonArray decodes a DICOM JSON array.
func jsonArray(t testing.TB, b []byte) []map[string]map[string]any {
	t.Helper()
	var out []map[string]map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("not a DICOM JSON array: %v\n%.300s", err, b)
	}
	return out
}

// jsonStr reads DICOM JSON responses.
var jsonStr = dcm.JSONString

type part struct {
	header map[string][]string
	body   []byte
}

// parts splits a multipart/related response.
func parts(t testing.TB, r resp) []part {
	t.Helper()
	typ, params, err := mime.ParseMediaType(r.h.Get("Content-Type"))
	if err != nil || typ != "multipart/related" {
		t.Fatalf("not multipart/related: %q (%d: %.200s)", r.h.Get("Content-Type"), r.code, r.body)
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	var out []part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, part{header: p.Header, body: b})
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// multipartBody builds a STOW-RS body.
func multipartBody(items ...[]byte) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, it := range items {
		pw, _ := mw.CreatePart(map[string][]string{"Content-Type": {"application/dicom"}})
		_, _ = pw.Write(it)
	}
	_ = mw.Close()
	return `multipart/related; type="application/dicom"; boundary=` + mw.Boundary(), buf.Bytes()
}

func mustContain(t testing.TB, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%.400q does not contain %q", s, sub)
	}
}
