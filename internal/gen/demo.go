package gen

import "lightbox/internal/dcm"

// MixedDemo returns the small mixed data set the demo seeds: a CT head, a CT
// chest with a prior a year earlier, an MR brain, a two-view chest
// radiograph, an abdominal ultrasound and a screening mammogram, for six
// different roster patients at six facilities spread over the Central,
// Eastern, Mountain, Pacific, Alaska and Hawaii time zones, in a mix of
// transfer syntaxes. Together they are 120 instances and about 31 MB.
// Generate each entry with Each or WriteDir; the entries' UIDs never
// collide.
func MixedDemo(seed int64) []Options {
	if seed == 0 {
		seed = 1
	}
	return []Options{
		{Procedure: "CT_HEAD", FirstPatient: 0, Patients: 1, Slices: 24, Facility: "SGH", Seed: seed},
		{Procedure: "CT_CHEST", FirstPatient: 1, Patients: 1, Studies: 2, Slices: 32, Facility: "HBI", Seed: seed, TransferSyntax: dcm.RLELossless},
		{Procedure: "MR_BRAIN", FirstPatient: 2, Patients: 1, Slices: 12, Facility: "RMI", Seed: seed},
		{Procedure: "XR_CHEST_2V", FirstPatient: 3, Patients: 1, Facility: "PCM", Seed: seed, TransferSyntax: dcm.RLELossless},
		{Procedure: "US_ABDOMEN", FirstPatient: 4, Patients: 1, Slices: 16, Facility: "NLM", Seed: seed, TransferSyntax: dcm.JPEGBaseline8Bit},
		{Procedure: "MG_SCREENING", FirstPatient: 6, Patients: 1, Facility: "ATH", Seed: seed, TransferSyntax: dcm.RLELossless},
	}
}
