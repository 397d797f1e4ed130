// Package codec decodes the pixel data of one frame into native (uncompressed,
// little endian) samples, so that frames and instances stored compressed can
// be served to clients that ask for Explicit VR Little Endian.
//
// The default build decodes, in pure Go: RLE Lossless (PS3.5 Annex G), JPEG
// baseline (image/jpeg), JPEG Lossless processes 14 and
// 14 SV1 (ITU T.81 Annex H), and Explicit VR Big Endian native data.
// JPEG-LS and JPEG 2000 are decoded only with the build tag lightbox_codecs
// (cgo, Debian's libcharls-dev and libopenjp2-7-dev); HTJ2K and JPEG extended
// (12-bit) never are. Frames that cannot be decoded are served as stored
// (transfer-syntax=*) and a request for another syntax is refused with 406.
package codec
