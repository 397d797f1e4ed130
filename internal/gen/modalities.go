package gen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"lightbox/internal/dcm"
)

// ---- CT and MR: axial slices with Image Plane geometry ----

func (g *generator) ctSeries(ds *dcm.Dataset, st *study, se *series) {
	ds.SetStr(dcm.TagSOPClassUID, sopCT)
	ds.SetStr(dcm.TagImageType, "ORIGINAL", "PRIMARY", "AXIAL")
	g.planeSeries(ds, se)
	ds.SetStr(dcm.TagPatientPosition, "HFS")
	setDS(ds, dcm.TagKVP, 120)
	setDS(ds, tagDataCollectionDiameter, 500)
	setDS(ds, tagReconstructionDiameter, se.fov)
	setDS(ds, tagGantryDetectorTilt, 0)
	setDS(ds, tagTableHeight, 150)
	ds.SetStr(tagRotationDirection, "CW")
	setIS(ds, tagExposureTime, 1000)
	setIS(ds, tagXRayTubeCurrent, 220)
	setIS(ds, tagExposure, 220)
	ds.SetStr(tagFilterType, "BODY")
	setDS(ds, tagFocalSpots, 1.2)
	kernel := "STANDARD"
	if st.proc.anatomy == anatHead {
		kernel = "BRAIN"
	}
	ds.SetStr(tagConvolutionKernel, kernel)
	ds.SetUint16(dcm.TagBitsStored, 16)
	ds.SetUint16(dcm.TagHighBit, 15)
	ds.SetUint16(dcm.TagPixelRepresentation, 1)
	setDS(ds, dcm.TagRescaleIntercept, -1024)
	setDS(ds, dcm.TagRescaleSlope, 1)
	ds.SetStr(dcm.TagRescaleType, "HU")
	switch st.proc.anatomy {
	case anatHead:
		setDS(ds, dcm.TagWindowCenter, 40, 600)
		setDS(ds, dcm.TagWindowWidth, 80, 2800)
		ds.SetStr(tagWindowCenterWidthExplanation, "BRAIN", "BONE")
	case anatChest:
		setDS(ds, dcm.TagWindowCenter, 40, -600)
		setDS(ds, dcm.TagWindowWidth, 400, 1500)
		ds.SetStr(tagWindowCenterWidthExplanation, "MEDIASTINUM", "LUNG")
	case anatChestAngio:
		setDS(ds, dcm.TagWindowCenter, 100, -600)
		setDS(ds, dcm.TagWindowWidth, 700, 1500)
		ds.SetStr(tagWindowCenterWidthExplanation, "ANGIO", "LUNG")
	default:
		setDS(ds, dcm.TagWindowCenter, 40)
		setDS(ds, dcm.TagWindowWidth, 400)
		ds.SetStr(tagWindowCenterWidthExplanation, "SOFT TISSUE")
	}
}

func (g *generator) mrSeries(ds *dcm.Dataset, st *study, se *series) {
	ds.SetStr(dcm.TagSOPClassUID, sopMR)
	ds.SetStr(dcm.TagImageType, "ORIGINAL", "PRIMARY", "OTHER")
	g.planeSeries(ds, se)
	ds.SetStr(dcm.TagPatientPosition, "HFS")
	ds.SetStr(tagScanningSequence, "SE")
	ds.SetStr(tagMRAcquisitionType, "2D")
	ds.SetStr(tagAngioFlag, "N")
	setDS(ds, tagNumberOfAverages, 1)
	setDS(ds, tagImagingFrequency, 63.87)
	ds.SetStr(tagImagedNucleus, "1H")
	setIS(ds, tagEchoNumbers, 1)
	setDS(ds, tagMagneticFieldStrength, 1.5)
	setDS(ds, dcm.TagSpacingBetweenSlices, se.spacing)
	ds.SetStr(tagReceiveCoilName, "HEAD")
	ds.SetStr(tagInPlanePhaseEncodingDirection, "ROW")
	n := uint16(min(g.p.cols, 0xFFFF))
	ds.SetUint16(tagAcquisitionMatrix, 0, n, n*3/4, 0)
	if se.t2 {
		ds.SetStr(tagSequenceVariant, "SK")
		ds.SetStr(tagScanOptions, "SP")
		ds.SetStr(tagSequenceName, "fse2d")
		setDS(ds, tagRepetitionTime, 4000)
		setDS(ds, tagEchoTime, 100)
		setIS(ds, tagEchoTrainLength, 16)
		setDS(ds, tagFlipAngle, 90)
		setDS(ds, dcm.TagWindowCenter, 1200)
		setDS(ds, dcm.TagWindowWidth, 2400)
	} else {
		ds.SetStr(tagSequenceVariant, "NONE")
		setEmpty(ds, tagScanOptions)
		ds.SetStr(tagSequenceName, "se2d")
		setDS(ds, tagRepetitionTime, 500)
		setDS(ds, tagEchoTime, 10)
		setIS(ds, tagEchoTrainLength, 1)
		setDS(ds, tagFlipAngle, 90)
		setDS(ds, dcm.TagWindowCenter, 800)
		setDS(ds, dcm.TagWindowWidth, 1600)
	}
}

// planeSeries writes Frame of Reference and the constant part of Image Plane.
func (g *generator) planeSeries(ds *dcm.Dataset, se *series) {
	ps := se.fov / float64(g.p.cols)
	ds.SetStr(dcm.TagFrameOfReferenceUID, se.forUID)
	setEmpty(ds, dcm.TagPositionReferenceIndicator)
	setDS(ds, dcm.TagImageOrientationPatient, 1, 0, 0, 0, 1, 0)
	setDS(ds, dcm.TagPixelSpacing, ps, ps)
	setDS(ds, dcm.TagSliceThickness, se.thick)
}

// slicePosition returns the z coordinate (mm) of slice k, 0-based.
func (se *series) slicePosition(k int) float64 { return se.z0 - float64(k)*se.spacing }

func (g *generator) sliceImage(ds *dcm.Dataset, st *study, se *series, k int) error {
	p := g.p
	ps := se.fov / float64(p.cols)
	z := round3(se.slicePosition(k))
	setDS(ds, dcm.TagImagePositionPatient, round3(-ps*float64(p.cols-1)/2), round3(-ps*float64(p.rows-1)/2), z)
	setDS(ds, dcm.TagSliceLocation, z)
	t := 0.5
	if se.images > 1 {
		t = float64(k) / float64(se.images-1)
	}
	if p.modality == "CT" {
		g.pl.reset(p.rows, p.cols, -1000)
		g.pl.paint(ctShapes(st.proc.anatomy, t, &st.vari, st.proc.Contrast))
		sigma := int32(10)
		if st.proc.anatomy == anatHead {
			sigma = 5 // narrow brain window
		}
		g.pl.addNoise(g.rng, g.noise, sigma, 16, -1000)
		g.pix = planeToLE16(g.pix, &g.pl, 1024, 0, 4095)
	} else {
		g.pl.reset(p.rows, p.cols, 0)
		g.pl.paint(mrShapes(t, &st.vari, se.t2))
		g.pl.addNoise(g.rng, g.noise, 30, 16, 0)
		g.pix = planeToLE16(g.pix, &g.pl, 0, 0, 4095)
	}
	return g.setPixels(ds, 1, 2, 1)
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// planeToLE16 converts the plane to little-endian 16-bit samples of
// value+add clamped to [lo, hi].
func planeToLE16(dst []byte, pl *plane, add, lo, hi int32) []byte {
	n := len(pl.v) * 2
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	for i, v := range pl.v {
		v = min(max(v+add, lo), hi)
		binary.LittleEndian.PutUint16(dst[2*i:], uint16(v))
	}
	return dst
}

// ---- CR, DX: chest radiographs ----

func (g *generator) xrPixelModule(ds *dcm.Dataset) {
	if g.p.eightBit {
		ds.SetUint16(dcm.TagBitsAllocated, 8)
		ds.SetUint16(dcm.TagBitsStored, 8)
		ds.SetUint16(dcm.TagHighBit, 7)
		setDS(ds, dcm.TagWindowCenter, 128)
		setDS(ds, dcm.TagWindowWidth, 256)
	} else {
		setDS(ds, dcm.TagWindowCenter, 2048)
		setDS(ds, dcm.TagWindowWidth, 4096)
	}
}

func (g *generator) crSeries(ds *dcm.Dataset, st *study, se *series) {
	ds.SetStr(dcm.TagSOPClassUID, sopCR)
	ds.SetStr(dcm.TagImageType, "ORIGINAL", "PRIMARY")
	ds.SetStr(dcm.TagViewPosition, se.view)
	setDS(ds, dcm.TagKVP, 110)
	ps := se.fov / float64(g.p.cols)
	setDS(ds, tagImagerPixelSpacing, ps, ps)
	setDS(ds, dcm.TagPixelSpacing, ps, ps)
	setDS(ds, tagDistanceSourceToDetector, 1800)
	setIS(ds, tagExposureTime, 10)
	setIS(ds, tagXRayTubeCurrent, 320)
	g.xrPixelModule(ds)
	ds.Put(dcm.StrElement(dcm.TagPatientOrientation, "CS", splitOrient(se.orient)...))
}

func (g *generator) dxSeries(ds *dcm.Dataset, st *study, se *series) {
	ds.SetStr(dcm.TagSOPClassUID, sopDX)
	g.dxModules(ds, se.fov)
	ds.SetStr(dcm.TagImageLaterality, "U")
	ds.SetSeq(tagAnatomicRegionSequence, codeItem("51185008", "SCT", "Chest"))
	ds.SetStr(dcm.TagViewPosition, se.view)
	vc := codeItem("399348003", "SCT", "postero-anterior")
	if se.view == "LL" {
		vc = codeItem("399173006", "SCT", "left lateral")
	}
	vc.SetSeq(tagViewModifierCodeSequence)
	ds.SetSeq(tagViewCodeSequence, vc)
	ds.SetStr(tagPositionerType, "COLUMN")
	ds.Put(dcm.StrElement(dcm.TagPatientOrientation, "CS", splitOrient(se.orient)...))
	setDS(ds, dcm.TagKVP, 110)
	setDS(ds, tagDistanceSourceToDetector, 1800)
	ds.SetStr(tagDetectorType, "SCINTILLATOR")
	g.xrPixelModule(ds)
}

func splitOrient(s string) []string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			return []string{s[:i], s[i+1:]}
		}
	}
	return []string{s}
}

// dxModules writes the DX Series, DX Image and DX Detector attributes
// shared by DX and MG For Presentation images.
func (g *generator) dxModules(ds *dcm.Dataset, fov float64) {
	ds.SetStr(dcm.TagImageType, "ORIGINAL", "PRIMARY")
	ds.SetStr(tagPresentationIntentType, "FOR PRESENTATION")
	ds.SetStr(tagPixelIntensityRelationship, "LIN")
	setSS(ds, tagPixelIntensityRelationshipSign, 1)
	setDS(ds, dcm.TagRescaleIntercept, 0)
	setDS(ds, dcm.TagRescaleSlope, 1)
	ds.SetStr(dcm.TagRescaleType, "US")
	ds.SetStr(tagPresentationLUTShape, "IDENTITY")
	ps := fov / float64(g.p.cols)
	setDS(ds, tagImagerPixelSpacing, ps, ps)
	ds.SetStr(tagQualityControlImage, "NO")
	ds.SetSeq(tagAcquisitionContextSequence)
}

func (g *generator) xrImage(ds *dcm.Dataset, st *study, se *series) error {
	p := g.p
	g.pl.reset(p.rows, p.cols, 120)
	g.pl.paint(xrShapes(se.view == "PA", &st.vari))
	g.pl.addNoise(g.rng, g.noise, 24, 16, math.MinInt32)
	if p.eightBit {
		g.pix = planeToU8(g.pix, &g.pl, 4)
		return g.setPixels(ds, 1, 1, 1)
	}
	g.pix = planeToLE16(g.pix, &g.pl, 0, 0, 4095)
	return g.setPixels(ds, 1, 2, 1)
}

func planeToU8(dst []byte, pl *plane, shift uint) []byte {
	n := len(pl.v)
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	for i, v := range pl.v {
		dst[i] = byte(min(max(v>>shift, 0), 255))
	}
	return dst
}

// ---- MG: four-view screening mammogram ----

type mgView struct {
	laterality, view, orient string
	code, meaning            string
	angle                    float64
}

// mgViews lists the screening views in the usual hanging order.
func mgViews() [4]mgView {
	return [4]mgView{
		{"R", "CC", `P\L`, "399162004", "cranio-caudal", 0},
		{"L", "CC", `A\R`, "399162004", "cranio-caudal", 0},
		{"R", "MLO", `P\FL`, "399368009", "medio-lateral oblique", 45},
		{"L", "MLO", `A\FR`, "399368009", "medio-lateral oblique", -45},
	}
}

func (g *generator) mgSeries(ds *dcm.Dataset, st *study, se *series) {
	ds.SetStr(dcm.TagSOPClassUID, sopMG)
	g.dxModules(ds, se.fov)
	ds.SetStr(tagDetectorType, "DIRECT")
	ds.SetStr(tagPositionerType, "MAMMOGRAPHIC")
	ds.SetStr(tagOrganExposed, "BREAST")
	ds.SetStr(tagBreastImplantPresent, "NO")
	ds.SetSeq(tagAnatomicRegionSequence, codeItem("76752008", "SCT", "Breast"))
	setDS(ds, dcm.TagKVP, 29)
	ds.SetStr(tagAnodeTargetMaterial, "TUNGSTEN")
	ds.SetStr(tagFilterMaterial, "RHODIUM")
	setDS(ds, tagDistanceSourceToDetector, 660)
	setDS(ds, tagDistanceSourceToPatient, 600)
	setDS(ds, tagEstimatedRadiographicMagnif, 1.1)
	setDS(ds, tagBodyPartThickness, 52)
	setDS(ds, tagCompressionForce, 110)
	setIS(ds, tagExposureTime, 1200)
	setIS(ds, tagXRayTubeCurrent, 100)
	setDS(ds, dcm.TagWindowCenter, 1800)
	setDS(ds, dcm.TagWindowWidth, 2600)
}

func (g *generator) mgImage(ds *dcm.Dataset, st *study, se *series, k int) error {
	p := g.p
	views := mgViews()
	v := views[k%len(views)]
	ds.SetStr(dcm.TagImageLaterality, v.laterality)
	ds.SetStr(dcm.TagViewPosition, v.view)
	ds.Put(dcm.StrElement(dcm.TagPatientOrientation, "CS", splitOrient(v.orient)...))
	setDS(ds, tagPositionerPrimaryAngle, v.angle)
	vc := codeItem(v.code, "SCT", v.meaning)
	vc.SetSeq(tagViewModifierCodeSequence)
	ds.SetSeq(tagViewCodeSequence, vc)
	ds.SetStr(dcm.TagSeriesDescription, se.desc)
	g.pl.reset(p.rows, p.cols, 40)
	g.pl.paint(mgShapes(v.laterality == "L", v.view == "MLO", &st.vari))
	g.pl.addNoise(g.rng, g.noise, 20, 16, 40)
	g.pix = planeToLE16(g.pix, &g.pl, 0, 0, 4095)
	return g.setPixels(ds, 1, 2, 1)
}

// ---- US: multi-frame cine clips ----

func (g *generator) usSeries(ds *dcm.Dataset, st *study, se *series) {
	p := g.p
	ds.SetStr(dcm.TagSOPClassUID, sopUSMult)
	ds.SetStr(dcm.TagImageType, "ORIGINAL", "PRIMARY", "ABDOMINAL", "0011")
	setEmpty(ds, dcm.TagPatientOrientation)
	ds.SetUint16(dcm.TagSamplesPerPixel, 3)
	if p.ts.UID == dcm.JPEGBaseline8Bit {
		ds.SetStr(dcm.TagPhotometricInterpretation, "YBR_FULL_422")
	} else {
		ds.SetStr(dcm.TagPhotometricInterpretation, "RGB")
	}
	planar := uint16(0)
	if p.ts.UID == dcm.RLELossless {
		planar = 1 // PS3.5 G.2: RLE segments are colour-by-plane
	}
	ds.SetUint16(dcm.TagPlanarConfiguration, planar)
	ds.SetUint16(dcm.TagBitsAllocated, 8)
	ds.SetUint16(dcm.TagBitsStored, 8)
	ds.SetUint16(dcm.TagHighBit, 7)
	ds.SetStr(dcm.TagNumberOfFrames, fmt.Sprint(p.slices))
	setAT(ds, dcm.TagFrameIncrementPointer, tagFrameTime)
	setDS(ds, tagFrameTime, 33.3)
	setIS(ds, tagCineRate, 30)
	setIS(ds, tagRecommendedDisplayFrameRate, 30)
	ds.SetUint16(tagPreferredPlaybackSequencing, 0)
}

func (g *generator) usImage(ds *dcm.Dataset, st *study, se *series, clip int) error {
	p := g.p
	frame := p.rows * p.cols * 3
	n := frame * p.slices
	if cap(g.pix) < n {
		g.pix = make([]byte, n)
	}
	g.pix = g.pix[:n]
	for f := 0; f < p.slices; f++ {
		g.usFrame(g.pix[f*frame:(f+1)*frame], st, clip, f)
	}
	return g.setPixels(ds, p.slices, 1, 3)
}

// usFrame renders one B-mode frame: a sector of speckle over liver (clip 0,
// with a colour Doppler vessel) or kidney (clip 1), moving with respiration.
func (g *generator) usFrame(dst []byte, st *study, clip, f int) {
	p := g.p
	rows, cols := p.rows, p.cols
	breath := 0.04 * math.Sin(2*math.Pi*float64(f)/float64(max(p.slices, 1))+st.vari.phase[0])
	var sh []shape
	if clip == 0 {
		sh = []shape{
			{0, 0.35 + breath, 1.2, 0.9, 95, false},                        // liver
			{0, 1.05 + breath, 1.3, 0.12, 120, true},                       // diaphragm
			{-0.25, 0.3 + breath, 0.09, 0.06, -85, true},                   // hepatic vein
			{0.2 + st.vari.lesionX/2, 0.55 + breath, 0.12, 0.1, -80, true}, // gallbladder
		}
	} else {
		sh = []shape{
			{0, 0.3 + breath, 1.2, 0.9, 80, false},
			{0.05, 0.45 + breath, 0.45, 0.22, 35, true}, // kidney cortex
			{0.05, 0.45 + breath, 0.25, 0.09, 60, true}, // renal sinus fat
		}
	}
	g.pl.reset(rows, cols, 0)
	g.pl.paint(sh)
	ax, ay := float64(cols)/2, float64(rows)*0.06
	tanA := math.Tan(35 * math.Pi / 180)
	R := float64(rows) * 0.92
	pulse := math.Sin(2*math.Pi*float64(f)/8) > 0
	clear(dst)
	nz := len(g.noise) - cols
	for r := 0; r < rows; r++ {
		dy := float64(r) - ay
		if dy <= 0 || dy > R {
			continue
		}
		half := min(dy*tanA, math.Sqrt(R*R-dy*dy))
		x0 := max(int(ax-half), 0)
		x1 := min(int(ax+half), cols)
		gain := 1.25 - 0.6*dy/R
		noise := g.noise[g.rng.IntN(nz):]
		row := g.pl.v[r*cols:]
		out := dst[r*cols*3:]
		for x := x0; x < x1; x++ {
			base := float64(row[x])
			v := base * gain * (1 + float64(noise[x])/40)
			b := byte(min(max(v, 0), 255))
			out[3*x], out[3*x+1], out[3*x+2] = b, b, b
			if clip == 0 && pulse && row[x] == 10 { // hepatic vein flow, colour Doppler
				out[3*x], out[3*x+1], out[3*x+2] = 30, 60, 210
			}
		}
	}
	// Grey scale bar at the right edge.
	for r := rows / 5; r < rows*4/5; r++ {
		v := byte(255 * (rows*4/5 - r) / (rows * 3 / 5))
		for x := cols - 16; x < cols-6; x++ {
			dst[(r*cols+x)*3], dst[(r*cols+x)*3+1], dst[(r*cols+x)*3+2] = v, v, v
		}
	}
}

// ---- Pixel Data in the requested transfer syntax ----

// setPixels stores g.pix (frames of native little-endian pixels) as Pixel
// Data, encoding it when the transfer syntax is encapsulated.
func (g *generator) setPixels(ds *dcm.Dataset, frames, bytesPerSample, spp int) error {
	p := g.p
	frameLen := len(g.pix) / frames
	switch p.ts.UID {
	case dcm.RLELossless:
		g.enc = g.enc[:0]
		ends := make([]int, 0, frames)
		row := make([]byte, p.cols)
		for f := 0; f < frames; f++ {
			g.enc = rleEncodeFrame(g.enc, g.pix[f*frameLen:(f+1)*frameLen], p.rows, p.cols, spp, bytesPerSample, row)
			ends = append(ends, len(g.enc))
		}
		ds.Put(encapsulated(g.enc, ends))
	case dcm.JPEGBaseline8Bit:
		g.enc = g.enc[:0]
		ends := make([]int, 0, frames)
		for f := 0; f < frames; f++ {
			var err error
			g.enc, err = appendJPEG(g.enc, g.pix[f*frameLen:(f+1)*frameLen], p.rows, p.cols, spp)
			if err != nil {
				return err
			}
			ends = append(ends, len(g.enc))
		}
		ds.Put(encapsulated(g.enc, ends))
		setDS(ds, tagLossyImageCompressionRatio, math.Round(float64(len(g.pix))/float64(len(g.enc))*100)/100)
	default:
		vr := "OW"
		if bytesPerSample == 1 {
			vr = "OB"
		}
		ds.Put(&dcm.Element{Tag: dcm.TagPixelData, VR: vr, Value: g.pix})
	}
	return nil
}

func encapsulated(buf []byte, ends []int) *dcm.Element {
	frags := make([][]byte, len(ends))
	start := 0
	for i, e := range ends {
		frags[i] = buf[start:e:e]
		start = e
	}
	return &dcm.Element{Tag: dcm.TagPixelData, VR: "OB", Encapsulated: append([][]byte{basicOffsetTable(frags)}, frags...)}
}

// appendJPEG appends a baseline JPEG of one 8-bit frame (grey or RGB),
// padded to even length with a trailing zero as PS3.5 A.4 allows.
func appendJPEG(dst, frame []byte, rows, cols, spp int) ([]byte, error) {
	var img image.Image
	r := image.Rect(0, 0, cols, rows)
	if spp == 1 {
		img = &image.Gray{Pix: frame, Stride: cols, Rect: r}
	} else {
		rgba := image.NewRGBA(r)
		for i, j := 0, 0; i < len(frame); i, j = i+3, j+4 {
			rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = frame[i], frame[i+1], frame[i+2], 255
		}
		img = rgba
	}
	buf := bytes.NewBuffer(dst)
	if err := jpeg.Encode(buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("gen: jpeg: %w", err)
	}
	out := buf.Bytes()
	if len(out)%2 == 1 {
		out = append(out, 0)
	}
	return out, nil
}
