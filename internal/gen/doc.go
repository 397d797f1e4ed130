// Package gen produces valid synthetic DICOM studies for tests and demos.
//
// Everything is deterministic from Options.Seed: the same options yield the
// same bytes, UIDs included (2.25 UIDs derived with dcm.DeterministicUID).
// Studies belong to obviously fake patients (Roster) at fictitious
// facilities (Facilities), carry a CPT code in ProcedureCodeSequence
// (Procedures), and show a simple phantom rather than a blank image: an
// ellipse body with organs whose size and density vary from slice to slice,
// plus seeded noise.
//
// Generation streams: Each builds one instance at a time and reuses its
// buffers, so a 1,000-slice CT costs the memory of one slice.
//
// Supported IODs: CT Image, MR Image, CR Image, Digital X-Ray and Digital
// Mammography X-Ray (For Presentation), Ultrasound Multi-frame Image.
// Transfer syntaxes: Implicit and Explicit VR Little Endian, Deflated
// Explicit VR Little Endian, RLE Lossless (encoder in this package, PS3.5
// Annex G) and JPEG Baseline for 8-bit US, CR and DX (image/jpeg).
package gen
