package gen

import (
	"fmt"
	"strings"
	"time"

	"lightbox/internal/dcm"
)

// Options selects what to generate. The zero value is valid: two patients
// with one 16-slice CT each, seed 1, Explicit VR Little Endian.
type Options struct {
	// Modality is CT, MR, CR, DX, US or MG. Empty means the procedure's
	// modality, or CT.
	Modality string
	// Procedure is a procedure key ("CT_HEAD") or CPT code ("70450"); see
	// Procedures. Empty picks, per patient, one of the modality's procedures
	// in rotation (CT cycles head, chest, abdomen/pelvis, CTA chest).
	Procedure string
	// Slices is the number of images per CT or MR series and the number of
	// frames per US cine clip. Default: CT 16, MR 12, US 12. CR/DX (two
	// views) and MG (four views) ignore it.
	Slices int
	// Patients is how many roster patients get studies (default 2).
	Patients int
	// FirstPatient is the roster index of the first patient (see Roster).
	// For MG only female roster entries are used, starting there.
	FirstPatient int
	// Studies is the number of studies per patient (default 1). A patient's
	// studies are dated one year apart, the last on the study date, so
	// Studies > 1 produces priors.
	Studies int
	// Seed makes the output reproducible: the same options give the same
	// bytes. Zero means 1.
	Seed int64
	// Rows and Columns override the image size. Defaults: CT 512×512,
	// MR 256×256, CR/DX 1024×1024, US 480×640, MG 1024×832.
	Rows, Columns int
	// TransferSyntax is the UID to write: Implicit VR LE, Explicit VR LE
	// (default), Deflated Explicit VR LE, RLE Lossless (any modality) or
	// JPEG Baseline (US, CR and DX only; CR/DX then become 8-bit).
	TransferSyntax string
	// Facility is a facility code (see Facilities). Empty assigns each
	// patient a facility derived from the seed and the patient.
	Facility string
	// StudyDate is the date (and, if not midnight, time) of each patient's
	// most recent study, taken as wall-clock time at the facility. Zero
	// derives a date in 2025 from the seed and the patient.
	StudyDate time.Time
}

const (
	maxSlices   = 10000
	maxPatients = 100000
	maxStudies  = 100
	maxDim      = 4096
	minDim      = 16
)

// plan is the validated, defaulted form of Options.
type plan struct {
	opts      Options
	modality  string
	proc      *Procedure // fixed procedure, or nil to rotate
	procs     []Procedure
	facility  *Facility
	ts        dcm.TransferSyntax
	slices    int
	rows      int
	cols      int
	eightBit  bool // CR/DX written as 8-bit (JPEG Baseline)
	seed      uint64
	explicitT bool // StudyDate carries a time of day
}

func (o Options) normalize() (*plan, error) {
	p := &plan{}
	o.Modality = strings.ToUpper(strings.TrimSpace(o.Modality))
	if o.Procedure != "" {
		proc, ok := LookupProcedure(o.Procedure)
		if !ok {
			return nil, fmt.Errorf("gen: unknown procedure %q", o.Procedure)
		}
		if o.Modality == "" {
			o.Modality = proc.Modality
		}
		if !proc.runsOn(o.Modality) {
			return nil, fmt.Errorf("gen: procedure %s is not a %s procedure", proc.Key, o.Modality)
		}
		p.proc = &proc
	}
	if o.Modality == "" {
		o.Modality = "CT"
	}
	p.procs = proceduresFor(o.Modality)
	if len(p.procs) == 0 {
		return nil, fmt.Errorf("gen: unsupported modality %q (want CT, MR, CR, DX, US or MG)", o.Modality)
	}
	p.modality = o.Modality

	if o.Slices < 0 || o.Slices > maxSlices {
		return nil, fmt.Errorf("gen: slices %d out of range 1..%d", o.Slices, maxSlices)
	}
	if o.Slices == 0 {
		switch o.Modality {
		case "CT":
			o.Slices = 16
		default:
			o.Slices = 12
		}
	}
	if o.Patients < 0 || o.Patients > maxPatients {
		return nil, fmt.Errorf("gen: patients %d out of range 1..%d", o.Patients, maxPatients)
	}
	if o.Patients == 0 {
		o.Patients = 2
	}
	if o.FirstPatient < 0 {
		return nil, fmt.Errorf("gen: negative first patient %d", o.FirstPatient)
	}
	if o.Studies < 0 || o.Studies > maxStudies {
		return nil, fmt.Errorf("gen: studies %d out of range 1..%d", o.Studies, maxStudies)
	}
	if o.Studies == 0 {
		o.Studies = 1
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	dr, dc := defaultSize(o.Modality)
	if o.Rows == 0 {
		o.Rows = dr
	}
	if o.Columns == 0 {
		o.Columns = dc
	}
	for _, d := range []int{o.Rows, o.Columns} {
		if d < minDim || d > maxDim {
			return nil, fmt.Errorf("gen: image size %d×%d out of range %d..%d", o.Rows, o.Columns, minDim, maxDim)
		}
	}
	if o.TransferSyntax == "" {
		o.TransferSyntax = dcm.ExplicitVRLittleEndian
	}
	switch o.TransferSyntax {
	case dcm.ImplicitVRLittleEndian, dcm.ExplicitVRLittleEndian, dcm.DeflatedExplicitVRLittleEndian, dcm.RLELossless:
	case dcm.JPEGBaseline8Bit:
		switch o.Modality {
		case "US":
		case "CR", "DX":
			p.eightBit = true
		default:
			return nil, fmt.Errorf("gen: JPEG Baseline is 8-bit only; %s images are 16-bit (use RLE Lossless)", o.Modality)
		}
	default:
		return nil, fmt.Errorf("gen: unsupported transfer syntax %q", o.TransferSyntax)
	}
	p.ts, _ = dcm.LookupTransferSyntax(o.TransferSyntax)
	if o.Facility != "" {
		f, ok := FacilityByCode(o.Facility)
		if !ok {
			return nil, fmt.Errorf("gen: unknown facility %q", o.Facility)
		}
		p.facility = &f
	}
	if !o.StudyDate.IsZero() {
		h, m, s := o.StudyDate.Clock()
		p.explicitT = h != 0 || m != 0 || s != 0
	}
	p.opts = o
	p.slices = o.Slices
	p.rows, p.cols = o.Rows, o.Columns
	p.seed = mix(uint64(o.Seed))
	return p, nil
}

func defaultSize(modality string) (rows, cols int) {
	switch modality {
	case "MR":
		return 256, 256
	case "CR", "DX":
		return 1024, 1024
	case "US":
		return 480, 640
	case "MG":
		return 1024, 832
	}
	return 512, 512
}
