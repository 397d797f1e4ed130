package consult

import (
	"cmp"
	"slices"
	"time"

	"lightbox/internal/model"
)

// Candidate is one colleague considered for a second opinion, with every
// reason they cannot give it (none: eligible).
type Candidate struct {
	ReaderID string            `json:"reader_id"`
	Name     string            `json:"name,omitempty"`
	Reasons  []model.Exclusion `json:"reasons,omitempty"`
}

// Reason codes of the reading room, beside model.Check's.
const (
	CodeStatus       model.Code = "room.status"
	CodeRequester    model.Code = "room.requester"
	CodeSubspecialty model.Code = model.CodeSubspecialty
)

// Ask is what a second-opinion request names: a colleague, or any
// available reader of a subspecialty ("" for anyone).
type Ask struct {
	Requester    string
	Consultant   string
	Subspecialty string
}

// Route picks the consultant for a second opinion on study: a colleague
// whom model.Check allows to read it (licence in the patient's state,
// privileges at the facility, modality; presence from the engine) and who
// set their reading-room status to available. Being off shift does not
// matter: a consult is not a read. It returns the chosen reader ("" when
// none can) and every candidate with their reasons, so a refusal says why.
// Among several eligible, the one whose status is oldest (longest
// available) is chosen, then by ID.
func Route(ask Ask, readers []*model.Reader, study *model.Study, presence map[string]model.ShiftState, status map[string]RoomStatus, at time.Time) (string, []Candidate) {
	var out []Candidate
	best, bestSince := "", ""
	for _, r := range readers {
		if ask.Consultant != "" && r.ID != ask.Consultant {
			continue
		}
		if ask.Consultant == "" && ask.Subspecialty != "" && !slices.Contains(r.Subspecialties, ask.Subspecialty) {
			continue // not a candidate at all: another subspecialty
		}
		c := Candidate{ReaderID: r.ID, Name: r.Name}
		if r.ID == ask.Requester {
			if ask.Consultant == "" {
				continue
			}
			c.Reasons = append(c.Reasons, model.Exclusion{Code: CodeRequester, Reason: "is the requester"})
		}
		ss, ok := presence[r.ID]
		if !ok {
			ss = model.ShiftState{Presence: model.Offline}
		}
		ss.OnShift = true
		c.Reasons = append(c.Reasons, model.Check(r, study, model.Prelim, at, ss)...)
		st := status[r.ID]
		if st.Status != Available {
			s := string(st.Status)
			if s == "" {
				s = "not set"
			}
			c.Reasons = append(c.Reasons, model.Exclusion{Code: CodeStatus, Reason: "reading-room status is " + s + ", not available for consults"})
		}
		if len(c.Reasons) == 0 && (best == "" || st.UpdatedAt < bestSince) {
			best, bestSince = r.ID, st.UpdatedAt
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Candidate) int { return cmp.Compare(a.ReaderID, b.ReaderID) })
	return best, out
}
