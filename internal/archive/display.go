package archive

import (
	"context"
	"slices"

	"lightbox/internal/db"
)

// StudyDisplay is what a worklist row shows of a stored study: its
// accession and description, its patient, and the patient's other studies.
type StudyDisplay struct {
	UID, Accession, Description                   string
	PatientName, PatientID, PatientSex, BirthDate string
	Priors                                        int
}

// StudyDisplays returns the display fields of the stored studies among
// uids, keyed by Study Instance UID. It reads only the columns a board
// shows, 500 studies a query: the coordinator board asks for every open
// study at each change, and whole study records (StudyRecord) cost it more than
// the single join it replaced.
func StudyDisplays(ctx context.Context, x db.Execer, uids []string) (map[string]StudyDisplay, error) {
	out := make(map[string]StudyDisplay, len(uids))
	for chunk := range slices.Chunk(uids, 500) { // far below every driver's bound on parameters
		args := make([]any, len(chunk))
		for i, u := range chunk {
			args[i] = u
		}
		ds, err := db.List("study display", db.Rows(x.Query(ctx, `SELECT s.study_uid, s.accession, s.description, p.name, p.patient_id, p.sex, p.birth_date,
			(SELECT COUNT(*) FROM study o WHERE o.patient_pk = s.patient_pk AND o.study_uid <> s.study_uid)
			FROM study s JOIN patient p ON p.pk = s.patient_pk WHERE s.study_uid IN (`+marks(len(chunk))+")", args...)),
			func(r db.Scanner) (s StudyDisplay, err error) {
				return s, r.Scan(&s.UID, &s.Accession, &s.Description, &s.PatientName, &s.PatientID, &s.PatientSex, &s.BirthDate, &s.Priors)
			})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			out[d.UID] = d
		}
	}
	return out, nil
}
