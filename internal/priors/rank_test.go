package priors

import (
	"slices"
	"testing"
)

func TestRank(t *testing.T) {
	found := []Found{
		{StudyUID: "cur", StudyDate: "20260101", Modalities: []string{"CT"}},
		{StudyUID: "old-ct-chest", StudyDate: "20200101", Modalities: []string{"CT"}, BodyParts: []string{"CHEST"}},
		{StudyUID: "new-mr", StudyDate: "20251201", Modalities: []string{"MR"}, BodyParts: []string{"CHEST"}},
		{StudyUID: "mid-ct-head", StudyDate: "20230101", Modalities: []string{"CT"}, BodyParts: []string{"HEAD"}},
		{StudyUID: "new-ct-chest", StudyDate: "20240101", Modalities: []string{"CT", "SR"}, BodyParts: []string{"chest"}},
		{StudyUID: "new-ct-chest", StudyDate: "20240101"}, // the PACS answered twice
	}
	for _, tc := range []struct {
		name string
		cur  Current
		want []string
	}{
		{"modality then body part then recency", Current{StudyUID: "cur", Modality: "CT", BodyPart: "CHEST"},
			[]string{"new-ct-chest", "old-ct-chest", "mid-ct-head", "new-mr"}},
		{"modality only", Current{StudyUID: "cur", Modality: "CT"},
			[]string{"new-ct-chest", "mid-ct-head", "old-ct-chest", "new-mr"}},
		{"nothing known: recency", Current{StudyUID: "cur"},
			[]string{"new-mr", "new-ct-chest", "mid-ct-head", "old-ct-chest"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range Rank(tc.cur, found) {
				got = append(got, f.StudyUID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatching(t *testing.T) {
	q := Query{Issuer: "SGH", PatientID: "123", Name: "DOE^JANE", BirthDate: "19700101"}
	for _, tc := range []struct {
		name    string
		f       Found
		byID    bool
		byNameD bool
	}{
		{"same issuer and ID", Found{Issuer: "SGH", PatientID: "123"}, true, false},
		{"ID, PACS keeps no issuer", Found{PatientID: "123"}, true, false},
		{"ID from another issuer", Found{Issuer: "OTHER", PatientID: "123"}, false, false},
		{"name and birth date equal", Found{PatientID: "9", PatientName: "DOE^JANE", BirthDate: "19700101"}, false, true},
		{"name equal, birth date differs", Found{PatientID: "9", PatientName: "DOE^JANE", BirthDate: "19700102"}, false, false},
		{"birth date equal, name differs", Found{PatientID: "9", PatientName: "DOE^JOHN", BirthDate: "19700101"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(sameID(q, []Found{tc.f})) == 1; got != tc.byID {
				t.Errorf("by ID: %v, want %v", got, tc.byID)
			}
			if got := len(confirmed(q, []Found{tc.f})) == 1; got != tc.byNameD {
				t.Errorf("by name and birth date: %v, want %v", got, tc.byNameD)
			}
		})
	}
	if got := confirmed(Query{Name: "DOE^JANE"}, []Found{{PatientName: "DOE^JANE"}}); len(got) != 0 {
		t.Errorf("a fallback without a birth date matched: %v", got)
	}
}
