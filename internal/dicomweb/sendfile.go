package dicomweb

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"lightbox/internal/query"
)

// prefersGzip reports whether the client ranks gzip above the identity
// coding (RFC 9110 12.5.3): "gzip;q=1, identity;q=0.5", or identity
// refused outright. A bare "gzip" (every browser, Go's client) leaves
// identity acceptable at q=1, and then uncompressed pixel data goes plain:
// native 16-bit CT deflates by about a quarter at BestSpeed (pydicom's
// CT_small.dcm: 0.74) for milliseconds of CPU per 512 KB frame, more than
// the frame takes on a LAN (bench/README.md, DICOMweb).
func prefersGzip(r *http.Request) bool {
	gz, id, star := codingQ(r)
	if gz < 0 {
		gz = star
	}
	if id < 0 {
		id = 1
		if star == 0 {
			id = 0 // "*;q=0" without identity refuses it too
		}
	}
	return gz > 0 && gz > id
}

// codingQ reads the q-values Accept-Encoding gives gzip, identity and
// "*" (-1 when not named).
func codingQ(r *http.Request) (gz, id, star float64) {
	gz, id, star = -1, -1, -1
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := qvalue(params)
		switch name = strings.TrimSpace(name); {
		case strings.EqualFold(name, "gzip"):
			gz = q
		case strings.EqualFold(name, "identity"):
			id = q
		case name == "*":
			star = q
		}
	}
	return gz, id, star
}

// partFraming writes multipart/related framing exactly as
// mime/multipart.Writer does, but with lengths known in advance, so a
// response of parts of known size carries a Content-Length: net/http then
// does not chunk it, and a part copied from a file goes by sendfile.
type partFraming struct {
	boundary string
	n        int // parts begun
}

// head returns the delimiter and header lines before a part. hdr holds
// header name/value pairs in the order written.
func (f *partFraming) head(hdr ...string) string {
	s := "--" + f.boundary + "\r\n"
	if f.n > 0 {
		s = "\r\n" + s
	}
	f.n++
	for i := 0; i+1 < len(hdr); i += 2 {
		s += hdr[i] + ": " + hdr[i+1] + "\r\n"
	}
	return s + "\r\n"
}

// appendHead appends the delimiter and header lines before a part of
// whole instances (head's, in mime/multipart's sorted order, built
// without a string per line: a series has thousands of parts). length < 0
// leaves Content-Length out.
func (f *partFraming) appendHead(dst []byte, base string, in *query.Instance, ts string, length int64) []byte {
	if f.n > 0 {
		dst = append(dst, "\r\n"...)
	}
	f.n++
	dst = append(append(append(dst, "--"...), f.boundary...), "\r\n"...)
	if length >= 0 {
		dst = strconv.AppendInt(append(dst, "Content-Length: "...), length, 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(append(dst, "Content-Location: "...), base...)
	dst = append(append(dst, "/studies/"...), in.StudyUID...)
	dst = append(append(dst, "/series/"...), in.SeriesUID...)
	dst = append(append(dst, "/instances/"...), in.SOPInstanceUID...)
	dst = append(append(dst, "\r\nContent-Type: application/dicom; transfer-syntax="...), ts...)
	return append(dst, "\r\n\r\n"...)
}

// tail is the close delimiter.
func (f *partFraming) tail() string { return "\r\n--" + f.boundary + "--\r\n" }

// copyRange copies n bytes of obj from off to w. When obj is a file and
// w (or a writer it wraps: http.ResponseController's Unwrap convention)
// takes a ReaderFrom, the bytes go by sendfile where net/http can (a body
// with Content-Length over plain TCP); otherwise through a pooled buffer.
func copyRange(w io.Writer, obj io.ReaderAt, off, n int64) error {
	if sk, ok := obj.(io.ReadSeeker); ok {
		if _, file := obj.(syscall.Conn); file {
			if rf := readerFrom(w); rf != nil {
				if _, err := sk.Seek(off, io.SeekStart); err != nil {
					return err
				}
				m, err := rf.ReadFrom(&io.LimitedReader{R: sk, N: n})
				if err == nil && m < n {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
	}
	buf := copyBufs.Get().(*[64 << 10]byte)
	defer copyBufs.Put(buf)
	m, err := io.CopyBuffer(writerOnly{w}, io.NewSectionReader(obj, off, n), buf[:])
	if err == nil && m < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// writerOnly hides a ReaderFrom so io.CopyBuffer uses the buffer given.
type writerOnly struct{ io.Writer }

// readerFrom finds an io.ReaderFrom in w or the writers it wraps.
func readerFrom(w io.Writer) io.ReaderFrom {
	for range 8 {
		if rf, ok := w.(io.ReaderFrom); ok {
			return rf
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// contentLength formats a Content-Length value.
func contentLength(n int64) string { return strconv.FormatInt(n, 10) }
