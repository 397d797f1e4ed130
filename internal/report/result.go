package report

import (
	"context"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/outbox"
)

// Result is what a signed version's result message announces, free of any
// protocol: the HL7 adapter (internal/hl7report) turns it into an ORU^R01.
// It is built in the signing transaction and handed to Options.Results
// there, so the message is queued durably with the signature or not at
// all.
type Result struct {
	SendingApp string    // MSH-3
	Now        time.Time // MSH-7

	FacilityID, FacilityName string
	Issuer, PatientID        string
	PatientName              string // DICOM-style Family^Given^Middle
	BirthDate, Sex           string

	Accession, PlacerOrder                        string
	ProcedureCode, ProcedureText, ProcedureSystem string
	// The ordering provider (empty when the study has no order or the
	// order names none).
	OrderingID, OrderingName, OrderingIDType string
	StudyDate, StudyTime                     string // as stored (DICOM DA/TM)

	SignedAt time.Time // this version's signature
	Status   string    // OBR-25 / OBX-11: P, F, C or A
	// The principal interpreter: the signer of the prelim or final this
	// version rests on (empty before one is signed).
	InterpreterID, InterpreterName string
	InterpretedAt                  time.Time

	Lines []string // the full report text, one entry per line
	PDF   []byte   // the report PDF when the facility embeds it, else nil
}

// ResultWriter queues a result message for a facility's endpoint through
// x, the signing transaction; relatedID ("reportID:seq") ties the queued
// message to the version (Deliveries). Wire hl7report.Outbox.
type ResultWriter func(ctx context.Context, x db.Execer, ep outbox.Endpoint, relatedID string, r Result) error

// resultStatus is OBR-25 / OBX-11 for version v given the versions up to
// it: P, F, C; an addendum is P while the report is preliminary, else the
// facility's addendum status (C by default: the full text plus the
// addendum, docs/domain.md §9; A where the site wants it).
func resultStatus(vs []Version, v Version, fs FacilitySettings) string {
	if v.Kind == KindAddendum {
		sm := summarize(vs)
		if sm.final == nil {
			return "P"
		}
	}
	return v.ResultStatus(fs.AddendumStatus)
}

// result describes version v for its result message.
func (s *Service) result(st *study, rep Report, vs []Version, v Version, fs FacilitySettings, now time.Time) Result {
	r := Result{SendingApp: s.opt.SendingApp, Now: now, FacilityID: st.FacilityID, FacilityName: st.FacilityName,
		Issuer: st.Issuer, PatientID: st.PatientID, PatientName: st.PatientName, BirthDate: st.BirthDate, Sex: st.Sex,
		Accession: st.Accession, StudyDate: st.StudyDate, StudyTime: st.StudyTime, SignedAt: v.SignedAt, Status: resultStatus(vs, v, fs)}
	r.ProcedureCode, r.ProcedureText, r.ProcedureSystem = st.procedure()
	if st.Order != nil {
		r.PlacerOrder = st.Order.PlacerOrder
		if o := st.Order.Ordering; o.Name != "" || o.ID != "" {
			r.OrderingID, r.OrderingName, r.OrderingIDType = o.ID, o.Name, o.IDType
		}
	}
	d, _ := s.documentAt(st, rep, vs, v.Seq, fs)
	if interp := summarize(vs[:indexOfSeq(vs, v.Seq)+1]).base; interp != nil && interp.Signer != nil {
		r.InterpreterID, r.InterpreterName, r.InterpretedAt = interp.Signer.ReaderID, interp.Signer.Display, interp.SignedAt
	}
	r.Lines = d.lines()
	if fs.EmbedPDF {
		r.PDF = d.pdf("Radiology report " + st.Accession)
	}
	return r
}

func indexOfSeq(vs []Version, seq int) int {
	for i, v := range vs {
		if v.Seq == seq {
			return i
		}
	}
	return len(vs) - 1
}
