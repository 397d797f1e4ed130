package codec

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"lightbox/internal/dcm"
)

// corpus is Debian's python3-pydicom test data (skipped when absent).
const corpus = "/usr/lib/python3/dist-packages/pydicom/data/test_files"

// encapsulatedFrames splits a file's pixel data into frames: one per
// fragment, or all fragments for a single frame.
func encapsulatedFrames(t *testing.T, data []byte) (*dcm.File, [][]byte) {
	t.Helper()
	f, err := dcm.ReadFile(bytes.NewReader(data), dcm.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	px := f.Dataset.Get(dcm.TagPixelData)
	if px == nil || px.Bulk == nil {
		t.Fatal("no pixel data")
	}
	n := f.Dataset.IntOr(dcm.TagNumberOfFrames, 1)
	var frames [][]byte
	if !f.TransferSyntax.Encapsulated {
		size := int64(len(data[px.Bulk.Offset:][:px.Bulk.Length])) / int64(n)
		for i := range int64(n) {
			frames = append(frames, data[px.Bulk.Offset+i*size:][:size])
		}
		return f, frames
	}
	var all []byte
	for _, fr := range px.Bulk.Fragments {
		b := data[fr.Offset:][:fr.Length]
		if n > 1 {
			frames = append(frames, b)
		}
		all = append(all, b...)
	}
	if n == 1 {
		frames = [][]byte{all}
	}
	if len(frames) != n {
		t.Skipf("%d fragments for %d frames", len(frames), n)
	}
	return f, frames
}

// twins are lossless variants whose uncompressed original is the
// reference (DCMTK cannot decode JPEG 2000, and swaps 32-bit OW pixel
// data as 16-bit words).
var twins = map[string]string{"rtdose_expb.dcm": "rtdose.dcm", "rtdose_expb_1frame.dcm": "rtdose_1frame.dcm",
	"MR_small_jpeg_ls_lossless.dcm": "MR_small.dcm", "MR_small_jp2klossless.dcm": "MR_small.dcm"}

// TestDecodeAgainstDCMTK decodes every corpus file this build can decode
// and compares the samples with DCMTK's dcmdrle/dcmdjpeg output: exact for
// lossless syntaxes, within 3 per sample for lossy JPEG (IDCTs differ).
func TestDecodeAgainstDCMTK(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus, "*.dcm"))
	if len(files) == 0 {
		t.Skip("python3-pydicom test files not installed")
	}
	tools := map[string]string{dcm.RLELossless: "dcmdrle", dcm.JPEGBaseline8Bit: "dcmdjpeg", dcm.JPEGLossless: "dcmdjpeg", dcm.JPEGLosslessSV1: "dcmdjpeg", dcm.ExplicitVRBigEndian: "dcmconv"}
	decoded := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := dcm.ReadFile(bytes.NewReader(data), dcm.ReadOptions{})
		if err != nil || !CanDecode(f.TransferSyntax.UID) || f.Dataset.Get(dcm.TagPixelData) == nil || f.Dataset.IntOr(dcm.TagBitsAllocated, 8) == 1 {
			continue
		}
		ts := f.TransferSyntax.UID
		_, hasTwin := twins[filepath.Base(path)]
		tool, err := exec.LookPath(tools[ts])
		if err != nil && !hasTwin {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			ref := filepath.Join(t.TempDir(), "ref.dcm")
			if twin, ok := twins[filepath.Base(path)]; ok {
				ref = filepath.Join(corpus, twin)
			} else if out, err := exec.Command(tool, "+te", path, ref).CombinedOutput(); err != nil {
				t.Skipf("DCMTK cannot decode it either: %s", out)
			}
			want, _ := os.ReadFile(ref)
			_, wantFrames := encapsulatedFrames(t, want)
			sf, frames := encapsulatedFrames(t, data)
			info := InfoOf(sf.Dataset)
			for i, fr := range frames {
				got, err := Decode(ts, fr, info)
				if err != nil {
					t.Fatalf("frame %d: %v", i+1, err)
				}
				w := wantFrames[i]
				if len(w) == len(got.Data)+1 {
					w = w[:len(got.Data)] // DCMTK pads odd-length pixel data
				}
				if len(got.Data) != len(w) {
					t.Fatalf("frame %d: %d bytes, DCMTK %d", i+1, len(got.Data), len(w))
				}
				bad, sum := 0, 0
				for k := range w {
					d := int(got.Data[k]) - int(w[k])
					sum += max(d, -d)
					if d != 0 {
						bad++
					}
				}
				// Lossy JPEG leaves the IDCT and chroma upsampling to the
				// decoder (T.81 A.3.3): libjpeg's "fancy" upsampling differs
				// from Go's at colour edges, so compare on average.
				if mean := float64(sum) / float64(len(w)); (ts == dcm.JPEGBaseline8Bit && mean > 4) || (ts != dcm.JPEGBaseline8Bit && bad > 0) {
					t.Fatalf("frame %d: %d of %d bytes differ from DCMTK, mean difference %.2f", i+1, bad, len(w), mean)
				}
			}
			decoded++
		})
	}
	t.Logf("%d corpus files decoded like DCMTK", decoded)
}

func TestRegisterRefusesEmptyFrames(t *testing.T) {
	const ts = "1.2.3.999"
	called := false
	register("test", func(src []byte, info Info) (Frame, error) { called = true; return Frame{}, nil }, ts)
	t.Cleanup(func() { delete(decoders, ts) })
	if _, err := decoders[ts](nil, Info{}); err == nil || err.Error() != "empty test frame" || called {
		t.Fatalf("empty frame: err %v, decoder called %v", err, called)
	}
	if _, err := decoders[ts]([]byte{1}, Info{}); err != nil || !called {
		t.Fatalf("frame: err %v, decoder called %v", err, called)
	}
}

// A big-endian 1-bit frame is swapped in 16-bit words when Pixel Data is
// OW and left as it is when OB (PS3.5 7.3; pydicom's liver_expb_1frame.dcm).
func TestBigEndianOneBit(t *testing.T) {
	info := Info{Rows: 4, Columns: 4, SamplesPerPixel: 1, BitsAllocated: 1, Photometric: "MONOCHROME2"}
	for vr, want := range map[string][]byte{"OW": {0x02, 0x01}, "OB": {0x01, 0x02}, "": {0x02, 0x01}} {
		info.PixelVR = vr
		f, err := Decode(dcm.ExplicitVRBigEndian, []byte{0x01, 0x02}, info)
		if err != nil || !bytes.Equal(f.Data, want) {
			t.Errorf("%q: % x %v, want % x", vr, f.Data, err, want)
		}
	}
}
