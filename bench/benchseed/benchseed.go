package benchseed

import (
	"context"
	"fmt"

	"lightbox/internal/db"
)

// Families are the family names of the synthetic patients, in turn.
var Families = []string{"SMITH", "JONES", "TAYLOR", "BROWN", "WILSON", "NGUYEN", "GARCIA", "MILLER", "DAVIS", "LOPEZ"}

// Studies inserts n patients with one study each.
func Studies(ctx context.Context, d *db.DB, n int) error {
	return d.InTx(ctx, func(tx *db.Tx) error {
		for i := range n {
			var pk int64
			name := fmt.Sprintf("%s%d^PAT%d", Families[i%len(Families)], i%997, i)
			if err := tx.QueryRow(ctx, `INSERT INTO patient (issuer, patient_id, name, birth_date, sex, created_at, updated_at) VALUES (?, ?, ?, '19700101', 'F', 'x', 'x') RETURNING pk`,
				"SGH-MRN", fmt.Sprintf("B%07d", i), name).Scan(&pk); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO study (study_uid, patient_pk, facility_id, accession, study_date, study_time, description, modalities, num_series, num_instances, created_at, last_instance_at)
				VALUES (?, ?, ?, ?, ?, '120000', 'CT CHEST', 'CT', 1, 100, 'x', 'x')`,
				fmt.Sprintf("2.25.9%d", i), pk, []string{"SGH", "HBI"}[i%2], fmt.Sprintf("ACC%07d", i), fmt.Sprintf("2025%02d%02d", 1+i%12, 1+i%28)); err != nil {
				return err
			}
		}
		return nil
	})
}
