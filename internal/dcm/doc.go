// Package dcm reads and writes DICOM data sets (PS3.5) and Part 10 files (PS3.10).
//
// The reader is a streaming, structural parser: it walks every element of a
// file, keeps small values in memory and skips bulk values (Pixel Data, large
// OB/OW) while recording their byte offsets, so a multi-gigabyte study can be
// validated and indexed with flat memory and later served frame by frame
// without re-parsing. Every malformed input yields a *ParseError naming the
// byte offset, the element and the problem; the parser never panics.
//
// The tag dictionary comes from github.com/suyashkumar/dicom/pkg/tag.
package dcm
