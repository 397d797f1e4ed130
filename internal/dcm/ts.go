package dcm

// Transfer syntax UIDs (PS3.5 §10 and Annex A).
const (
	ImplicitVRLittleEndian         = "1.2.840.10008.1.2"
	ExplicitVRLittleEndian         = "1.2.840.10008.1.2.1"
	DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
	ExplicitVRBigEndian            = "1.2.840.10008.1.2.2"
	JPEGBaseline8Bit               = "1.2.840.10008.1.2.4.50"
	JPEGExtended12Bit              = "1.2.840.10008.1.2.4.51"
	JPEGLossless                   = "1.2.840.10008.1.2.4.57"
	JPEGLosslessSV1                = "1.2.840.10008.1.2.4.70"
	JPEGLSLossless                 = "1.2.840.10008.1.2.4.80"
	JPEGLSNearLossless             = "1.2.840.10008.1.2.4.81"
	JPEG2000Lossless               = "1.2.840.10008.1.2.4.90"
	JPEG2000                       = "1.2.840.10008.1.2.4.91"
	HTJ2KLossless                  = "1.2.840.10008.1.2.4.201"
	HTJ2KLosslessRPCL              = "1.2.840.10008.1.2.4.202"
	HTJ2K                          = "1.2.840.10008.1.2.4.203"
	RLELossless                    = "1.2.840.10008.1.2.5"
)

// TransferSyntax describes how a data set is encoded.
type TransferSyntax struct {
	UID          string
	Name         string
	Implicit     bool // implicit VR (only ImplicitVRLittleEndian)
	BigEndian    bool
	Deflated     bool // the data set after the meta header is a raw deflate stream
	Encapsulated bool // Pixel Data is encapsulated (compressed fragments)
	// MediaType is the PS3.18 media type of one frame in this syntax.
	MediaType string
}

var transferSyntaxes = []TransferSyntax{
	{UID: ImplicitVRLittleEndian, Name: "Implicit VR Little Endian", Implicit: true, MediaType: "application/octet-stream"},
	{UID: ExplicitVRLittleEndian, Name: "Explicit VR Little Endian", MediaType: "application/octet-stream"},
	{UID: DeflatedExplicitVRLittleEndian, Name: "Deflated Explicit VR Little Endian", Deflated: true, MediaType: "application/octet-stream"},
	{UID: ExplicitVRBigEndian, Name: "Explicit VR Big Endian (retired)", BigEndian: true, MediaType: "application/octet-stream"},
	{UID: JPEGBaseline8Bit, Name: "JPEG Baseline (Process 1)", Encapsulated: true, MediaType: "image/jpeg"},
	{UID: JPEGExtended12Bit, Name: "JPEG Extended (Process 2 & 4)", Encapsulated: true, MediaType: "image/jpeg"},
	{UID: JPEGLossless, Name: "JPEG Lossless, Non-Hierarchical (Process 14)", Encapsulated: true, MediaType: "image/jpeg"},
	{UID: JPEGLosslessSV1, Name: "JPEG Lossless, First-Order Prediction", Encapsulated: true, MediaType: "image/jpeg"},
	{UID: JPEGLSLossless, Name: "JPEG-LS Lossless", Encapsulated: true, MediaType: "image/jls"},
	{UID: JPEGLSNearLossless, Name: "JPEG-LS Lossy (Near-Lossless)", Encapsulated: true, MediaType: "image/jls"},
	{UID: JPEG2000Lossless, Name: "JPEG 2000 (Lossless Only)", Encapsulated: true, MediaType: "image/jp2"},
	{UID: JPEG2000, Name: "JPEG 2000", Encapsulated: true, MediaType: "image/jp2"},
	{UID: HTJ2KLossless, Name: "High-Throughput JPEG 2000 (Lossless Only)", Encapsulated: true, MediaType: "image/jphc"},
	{UID: HTJ2KLosslessRPCL, Name: "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)", Encapsulated: true, MediaType: "image/jphc"},
	{UID: HTJ2K, Name: "High-Throughput JPEG 2000", Encapsulated: true, MediaType: "image/jphc"},
	{UID: RLELossless, Name: "RLE Lossless", Encapsulated: true, MediaType: "image/dicom-rle"},
}

// LookupTransferSyntax returns the description of a known transfer syntax.
func LookupTransferSyntax(uid string) (TransferSyntax, bool) {
	for _, ts := range transferSyntaxes {
		if ts.UID == uid {
			return ts, true
		}
	}
	return TransferSyntax{}, false
}

// TransferSyntaxes lists every transfer syntax Lightbox can parse and store.
func TransferSyntaxes() []TransferSyntax {
	return append([]TransferSyntax(nil), transferSyntaxes...)
}
