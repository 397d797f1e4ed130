package priors

import (
	"cmp"
	"slices"
	"strings"
)

// Query is what a C-FIND for a patient's studies matches on.
type Query struct {
	Issuer, PatientID string
	Name, BirthDate   string
}

// Found is one study a PACS returned.
type Found struct {
	StudyUID    string
	StudyDate   string // YYYYMMDD
	StudyTime   string
	Modalities  []string
	BodyParts   []string // of its series (SERIES-level C-FIND), when asked
	Description string
	Issuer      string
	PatientID   string
	PatientName string
	BirthDate   string
}

// Current is the study priors are fetched for.
type Current struct {
	StudyUID, Modality, BodyPart string
}

// Rank orders candidate priors: the current study is never one; the same
// modality comes first, then the same body part, then the most recent.
func Rank(cur Current, found []Found) []Found {
	out := make([]Found, 0, len(found))
	seen := map[string]bool{cur.StudyUID: true}
	for _, f := range found {
		if f.StudyUID == "" || seen[f.StudyUID] {
			continue
		}
		seen[f.StudyUID] = true
		out = append(out, f)
	}
	score := func(f Found) int {
		n := 0
		if cur.Modality != "" && slices.ContainsFunc(f.Modalities, func(m string) bool { return strings.EqualFold(m, cur.Modality) }) {
			n += 2
		}
		if cur.BodyPart != "" && slices.ContainsFunc(f.BodyParts, func(b string) bool { return strings.EqualFold(b, cur.BodyPart) }) {
			n++
		}
		return n
	}
	slices.SortStableFunc(out, func(a, b Found) int {
		if c := cmp.Compare(score(b), score(a)); c != 0 {
			return c
		}
		return cmp.Compare(b.StudyDate+b.StudyTime, a.StudyDate+a.StudyTime)
	})
	return out
}

// sameID keeps the studies whose issuer is ours or absent (a facility PACS
// often keeps no issuer: its IDs are the facility's own).
func sameID(q Query, found []Found) []Found {
	var out []Found
	for _, f := range found {
		if f.PatientID == q.PatientID && (f.Issuer == "" || f.Issuer == q.Issuer) {
			out = append(out, f)
		}
	}
	return out
}

// confirmed keeps the studies whose patient name and birth date both equal
// ours exactly (the fallback match when no study matched the patient ID).
func confirmed(q Query, found []Found) []Found {
	var out []Found
	for _, f := range found {
		if q.Name != "" && q.BirthDate != "" && strings.TrimSpace(f.PatientName) == strings.TrimSpace(q.Name) && f.BirthDate == q.BirthDate {
			out = append(out, f)
		}
	}
	return out
}
