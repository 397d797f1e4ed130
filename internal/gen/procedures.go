package gen

import "strings"

// CPTCodingScheme is the DICOM coding scheme designator of CPT-4 codes
// (PS3.16 Table 8-1), used in ProcedureCodeSequence items.
const CPTCodingScheme = "C4"

// Procedure is a study type the generator can produce. Its CPT code goes into
// ProcedureCodeSequence, which Lightbox's reading workflow keys on.
type Procedure struct {
	Key         string // stable identifier, e.g. "CT_HEAD"
	CPT         string // CPT-4 code, e.g. "70450"
	Description string // StudyDescription and the code meaning
	Modality    string // CT, MR, CR, US or MG (CR procedures also run as DX)
	BodyPart    string // BodyPartExamined
	Contrast    bool   // contrast-enhanced (adds ContrastBolusAgent)
	anatomy     anatomy
}

type anatomy int

const (
	anatHead anatomy = iota
	anatChest
	anatAbdomen
	anatChestAngio
	anatBrainMR
	anatChestXR
	anatAbdomenUS
	anatBreast
)

// Procedures returns the supported procedures in a stable order.
func Procedures() []Procedure {
	return []Procedure{
		{Key: "CT_HEAD", CPT: "70450", Description: "CT HEAD WO CONTRAST", Modality: "CT", BodyPart: "HEAD", anatomy: anatHead},
		{Key: "CT_CHEST", CPT: "71250", Description: "CT CHEST WO CONTRAST", Modality: "CT", BodyPart: "CHEST", anatomy: anatChest},
		{Key: "CT_ABD_PELVIS", CPT: "74177", Description: "CT ABDOMEN AND PELVIS W CONTRAST", Modality: "CT", BodyPart: "ABDOMENPELVIS", Contrast: true, anatomy: anatAbdomen},
		{Key: "CTA_CHEST", CPT: "71275", Description: "CTA CHEST W WO CONTRAST", Modality: "CT", BodyPart: "CHEST", Contrast: true, anatomy: anatChestAngio},
		{Key: "MR_BRAIN", CPT: "70553", Description: "MRI BRAIN WO W CONTRAST", Modality: "MR", BodyPart: "BRAIN", Contrast: true, anatomy: anatBrainMR},
		{Key: "XR_CHEST_2V", CPT: "71046", Description: "XR CHEST 2 VIEWS", Modality: "CR", BodyPart: "CHEST", anatomy: anatChestXR},
		{Key: "US_ABDOMEN", CPT: "76700", Description: "US ABDOMEN COMPLETE", Modality: "US", BodyPart: "ABDOMEN", anatomy: anatAbdomenUS},
		{Key: "MG_SCREENING", CPT: "77067", Description: "MG SCREENING BILATERAL", Modality: "MG", BodyPart: "BREAST", anatomy: anatBreast},
	}
}

// LookupProcedure finds a procedure by key or CPT code (case-insensitive).
func LookupProcedure(s string) (Procedure, bool) {
	for _, p := range Procedures() {
		if strings.EqualFold(p.Key, s) || p.CPT == s {
			return p, true
		}
	}
	return Procedure{}, false
}

// proceduresFor lists the procedures a modality can perform.
func proceduresFor(modality string) []Procedure {
	var out []Procedure
	for _, p := range Procedures() {
		if p.runsOn(modality) {
			out = append(out, p)
		}
	}
	return out
}

func (p Procedure) runsOn(modality string) bool {
	return p.Modality == modality || (p.Modality == "CR" && modality == "DX")
}
