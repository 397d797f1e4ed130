package dicomweb

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
	"lightbox/internal/gen"
	"lightbox/internal/query"
)

// FuzzParseQIDO: any query string yields a query or a 400, and the engine
// answers every parsed query without an internal error.
func FuzzParseQIDO(f *testing.F) {
	for _, s := range []string{"", "PatientName=DOE*", "00100010=a%25_b&fuzzymatching=true", "limit=-1", "StudyDate=2025-13-45",
		"StudyDate=20250101-20250131&StudyTime=0800-", "includefield=all,00081030&includefield=PatientAge", "offset=99999999999999999999",
		"StudyInstanceUID=1.2,3.4%5C5", "ModalitiesInStudy=CT%5CMR", "00081032.00080100=x", "SeriesNumber=1%5C2", "StudyTime=23:59:59.999999-",
		"PatientName=*%5C%5C", "AccessionNumber=%5B*", "NumberOfStudyRelatedInstances=3"} {
		f.Add(s)
	}
	insts := generate(f, gen.Options{Modality: "CT", Slices: 1, Patients: 1, Rows: 16, Columns: 16, Facility: "SGH"})
	envs := fuzzEnvs(f, func(e *env) { e.add("SGH", insts) })
	f.Fuzz(func(t *testing.T, raw string) {
		if v, err := url.ParseQuery(raw); err == nil {
			for _, lv := range []query.Level{query.Study, query.Series, query.Image} {
				_, _ = parseQIDO(v, lv, 100)
			}
		}
		for name, e := range envs {
			for _, path := range []string{"/dicomweb/studies?", "/dicomweb/series?", "/dicomweb/instances?"} {
				req := httptest.NewRequest("GET", "http://x"+path, nil)
				req.URL.RawQuery = raw
				req.Header.Set("Authorization", "Bearer tokA")
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
					t.Fatalf("%s: %s%q: %d %s", name, path, raw, rec.Code, rec.Body.Bytes())
				}
			}
		}
	})
}

// fuzzEnvs opens one environment per database dialect (dbtest.Databases:
// SQLite, and PostgreSQL when configured). A fuzz target cannot have
// subtests (dbtest.Each), so every input goes to each dialect in turn:
// query translation and the STOW-RS transaction differ between them.
func fuzzEnvs(f *testing.F, setup func(e *env)) map[string]*env {
	f.Helper()
	envs := map[string]*env{}
	for name, d := range dbtest.Databases(f) {
		e := newEnv(f, d)
		if setup != nil {
			setup(e)
		}
		envs[name] = e
	}
	return envs
}

// FuzzSTOW: any body yields a STOW-RS answer (200/202/400/409), never a 500
// or a panic.
func FuzzSTOW(f *testing.F) {
	insts := generate(f, gen.Options{Modality: "CT", Slices: 2, Patients: 1, Rows: 16, Columns: 16, Facility: "SGH"})
	// Small seeds keep the fuzzer's minimisation cheap (each exec stores
	// through the archive, fsync included).
	_, good := multipartBody(insts[0].data, insts[1].data)
	const boundary = "fuzzboundary"
	fix := func(b []byte) []byte {
		// Re-label the generated boundary with a fixed one.
		i := bytes.Index(b, []byte("\r\n"))
		if i < 2 {
			return b
		}
		old := b[2:i]
		return bytes.ReplaceAll(b, old, []byte(boundary))
	}
	good = fix(good)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:200])
	f.Add([]byte("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\nDICM\r\n--" + boundary + "--\r\n"))
	f.Add([]byte("--" + boundary + "\r\nContent-Type: text/plain\r\n\r\nhello\r\n--" + boundary + "--\r\n"))
	f.Add([]byte("--" + boundary + "--\r\n"))
	f.Add([]byte("garbage"))
	var qp bytes.Buffer
	qw := quotedprintable.NewWriter(&qp)
	_, _ = qw.Write(insts[0].data)
	_ = qw.Close()
	f.Add([]byte("--" + boundary + "\r\nContent-Type: application/dicom\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp.String() + "\r\n--" + boundary +
		"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=XYDICM\r\n--" + boundary + "--\r\n"))
	envs := fuzzEnvs(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, e := range envs {
			req := httptest.NewRequest("POST", "http://x/dicomweb/studies", bytes.NewReader(body))
			req.Header.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+boundary)
			req.Header.Set("Authorization", "Bearer tokA")
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			switch rec.Code {
			case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusConflict:
			default:
				t.Fatalf("%s: %d %s", name, rec.Code, rec.Body.Bytes())
			}
		}
	})
}

// FuzzSTOWParse fuzzes what STOW-RS does to a body before the database:
// the Content-Type check, the multipart reader and the DICOM parser, with
// no state between runs (FuzzSTOW's archive makes coverage vary from run
// to run, which keeps the fuzzer minimising rather than exploring).
func FuzzSTOWParse(f *testing.F) {
	insts := generate(f, gen.Options{Modality: "CT", Slices: 1, Patients: 1, Rows: 16, Columns: 16, Facility: "SGH"})
	ct, good := multipartBody(insts[0].data)
	f.Add(ct, good)
	f.Add(ct, good[:len(good)/2])
	f.Add(`multipart/related; type=application/dicom; boundary=b`, []byte("--b\r\n\r\nDICM\r\n--b--"))
	f.Add(`multipart/related; boundary="a b"`, []byte("--a b--"))
	f.Add(`text/plain`, []byte("x"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		boundary, _, err := parseStowType(ctype)
		if err != nil {
			return
		}
		mr := newPartReader(bytes.NewReader(body), boundary)
		for range 100 {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			_, _ = dcm.ReadFile(p, dcm.ReadOptions{})
			_, _ = io.Copy(io.Discard, p)
		}
	})
}
