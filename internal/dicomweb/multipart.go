package dicomweb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// partReader reads a STOW-RS body's parts (RFC 2046 multipart), as
// mime/multipart.Reader does, with the same tolerance (a first boundary
// without a preceding CRLF, LF-only line endings, transport padding), but
// through one large buffer. mime/multipart reads through a 4 KiB buffer
// that it rescans from its end for every piece: for a 526 KB instance that
// was ≈ 130 reads of the body, 130 writes into the temporary blob and a
// byte-by-byte scan that took 17% of the server's CPU (bench/README.md,
// ingest). Here a part's Read hands over everything buffered up to the
// next possible delimiter, found with bytes.Index.
type partReader struct {
	br               *bufio.Reader
	nl               []byte // "\r\n", or "\n" once the first boundary line ends so
	nlDashBoundary   []byte // nl + "--" + boundary
	dashBoundary     []byte // "--" + boundary
	dashBoundaryDash []byte // "--" + boundary + "--"
	partsRead        int
	cur              *stowPart
	err              error // sticky: the body is unusable past it
}

// partBufferSize is the body's read buffer: a part's Read returns up to
// this much at a time.
const partBufferSize = 256 << 10

// Bounds on a part's header: STOW-RS parts carry a Content-Type and little
// else.
const (
	maxPartHeaderLines = 64
	maxPartHeaderBytes = 16 << 10
)

func newPartReader(r io.Reader, boundary string) *partReader {
	b := []byte("\r\n--" + boundary + "--")
	return &partReader{
		br:               bufio.NewReaderSize(r, partBufferSize),
		nl:               b[:2],
		nlDashBoundary:   b[:len(b)-2],
		dashBoundary:     b[2 : len(b)-2],
		dashBoundaryDash: b[2:],
	}
}

// stowPart is one part: its header and a reader of its body, decoded
// when its Content-Transfer-Encoding is quoted-printable (the header then
// removed), as mime/multipart's NextPart does; other encodings (base64)
// are left as they are, as there.
type stowPart struct {
	Header  textproto.MIMEHeader
	r       *partReader
	dec     io.Reader // the decoder of an encoded body, nil for a plain one
	total   int64     // body bytes returned so far
	n       int       // bytes at the buffer's head known to be body
	err     error     // what Read returns once n is spent (io.EOF: the delimiter is next)
	readErr error     // the body's error, once reading more failed
}

var errPartHeader = errors.New("multipart: malformed part header")

// NextPart returns the next part, io.EOF after the close delimiter.
// Whatever the previous part left unread is skipped.
func (r *partReader) NextPart() (*stowPart, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.cur != nil {
		if _, err := io.Copy(io.Discard, rawPart{r.cur}); err != nil {
			r.err = err
			return nil, err
		}
		r.cur = nil
	}
	expectNewPart := false
	for {
		line, err := r.br.ReadSlice('\n')
		if err == io.EOF && r.isFinalBoundary(line) {
			r.err = io.EOF
			return nil, io.EOF
		}
		if err != nil {
			r.err = fmt.Errorf("multipart: NextPart: %w", err)
			return nil, r.err
		}
		if r.isBoundaryDelimiterLine(line) {
			r.partsRead++
			h, err := r.readHeader()
			if err != nil {
				r.err = err
				return nil, err
			}
			r.cur = &stowPart{Header: h, r: r}
			const cte = "Content-Transfer-Encoding"
			if strings.EqualFold(h.Get(cte), "quoted-printable") {
				h.Del(cte)
				r.cur.dec = quotedprintable.NewReader(rawPart{r.cur})
			}
			return r.cur, nil
		}
		if r.isFinalBoundary(line) {
			r.err = io.EOF
			return nil, io.EOF
		}
		switch {
		case expectNewPart:
			r.err = fmt.Errorf("multipart: expecting a new part; got line %.40q", line)
			return nil, r.err
		case r.partsRead == 0:
			continue // the preamble
		case bytes.Equal(line, r.nl):
			// The line break before the delimiter, left by the part.
			expectNewPart = true
			continue
		}
		r.err = fmt.Errorf("multipart: unexpected line after a part: %.40q", line)
		return nil, r.err
	}
}

// readHeader reads a part's header fields up to the empty line (folded
// lines joined), within small bounds.
func (r *partReader) readHeader() (textproto.MIMEHeader, error) {
	h := textproto.MIMEHeader{}
	var last string
	size := 0
	for lines := 0; ; lines++ {
		line, err := r.br.ReadSlice('\n')
		size += len(line)
		if err != nil || lines > maxPartHeaderLines || size > maxPartHeaderBytes {
			return nil, errPartHeader
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return h, nil
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			v := h[last]
			v[len(v)-1] += " " + string(bytes.TrimSpace(line))
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 || bytes.ContainsAny(k, " \t") {
			return nil, errPartHeader
		}
		last = textproto.CanonicalMIMEHeaderKey(string(k))
		h.Add(last, string(bytes.TrimSpace(v)))
	}
}

func (r *partReader) isFinalBoundary(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dashBoundaryDash)
	if !ok {
		return false
	}
	rest = skipLWSP(rest)
	return len(rest) == 0 || bytes.Equal(rest, r.nl)
}

func (r *partReader) isBoundaryDelimiterLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, r.dashBoundary)
	if !ok {
		return false
	}
	rest = skipLWSP(rest)
	// Lines ending in LF alone on the first boundary switch the reader
	// to them (against RFC 2046, as senders do; mime/multipart too).
	if r.partsRead == 0 && len(rest) == 1 && rest[0] == '\n' {
		r.nl = r.nl[1:]
		r.nlDashBoundary = r.nlDashBoundary[1:]
	}
	return bytes.Equal(rest, r.nl)
}

func skipLWSP(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// Read returns the part's body, decoded. A body that does not decode
// fails its part alone: the error is returned once, the rest of the part
// skipped, and the next Read ends it, so the parts after it are read
// (with mime/multipart a caller skipping the part got the error again,
// and STOW-RS gave up on the rest of the request).
func (p *stowPart) Read(b []byte) (int, error) {
	if p.dec == nil {
		return p.readRaw(b)
	}
	n, err := p.dec.Read(b)
	if err != nil && err != io.EOF && p.r.err == nil {
		if _, serr := io.Copy(io.Discard, rawPart{p}); serr == nil {
			p.dec = eofReader{}
		}
	}
	return n, err
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// rawPart reads a part's body as sent.
type rawPart struct{ p *stowPart }

func (r rawPart) Read(b []byte) (int, error) { return r.p.readRaw(b) }

// readRaw returns the part's body up to the next delimiter, as much at a
// time as is buffered (mime/multipart's partReader.Read, over the larger
// buffer).
func (p *stowPart) readRaw(b []byte) (int, error) {
	br := p.r.br
	for p.n == 0 && p.err == nil {
		peek, _ := br.Peek(br.Buffered())
		p.n, p.err = scanUntilBoundary(peek, p.r.dashBoundary, p.r.nlDashBoundary, p.total, p.readErr)
		if p.n == 0 && p.err == nil {
			// Undecided (a delimiter may begin here): read more.
			_, p.readErr = br.Peek(len(peek) + 1)
			if p.readErr == io.EOF {
				p.readErr = io.ErrUnexpectedEOF
			}
		}
	}
	if p.n == 0 {
		if p.err != io.EOF {
			p.r.err = p.err // the body is cut or failed: no further part
		}
		return 0, p.err
	}
	n, _ := br.Read(b[:min(len(b), p.n)])
	p.total += int64(n)
	p.n -= n
	if p.n == 0 && p.err != io.EOF && p.err != nil {
		p.r.err = p.err
	}
	if p.n == 0 {
		return n, p.err
	}
	return n, nil
}

// scanUntilBoundary returns how many bytes of buf are body before a
// possible delimiter, with io.EOF when one follows them (or the body
// ended), as mime/multipart's function of that name; but only the last
// len(nlDashBoundary)-1 bytes are searched for the start of a delimiter cut
// off by the buffer's end, not the whole buffer from its end.
func scanUntilBoundary(buf, dashBoundary, nlDashBoundary []byte, total int64, readErr error) (int, error) {
	if total == 0 {
		// At the beginning of the body a delimiter needs no line break.
		if bytes.HasPrefix(buf, dashBoundary) {
			switch matchAfterPrefix(buf, dashBoundary, readErr) {
			case -1:
				return len(dashBoundary), nil
			case 0:
				return 0, nil
			case +1:
				return 0, io.EOF
			}
		}
		if bytes.HasPrefix(dashBoundary, buf) {
			return 0, readErr
		}
	}
	if i := bytes.Index(buf, nlDashBoundary); i >= 0 {
		switch matchAfterPrefix(buf[i:], nlDashBoundary, readErr) {
		case -1:
			return i + len(nlDashBoundary), nil
		case 0:
			return i, nil
		case +1:
			return i, io.EOF
		}
	}
	if bytes.HasPrefix(nlDashBoundary, buf) {
		return 0, readErr
	}
	// A delimiter cut off by the buffer's end starts in its last
	// len(nlDashBoundary)-1 bytes, at a line break.
	from := max(0, len(buf)-len(nlDashBoundary)+1)
	if i := bytes.LastIndexByte(buf[from:], nlDashBoundary[0]); i >= 0 && bytes.HasPrefix(nlDashBoundary, buf[from+i:]) {
		return from + i, nil
	}
	return len(buf), readErr
}

// matchAfterPrefix tells what follows a delimiter candidate at buf's head:
// +1 a delimiter, -1 body bytes, 0 more bytes needed.
func matchAfterPrefix(buf, prefix []byte, readErr error) int {
	if len(buf) == len(prefix) {
		if readErr != nil {
			return +1
		}
		return 0
	}
	c := buf[len(prefix)]
	if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
		return +1
	}
	if c == '-' {
		if len(buf) == len(prefix)+1 {
			if readErr != nil {
				return -1
			}
			return 0
		}
		if buf[len(prefix)+1] == '-' {
			return +1
		}
	}
	return -1
}
