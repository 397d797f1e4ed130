package dicomweb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"strings"
	"testing"
	"testing/iotest"
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
	f.Add([]byte("--fz\n\nabc\n--fz--\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		want := readStd(bytes.NewReader(body), "fz")
		if got := readOurs(iotest.HalfReader(bytes.NewReader(body)), "fz"); !sameParts(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}
