package gen

import (
	"fmt"
	"math"
	"strings"
	"time"

	"lightbox/internal/dcm"
)

type study struct {
	ordinal   int
	patient   Patient
	facility  Facility
	proc      Procedure
	modality  string
	key       string // names UIDs
	hash      uint64 // seeds pixel randomness
	uid       string
	accession string
	id        string
	when      time.Time
	referring string
	vari      variation
	series    []series
}

type series struct {
	number  int
	uid     string
	forUID  string
	desc    string
	images  int
	when    time.Time
	t2      bool   // MR weighting
	view    string // CR/DX view position
	orient  string // CR/DX patient orientation
	thick   float64
	spacing float64 // between slice centres
	fov     float64 // mm across the columns
	z0      float64
}

func hashString(s string) uint64 {
	var h uint64 = 0xcbf29ce484222325
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return mix(h)
}

// planStudy lays out study ord (patient-major, then study).
func (g *generator) planStudy(ord int) *study {
	p := g.p
	o := p.opts
	pi, si := ord/o.Studies, ord%o.Studies
	idx := o.FirstPatient + pi
	if p.modality == "MG" { // female roster entries only
		first := o.FirstPatient + o.FirstPatient%2
		idx = first + 2*pi
	}
	st := &study{ordinal: ord, patient: Roster(idx), modality: p.modality}
	if p.facility != nil {
		st.facility = *p.facility
	} else {
		fs := Facilities()
		st.facility = fs[mix(p.seed^uint64(idx)*0x9e37)%uint64(len(fs))]
	}
	if p.proc != nil {
		st.proc = *p.proc
	} else {
		st.proc = p.procs[idx%len(p.procs)]
	}
	loc := st.facility.Location()
	ph := mix(p.seed ^ uint64(idx)<<20 ^ 0xda7e)
	var y, d int
	var m time.Month
	if o.StudyDate.IsZero() {
		base := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(ph%330))
		y, m, d = base.Date()
	} else {
		y, m, d = o.StudyDate.Date()
	}
	hh, mm, ss := 7+int((ph>>12)%11), int((ph>>20)%60), int((ph>>28)%60)
	if p.explicitT {
		hh, mm, ss = o.StudyDate.Clock()
	}
	st.when = time.Date(y-(o.Studies-1-si), m, d, hh, mm, ss, 0, loc)

	lossy := ""
	if p.ts.UID == dcm.JPEGBaseline8Bit {
		lossy = "|lossy"
	}
	st.key = fmt.Sprintf("lightbox/gen/v1|seed=%d|%s|%s|pt=%d|st=%d|%s|%s|%dx%d|n=%d%s",
		o.Seed, p.modality, st.proc.Key, idx, si, st.facility.Code, st.when.Format("20060102T150405"),
		p.rows, p.cols, p.slices, lossy)
	st.hash = hashString(st.key)
	st.uid = dcm.DeterministicUID(st.key)
	st.accession = fmt.Sprintf("%s%07d", st.facility.Code, st.hash%10000000)
	st.id = fmt.Sprintf("%d", 100000+(st.hash>>24)%900000)
	givens := rosterGiven()
	st.referring = "REFDOC^" + givens[(st.hash>>40)%uint64(len(givens))]
	g.pcg.Seed(st.hash, 0x7a71)
	st.vari = newVariation(g.rng)

	add := func(se series) {
		se.number = len(st.series) + 1
		se.uid = dcm.DeterministicUID(fmt.Sprintf("%s|series=%d", st.key, se.number))
		se.when = st.when.Add(time.Duration(2+4*len(st.series)) * time.Minute)
		st.series = append(st.series, se)
	}
	forUID := dcm.DeterministicUID(st.key + "|for")
	switch p.modality {
	case "CT":
		fov, coverage, z0 := 360.0, 300.0, -40.0
		switch st.proc.anatomy {
		case anatHead:
			fov, coverage, z0 = 250, 150, 80
		case anatAbdomen:
			fov, coverage, z0 = 400, 450, -280
		case anatChestAngio:
			fov = 340
		}
		thick := math.Round(coverage/float64(p.slices)*8) / 8
		thick = min(max(thick, 0.5), 10)
		desc := fmt.Sprintf("AX %s %smm", strings.TrimPrefix(st.proc.BodyPart, "ABDOMEN"), dcm.FormatDS(thick))
		if st.proc.anatomy == anatAbdomen {
			desc = fmt.Sprintf("AX ABD PELVIS %smm", dcm.FormatDS(thick))
		}
		if st.proc.Contrast {
			desc += " W CONTRAST"
		}
		add(series{desc: desc, images: p.slices, forUID: forUID, thick: thick, spacing: thick, fov: fov, z0: z0})
	case "MR":
		add(series{desc: "AX T2 FSE", images: p.slices, forUID: forUID, t2: true, thick: 5, spacing: 6, fov: 240, z0: 70})
		add(series{desc: "AX T1 SE POST GAD", images: p.slices, forUID: forUID, thick: 5, spacing: 6, fov: 240, z0: 70})
	case "CR", "DX":
		fov := 430.0
		add(series{desc: "CHEST PA", images: 1, view: "PA", orient: `L\F`, fov: fov})
		add(series{desc: "CHEST LAT", images: 1, view: "LL", orient: `P\F`, fov: fov})
	case "US":
		add(series{desc: "ABDOMEN", images: 2, fov: 160})
	case "MG":
		add(series{desc: "SCREENING MAMMO 2D", images: 4, fov: 240})
	}
	return st
}

func daStr(t time.Time) string { return t.Format("20060102") }
func tmStr(t time.Time) string { return t.Format("150405") }

func tzOffset(t time.Time) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s%02d%02d", sign, off/3600, off%3600/60)
}

func age(birth, at time.Time) string {
	y := at.Year() - birth.Year()
	if at.YearDay() < birth.YearDay() {
		y--
	}
	return fmt.Sprintf("%03dY", max(y, 0))
}

// seriesBase builds the elements shared by every instance of a series.
func (g *generator) seriesBase(st *study, se *series) *dcm.Dataset {
	p := g.p
	ds := &dcm.Dataset{}
	f := st.facility
	mod := p.modality
	// SOP Common.
	ds.SetStr(dcm.TagSpecificCharacterSet, "ISO_IR 100")
	ds.SetStr(dcm.TagInstanceCreationDate, daStr(se.when))
	ds.SetStr(dcm.TagInstanceCreationTime, tmStr(se.when))
	ds.SetStr(dcm.TagTimezoneOffsetFromUTC, tzOffset(st.when))
	// Patient.
	ds.SetStr(dcm.TagPatientName, st.patient.Name)
	ds.SetStr(dcm.TagPatientID, st.patient.ID)
	ds.SetStr(dcm.TagIssuerOfPatientID, f.IssuerOfPatientID)
	ds.SetStr(dcm.TagPatientBirthDate, daStr(st.patient.BirthDate))
	ds.SetStr(dcm.TagPatientSex, st.patient.Sex)
	ds.SetStr(dcm.TagPatientAge, age(st.patient.BirthDate, st.when))
	// General Study.
	ds.SetStr(dcm.TagStudyInstanceUID, st.uid)
	ds.SetStr(dcm.TagStudyDate, daStr(st.when))
	ds.SetStr(dcm.TagStudyTime, tmStr(st.when))
	ds.SetStr(dcm.TagReferringPhysicianName, st.referring)
	ds.SetStr(dcm.TagStudyID, st.id)
	ds.SetStr(dcm.TagAccessionNumber, st.accession)
	ds.SetStr(dcm.TagStudyDescription, st.proc.Description)
	pc := codeItem(st.proc.CPT, CPTCodingScheme, st.proc.Description)
	ds.SetSeq(dcm.TagProcedureCodeSequence, pc)
	// General Series.
	ds.SetStr(dcm.TagModality, mod)
	ds.SetStr(dcm.TagSeriesInstanceUID, se.uid)
	ds.SetStr(dcm.TagSeriesNumber, fmt.Sprint(se.number))
	ds.SetStr(dcm.TagSeriesDate, daStr(se.when))
	ds.SetStr(dcm.TagSeriesTime, tmStr(se.when))
	ds.SetStr(dcm.TagSeriesDescription, se.desc)
	ds.SetStr(dcm.TagProtocolName, st.proc.Description)
	ds.SetStr(dcm.TagBodyPartExamined, st.proc.BodyPart)
	// General Equipment.
	ds.SetStr(dcm.TagManufacturer, "Lightbox Synthetic")
	ds.SetStr(dcm.TagInstitutionName, f.Name)
	ds.SetStr(dcm.TagStationName, f.StationAE(mod))
	ds.SetStr(dcm.TagManufacturerModelName, "GEN-"+mod)
	ds.SetStr(tagDeviceSerialNumber, fmt.Sprintf("%s-%s-0001", f.Code, mod))
	ds.SetStr(tagSoftwareVersions, "lightbox-gen 1")
	// General Image / Acquisition.
	ds.SetStr(dcm.TagAcquisitionDate, daStr(se.when))
	ds.SetStr(dcm.TagContentDate, daStr(se.when))
	ds.SetStr(dcm.TagAcquisitionNumber, "1")
	if st.proc.Contrast && (mod != "MR" || !se.t2) {
		ds.SetStr(tagContrastBolusAgent, contrastAgent(mod))
	}
	ds.SetStr(tagBurnedInAnnotation, "NO")
	if p.ts.UID == dcm.JPEGBaseline8Bit {
		ds.SetStr(dcm.TagLossyImageCompression, "01")
		ds.SetStr(tagLossyImageCompressionMethod, "ISO_10918_1")
	} else {
		ds.SetStr(dcm.TagLossyImageCompression, "00")
	}
	// Image Pixel (defaults: 16-bit unsigned grey; modalities adjust).
	ds.SetUint16(dcm.TagSamplesPerPixel, 1)
	ds.SetStr(dcm.TagPhotometricInterpretation, "MONOCHROME2")
	ds.SetUint16(dcm.TagRows, uint16(p.rows))
	ds.SetUint16(dcm.TagColumns, uint16(p.cols))
	ds.SetUint16(dcm.TagBitsAllocated, 16)
	ds.SetUint16(dcm.TagBitsStored, 12)
	ds.SetUint16(dcm.TagHighBit, 11)
	ds.SetUint16(dcm.TagPixelRepresentation, 0)

	if modSeries, ok := seriesModules[mod]; ok {
		modSeries(g, ds, st, se)
	}
	return ds
}

// seriesModules sets each modality's own modules and attributes (its IOD
// in PS3.3: A.3 CT, A.4 MR, A.2 CR, A.26 DX, A.27 MG, A.7 US multi-frame).
var seriesModules = map[string]func(*generator, *dcm.Dataset, *study, *series){
	"CT": (*generator).ctSeries,
	"MR": (*generator).mrSeries,
	"CR": (*generator).crSeries,
	"DX": (*generator).dxSeries,
	"US": (*generator).usSeries,
	"MG": (*generator).mgSeries,
}

func contrastAgent(mod string) string {
	if mod == "MR" {
		return "GADOBUTROL"
	}
	return "IOHEXOL 350"
}

// instance builds image k of a series on a copy of the series base.
func (g *generator) instance(st *study, se *series, base *dcm.Dataset, k int) (*Instance, error) {
	p := g.p
	ds := &dcm.Dataset{Elements: append(make([]*dcm.Element, 0, len(base.Elements)+12), base.Elements...)}
	sop := dcm.DeterministicUID(fmt.Sprintf("%s|series=%d|image=%d", st.key, se.number, k+1))
	ds.SetStr(dcm.TagSOPInstanceUID, sop)
	ds.SetStr(dcm.TagInstanceNumber, fmt.Sprint(k+1))
	ct := se.when.Add(time.Duration(k) * 500 * time.Millisecond)
	ds.SetStr(dcm.TagContentTime, ct.Format("150405.00"))
	ds.SetStr(dcm.TagAcquisitionTime, ct.Format("150405.00"))
	g.pcg.Seed(st.hash^uint64(se.number)<<32, uint64(k))

	var err error
	switch p.modality {
	case "CT", "MR":
		err = g.sliceImage(ds, st, se, k)
	case "CR", "DX":
		err = g.xrImage(ds, st, se)
	case "US":
		err = g.usImage(ds, st, se, k)
	case "MG":
		err = g.mgImage(ds, st, se, k)
	}
	if err != nil {
		return nil, err
	}
	return &Instance{
		Dataset:           ds,
		TransferSyntax:    p.ts.UID,
		Path:              fmt.Sprintf("%s/%s/%03d_%s/%05d.dcm", st.patient.ID, st.accession, se.number, p.modality, k+1),
		SourceAE:          st.facility.StationAE(p.modality),
		Patient:           st.patient,
		Facility:          st.facility,
		Procedure:         st.proc,
		StudyOrdinal:      st.ordinal,
		StudyInstanceUID:  st.uid,
		SeriesInstanceUID: se.uid,
		SOPInstanceUID:    sop,
		AccessionNumber:   st.accession,
		StudyTime:         st.when,
	}, nil
}
