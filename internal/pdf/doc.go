// Package pdf is a small, dependency-free PDF 1.4 writer for text
// documents: the standard Helvetica and Helvetica-Bold fonts (no embedding,
// WinAnsi encoding), word wrapping, automatic page breaks, horizontal rules
// and a footer with page numbers.
//
// Output is deterministic: the same calls produce the same bytes (no
// random document ID; the creation date is whatever Doc.Created says, and
// is left out when zero), so a rendered report can be hashed and compared.
//
// Usage:
//
//	d := pdf.New("Report")
//	d.Paragraph(pdf.Bold, 14, "Title")
//	d.Paragraph(pdf.Regular, 10, longText)
//	b := d.Bytes()
package pdf
