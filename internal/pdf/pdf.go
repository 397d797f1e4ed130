package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"time"
)

// Font selects one of the two standard fonts.
type Font uint8

// Fonts.
const (
	Regular Font = iota // Helvetica
	Bold                // Helvetica-Bold
)

// US Letter in points, with 0.75 inch margins.
const (
	LetterWidth   = 612.0
	LetterHeight  = 792.0
	DefaultMargin = 54.0
)

type opKind uint8

const (
	opText opKind = iota
	opRule
)

type op struct {
	kind       opKind
	font       Font
	size, x, y float64
	x2         float64
	text       []byte // WinAnsi
}

// Doc is a document being laid out top to bottom. The zero value is not
// usable: call New.
type Doc struct {
	Title   string
	Author  string
	Subject string
	// Created is written to the document information dictionary; zero
	// leaves it out.
	Created time.Time
	// Footer is printed at the bottom left of every page, "Page i of n" at
	// the bottom right.
	Footer string

	width, height, margin float64
	pages                 [][]op
	y                     float64 // baseline cursor on the current page
}

// New returns an empty US Letter document.
func New(title string) *Doc {
	d := &Doc{Title: title, width: LetterWidth, height: LetterHeight, margin: DefaultMargin}
	d.NewPage()
	return d
}

// NewPage starts a new page.
func (d *Doc) NewPage() {
	d.pages = append(d.pages, nil)
	d.y = d.height - d.margin
}

// Pages returns the number of pages so far.
func (d *Doc) Pages() int { return len(d.pages) }

func (d *Doc) bottom() float64 { return d.margin + 24 } // room for the footer

// TextWidth returns the width of s in points.
func TextWidth(f Font, size float64, s string) float64 {
	return widthOf(f, size, encodeWinAnsi(s))
}

func widthOf(f Font, size float64, b []byte) float64 {
	w := 0
	for _, c := range b {
		w += glyphWidth(f, c)
	}
	return float64(w) * size / 1000
}

// Wrap breaks text into lines no wider than width: at spaces when it can,
// inside a word when the word alone is too wide. Newlines end lines; an
// empty line stays empty.
func Wrap(f Font, size float64, text string, width float64) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			out = append(out, "")
			continue
		}
		cur := ""
		for _, w := range words {
			cand := w
			if cur != "" {
				cand = cur + " " + w
			}
			if TextWidth(f, size, cand) <= width {
				cur = cand
				continue
			}
			if cur != "" {
				out = append(out, cur)
				cur = ""
			}
			// Break a word wider than the line.
			for TextWidth(f, size, w) > width {
				n := 1
				for n < len(w) && TextWidth(f, size, w[:n+1]) <= width {
					n++
				}
				for n > 1 && !utf8Start(w[n]) {
					n--
				}
				out = append(out, w[:n])
				w = w[n:]
			}
			cur = w
		}
		out = append(out, cur)
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// ensure starts a new page unless h points fit above the bottom margin.
func (d *Doc) ensure(h float64) {
	if d.y-h < d.bottom() {
		d.NewPage()
	}
}

// Ensure keeps the next h points together on one page.
func (d *Doc) Ensure(h float64) { d.ensure(h) }

func (d *Doc) add(o op) { d.pages[len(d.pages)-1] = append(d.pages[len(d.pages)-1], o) }

func leading(size float64) float64 { return size * 1.3 }

// Paragraph writes wrapped text across the full text width.
func (d *Doc) Paragraph(f Font, size float64, text string) { d.Indented(f, size, 0, text) }

// Indented writes wrapped text starting indent points from the left margin.
func (d *Doc) Indented(f Font, size, indent float64, text string) {
	for _, l := range Wrap(f, size, text, d.width-2*d.margin-indent) {
		d.ensure(leading(size))
		d.y -= leading(size)
		if l != "" {
			d.add(op{kind: opText, font: f, size: size, x: d.margin + indent, y: d.y, text: encodeWinAnsi(l)})
		}
	}
}

// Centered writes one centred line per text line (wrapped if too wide).
func (d *Doc) Centered(f Font, size float64, text string) {
	for _, l := range Wrap(f, size, text, d.width-2*d.margin) {
		d.ensure(leading(size))
		d.y -= leading(size)
		w := TextWidth(f, size, l)
		d.add(op{kind: opText, font: f, size: size, x: (d.width - w) / 2, y: d.y, text: encodeWinAnsi(l)})
	}
}

// Pair writes a bold label followed by its value, the value wrapped in a
// column that starts labelWidth points from the margin.
func (d *Doc) Pair(size, labelWidth float64, label, value string) {
	lines := Wrap(Regular, size, value, d.width-2*d.margin-labelWidth)
	for i, l := range lines {
		d.ensure(leading(size))
		d.y -= leading(size)
		if i == 0 {
			d.add(op{kind: opText, font: Bold, size: size, x: d.margin, y: d.y, text: encodeWinAnsi(label)})
		}
		if l != "" {
			d.add(op{kind: opText, font: Regular, size: size, x: d.margin + labelWidth, y: d.y, text: encodeWinAnsi(l)})
		}
	}
}

// Space moves the cursor down by pt points.
func (d *Doc) Space(pt float64) {
	if d.y-pt < d.bottom() {
		d.NewPage()
		return
	}
	d.y -= pt
}

// Rule draws a thin horizontal line across the text width.
func (d *Doc) Rule() {
	d.ensure(8)
	d.y -= 4
	d.add(op{kind: opRule, x: d.margin, x2: d.width - d.margin, y: d.y})
	d.y -= 4
}

// escape writes a PDF literal string.
func escape(b *bytes.Buffer, s []byte) {
	b.WriteByte('(')
	for _, c := range s {
		switch {
		case c == '(' || c == ')' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(')')
}

func num(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-0" {
		return "0"
	}
	return s
}

func (d *Doc) content(i int) []byte {
	var b bytes.Buffer
	ops := d.pages[i]
	footer := []op{{kind: opRule, x: d.margin, x2: d.width - d.margin, y: d.margin + 14}}
	if d.Footer != "" {
		footer = append(footer, op{kind: opText, font: Regular, size: 8, x: d.margin, y: d.margin, text: encodeWinAnsi(d.Footer)})
	}
	pg := fmt.Sprintf("Page %d of %d", i+1, len(d.pages))
	footer = append(footer, op{kind: opText, font: Regular, size: 8, x: d.width - d.margin - TextWidth(Regular, 8, pg), y: d.margin, text: []byte(pg)})
	for _, o := range append(ops[:len(ops):len(ops)], footer...) {
		switch o.kind {
		case opText:
			fmt.Fprintf(&b, "BT /F%d %s Tf %s %s Td ", int(o.font)+1, num(o.size), num(o.x), num(o.y))
			escape(&b, o.text)
			b.WriteString(" Tj ET\n")
		case opRule:
			fmt.Fprintf(&b, "0.5 w %s %s m %s %s l S\n", num(o.x), num(o.y), num(o.x2), num(o.y))
		}
	}
	return b.Bytes()
}

func infoString(b *bytes.Buffer, key, v string) {
	if v == "" {
		return
	}
	b.WriteString(" /" + key + " ")
	escape(b, encodeWinAnsi(v))
}

// Bytes renders the document.
func (d *Doc) Bytes() []byte {
	var out bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	n := len(d.pages)
	kids := make([]string, n)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 6+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
	var info bytes.Buffer
	info.WriteString("<< /Producer (Lightbox)")
	infoString(&info, "Title", d.Title)
	infoString(&info, "Author", d.Author)
	infoString(&info, "Subject", d.Subject)
	if !d.Created.IsZero() {
		infoString(&info, "CreationDate", "D:"+d.Created.UTC().Format("20060102150405")+"Z")
	}
	info.WriteString(" >>")
	obj(info.String())
	for i := range d.pages {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>",
			num(d.width), num(d.height), 7+2*i))
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		_, _ = zw.Write(d.content(i))
		_ = zw.Close()
		offsets = append(offsets, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", len(offsets), z.Len())
		out.Write(z.Bytes())
		out.WriteString("\nendstream\nendobj\n")
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return out.Bytes()
}
