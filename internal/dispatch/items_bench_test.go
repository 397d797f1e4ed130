package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/model"
)

// boardItems is the number of open studies on the seeded board: a busy
// group's worklist.
const boardItems = 300

// seedBoard writes n patients, each with an open study on the worklist and
// one prior, straight into the tables (test set-up only; the owners' APIs
// would need DICOM and the engine for each).
func seedBoard(b testing.TB, d *db.DB, n int) {
	ctx := context.Background()
	now := db.Now(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	err := d.InTx(ctx, func(tx *db.Tx) error {
		for i := range n {
			var ppk int64
			if err := tx.QueryRow(ctx, `INSERT INTO patient (issuer, patient_id, name, birth_date, sex, created_at, updated_at)
				VALUES ('SGH', ?, ?, '19600101', 'F', ?, ?) RETURNING pk`, fmt.Sprintf("P%05d", i), fmt.Sprintf("DOE^JANE%d", i), now, now).Scan(&ppk); err != nil {
				return err
			}
			for _, uid := range []string{fmt.Sprintf("1.2.826.0.1.%d", i), fmt.Sprintf("1.2.826.0.2.%d", i)} {
				if _, err := tx.Exec(ctx, `INSERT INTO study (study_uid, patient_pk, facility_id, accession, description, modalities, created_at, last_instance_at)
					VALUES (?, ?, 'SGH', ?, 'CT HEAD WO CONTRAST', 'CT', ?, ?)`, uid, ppk, "A"+uid, now, now); err != nil {
					return err
				}
			}
			st := model.Study{ID: fmt.Sprintf("1.2.826.0.1.%d", i), FacilityID: "SGH", Modality: "CT", BodyPart: "HEAD", CPT: "70450", Priority: model.STAT, WorkRVU: 0.85}
			doc, _ := json.Marshal(st)
			status, reader, lease := "waiting", "", ""
			if i%3 == 0 {
				status, reader, lease = "leased", "dr.a", `{"opened":true}`
			}
			if _, err := tx.Exec(ctx, `INSERT INTO read_item (study_uid, facility_id, doc, status, reader_id, lease, created_at, updated_at)
				VALUES (?, 'SGH', ?, ?, ?, ?, ?, ?)`, st.ID, string(doc), status, reader, lease, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBoardRead is the worklist board's open-items read as the API
// makes it (internal/api items: Service.OpenItems, then the archive's
// StudyDisplays for the patient columns and prior counts), beside the one
// joined query it replaced when read_item and study got separate owners
// (kept here as the reference only: it reads archive tables from dispatch).
func BenchmarkBoardRead(b *testing.B) {
	for name, d := range dbtest.Databases(b) {
		seedBoard(b, d, boardItems)
		ctx := context.Background()
		s := New(d, Options{})
		owners := func(b *testing.B, open func() ([]Item, error)) {
			for b.Loop() {
				rows, err := open()
				if err != nil {
					b.Fatal(err)
				}
				studies, err := archive.StudyDisplays(ctx, d, studyUIDs(rows))
				if err != nil || len(studies) != boardItems {
					b.Fatal(len(studies), err)
				}
			}
		}
		// As the API reads the board: the open rows from the engine's
		// node, the display fields from their owner.
		b.Run(name+"/owners", func(b *testing.B) {
			owners(b, func() ([]Item, error) { return s.OpenItems(ctx, "") })
		})
		// The worst case: a worklist write between every two reads (or a
		// node that does not run the engine).
		b.Run(name+"/owners-after-write", func(b *testing.B) {
			owners(b, func() ([]Item, error) { s.open.wrote(); return s.OpenItems(ctx, "") })
		})
		// The two halves of owners, to see where its time goes.
		b.Run(name+"/open-items-only", func(b *testing.B) {
			for b.Loop() {
				if rows, err := OpenItems(ctx, d, ""); err != nil || len(rows) != boardItems {
					b.Fatal(len(rows), err)
				}
			}
		})
		rows, err := OpenItems(ctx, d, "")
		if err != nil {
			b.Fatal(err)
		}
		uids := studyUIDs(rows)
		b.Run(name+"/displays-only", func(b *testing.B) {
			for b.Loop() {
				if studies, err := archive.StudyDisplays(ctx, d, uids); err != nil || len(studies) != boardItems {
					b.Fatal(len(studies), err)
				}
			}
		})
		b.Run(name+"/joined", func(b *testing.B) {
			for b.Loop() {
				n := 0
				rows, err := d.Query(ctx, `SELECT r.study_uid, r.facility_id, r.status, r.reader_id, r.note, r.doc, r.updated_at,
					s.accession, p.name, p.patient_id, s.description, p.sex, p.birth_date, r.lease,
					(SELECT COUNT(*) FROM study o WHERE o.patient_pk = s.patient_pk AND o.study_uid <> s.study_uid)
					FROM read_item r JOIN study s ON s.study_uid = r.study_uid JOIN patient p ON p.pk = s.patient_pk
					WHERE r.status IN ('waiting', 'leased', 'queued', 'uncovered') ORDER BY r.created_at`)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
					var c [14]string
					var priors int
					if err := rows.Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7], &c[8], &c[9], &c[10], &c[11], &c[12], &c[13], &priors); err != nil {
						b.Fatal(err)
					}
					n++
				}
				rows.Close()
				if n != boardItems {
					b.Fatal(n)
				}
			}
		})
	}
}

// The board's display fields (archive.StudyDisplays) are those of the
// studies' whole records (archive.Study); each seeded patient has one prior.
func TestStudyDisplaysMatchRecords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seedBoard(t, d, 5)
		rows, err := OpenItems(ctx, d, "")
		if err != nil {
			t.Fatal(err)
		}
		uids := append(studyUIDs(rows), "1.2.826.0.2.1", "9.9.9") // a prior, and a study that is not stored
		recs := map[string]archive.StudyRecord{}
		for _, uid := range uids {
			r, err := archive.Study(ctx, d, uid)
			if errors.Is(err, archive.ErrNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			recs[uid] = r
		}
		ds, err := archive.StudyDisplays(ctx, d, uids)
		if err != nil || len(ds) != len(recs) || len(ds) != 6 {
			t.Fatalf("%d displays (%v), %d records", len(ds), err, len(recs))
		}
		for uid, r := range recs {
			want := archive.StudyDisplay{UID: uid, Accession: r.Accession, Description: r.Description, PatientName: r.Patient.Name,
				PatientID: r.Patient.ID, PatientSex: r.Patient.Sex, BirthDate: r.Patient.BirthDate, Priors: 1}
			if ds[uid] != want {
				t.Fatalf("%s: display %+v, record %+v", uid, ds[uid], want)
			}
		}
	})
}

func studyUIDs(items []Item) []string {
	uids := make([]string, len(items))
	for i, it := range items {
		uids[i] = it.StudyUID
	}
	return uids
}
