package dicomweb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"mime/quotedprintable"
	"strings"
	"testing"
	"testing/iotest"

	"lightbox/internal/db/dbtest"
	"lightbox/internal/gen"
)

// partsOutcome is what a multipart reader made of a body: each part's
// Content-Type and body, and whether the body ended cleanly.
type partsOutcome struct {
	types  []string
	bodies [][]byte
	clean  bool // io.EOF after the close delimiter
	hdrErr bool // a part header was refused
}

func (o partsOutcome) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "clean=%v hdrErr=%v parts=%d", o.clean, o.hdrErr, len(o.bodies))
	for i := range o.bodies {
		fmt.Fprintf(&b, " [%q %d %.40q]", o.types[i], len(o.bodies[i]), o.bodies[i])
	}
	return b.String()
}

func readOurs(r io.Reader, boundary string) partsOutcome {
	mr := newPartReader(r, boundary)
	return readParts(func() (string, io.Reader, error) {
		p, err := mr.NextPart()
		if err != nil {
			return "", nil, err
		}
		return p.Header.Get("Content-Type"), p, nil
	}, func(err error) bool { return errors.Is(err, errPartHeader) })
}

func readStd(r io.Reader, boundary string) partsOutcome {
	mr := multipart.NewReader(r, boundary)
	return readParts(func() (string, io.Reader, error) {
		p, err := mr.NextPart()
		if err != nil {
			return "", nil, err
		}
		return p.Header.Get("Content-Type"), p, nil
	}, func(err error) bool { return strings.Contains(err.Error(), "header") }) // textproto's refusals
}

// readParts reads parts from next until the end or an error.
func readParts(next func() (string, io.Reader, error), isHeaderErr func(error) bool) partsOutcome {
	var o partsOutcome
	for range 1000 {
		ct, body, err := next()
		if err == io.EOF {
			o.clean = true
			return o
		}
		if err != nil {
			o.hdrErr = isHeaderErr(err)
			return o
		}
		b, err := io.ReadAll(body)
		o.types = append(o.types, ct)
		o.bodies = append(o.bodies, b)
		if err != nil {
			return o
		}
	}
	return o
}

func sameParts(a, b partsOutcome) bool {
	if a.hdrErr || b.hdrErr {
		return true // header syntax: each reader its own rules
	}
	if a.clean != b.clean || len(a.bodies) != len(b.bodies) {
		return false
	}
	for i := range a.bodies {
		if a.types[i] != b.types[i] || !bytes.Equal(a.bodies[i], b.bodies[i]) {
			return false
		}
	}
	return true
}

// genBody builds a multipart body (parts of up to maxPart bytes) with the awkward cases: bodies holding
// partial delimiters, LF line endings, preamble, padding, epilogue, cuts.
func genBody(rng *rand.Rand, boundary string, maxPart int) []byte {
	nl := "\r\n"
	if rng.IntN(6) == 0 {
		nl = "\n"
	}
	var b bytes.Buffer
	if rng.IntN(3) == 0 {
		b.WriteString("preamble line" + nl + "--" + boundary + "x" + nl)
	}
	n := rng.IntN(4)
	for i := range n {
		if i > 0 || b.Len() > 0 {
			b.WriteString(nl)
		}
		b.WriteString("--" + boundary)
		if rng.IntN(4) == 0 {
			b.WriteString(" \t")
		}
		b.WriteString(nl + "Content-Type: application/dicom" + nl)
		if rng.IntN(4) == 0 {
			b.WriteString("X-Other: a" + nl + " folded" + nl)
		}
		// Quoted-printable: encoded, or raw bytes that do not decode.
		qp := rng.IntN(4)
		if qp > 0 {
			b.WriteString("Content-Transfer-Encoding: " + []string{"", "quoted-printable", "Quoted-Printable", "quoted-printable"}[qp] + nl)
		}
		b.WriteString(nl)
		size := rng.IntN(maxPart)
		if rng.IntN(2) == 0 {
			size = rng.IntN(min(200, maxPart))
		}
		body := make([]byte, size)
		for j := range body {
			body[j] = byte(rng.IntN(256))
		}
		// Sprinkle near-delimiters into the body.
		for range rng.IntN(6) {
			if len(body) == 0 {
				break
			}
			at := rng.IntN(len(body))
			near := []string{"\r\n--" + boundary[:rng.IntN(len(boundary))], "\r\n--" + boundary + "x", "\n--" + boundary + "-x", "\r\n-", "\r"}[rng.IntN(5)]
			copy(body[at:], near)
		}
		if qp > 1 {
			var enc bytes.Buffer
			w := quotedprintable.NewWriter(&enc)
			w.Binary = rng.IntN(2) == 0
			_, _ = w.Write(body)
			_ = w.Close()
			body = enc.Bytes()
		}
		b.Write(body)
	}
	b.WriteString(nl + "--" + boundary + "--")
	if rng.IntN(2) == 0 {
		b.WriteString(nl + "epilogue")
	}
	out := b.Bytes()
	if rng.IntN(4) == 0 {
		out = out[:rng.IntN(len(out)+1)]
	}
	return out
}

// The part reader agrees with mime/multipart on what each part holds and
// whether the body ended cleanly, whatever pieces the body arrives in.
func TestPartReaderMatchesMimeMultipart(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		boundary := fmt.Sprintf("b%dxyz%d", i, rng.IntN(1e6))
		body := genBody(rng, boundary, 3*partBufferSize/2)
		want := readStd(bytes.NewReader(body), boundary)
		for _, r := range []io.Reader{bytes.NewReader(body), iotest.HalfReader(bytes.NewReader(body)), iotest.DataErrReader(bytes.NewReader(body))} {
			if got := readOurs(r, boundary); !sameParts(got, want) {
				t.Fatalf("case %d (%d bytes): got %v, want %v", i, len(body), got, want)
			}
		}
		if len(body) < 20000 {
			if got := readOurs(iotest.OneByteReader(bytes.NewReader(body)), boundary); !sameParts(got, want) {
				t.Fatalf("case %d one byte at a time: got %v, want %v", i, got, want)
			}
		}
	}
}

// A part's header is bounded: a client cannot make the server hold an
// endless header line.
func TestPartReaderBoundsHeader(t *testing.T) {
	long := "--b\r\nContent-Type: " + string(bytes.Repeat([]byte("a"), partBufferSize+10)) + "\r\n\r\nx\r\n--b--"
	if _, err := newPartReader(bytes.NewReader([]byte(long)), "b").NextPart(); !errors.Is(err, errPartHeader) {
		t.Fatalf("long header: %v", err)
	}
	var many bytes.Buffer
	many.WriteString("--b\r\n")
	for range 100 {
		many.WriteString("X: y\r\n")
	}
	many.WriteString("\r\nx\r\n--b--")
	if _, err := newPartReader(&many, "b").NextPart(); !errors.Is(err, errPartHeader) {
		t.Fatalf("many header lines: %v", err)
	}
}

// FuzzPartReader: for any body, the part reader and mime/multipart agree.
func FuzzPartReader(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		f.Add(genBody(rng, "fz", 300))
	}
	f.Add([]byte("--fz\r\n\r\n--fz--"))
	f.Add([]byte("--fz\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nDI=43M=00=\r\n=FF\r\n--fz\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=G0\r\n--fz--"))
	f.Add([]byte("--fz\n\nabc\n--fz--\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		want := readStd(bytes.NewReader(body), "fz")
		if got := readOurs(iotest.HalfReader(bytes.NewReader(body)), "fz"); !sameParts(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

// A STOW-RS part sent quoted-printable is decoded (as mime/multipart's
// NextPart did); one that does not decode fails alone, and the parts
// after it are stored.
func TestSTOWQuotedPrintable(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	insts := generate(t, gen.Options{Modality: "CT", Slices: 2, Patients: 1, Rows: 16, Columns: 16, Facility: "SGH"})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part := func(cte string, body []byte) {
		pw, _ := mw.CreatePart(map[string][]string{"Content-Type": {"application/dicom"}, "Content-Transfer-Encoding": {cte}})
		_, _ = pw.Write(body)
	}
	var enc bytes.Buffer
	qw := quotedprintable.NewWriter(&enc)
	qw.Binary = true
	_, _ = qw.Write(insts[0].data)
	_ = qw.Close()
	if bytes.Equal(enc.Bytes(), insts[0].data) {
		t.Fatal("the encoding changed nothing")
	}
	part("quoted-printable", enc.Bytes())
	part("quoted-printable", []byte("=ZZ not quoted-printable"))
	part("binary", insts[1].data)
	_ = mw.Close()
	r := e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": `multipart/related; type="application/dicom"; boundary=` + mw.Boundary()}, &buf)
	if r.code != 202 {
		t.Fatalf("store: %d %s", r.code, r.body)
	}
	if n := strings.Count(string(r.body), `"00081150"`); n != 2 {
		t.Fatalf("%d stored: %s", n, r.body)
	}
	mustContain(t, string(r.body), "00081198")
	for _, in := range insts {
		if r := e.get(instPath(in), "tokA", nil); r.code != 200 || !bytes.Equal(parts(t, r)[0].body, in.data) {
			t.Fatalf("%s: %d, not the bytes sent", in.sop, r.code)
		}
	}
}
