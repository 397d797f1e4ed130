package consult

import (
	"slices"
	"strings"
	"testing"
	"time"

	"lightbox/internal/model"
)

// TestRoute: the consultant is an eligible colleague (model.Check with the
// engine's presence) whose status is available; the requester and other
// subspecialties are no candidates; a refusal lists every reason.
func TestRoute(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	fac := &model.Facility{ID: "SGH", Name: "SGH", State: "IL"}
	study := &model.Study{ID: "1.2.3", FacilityID: "SGH", Facility: fac, Modality: "CT"}
	reader := func(id string, subs []string, privileged bool) *model.Reader {
		r := &model.Reader{ID: id, Subspecialties: subs, Modalities: []string{"CT"},
			Licenses:    []model.License{{State: "IL", Status: model.LicenceActive, Expires: model.DateOf(now).AddDays(300)}},
			Malpractice: []model.Malpractice{{States: []string{"IL"}, Telemedicine: true, Expires: model.DateOf(now).AddDays(300)}}}
		if privileged {
			r.Privileges = []model.Privilege{{Facility: "SGH", Basis: model.Direct, Expires: model.DateOf(now).AddDays(300)}}
		}
		_ = r.Resolve()
		return r
	}
	rs := []*model.Reader{reader("alpha", []string{"neuro"}, true), reader("bravo", []string{"neuro"}, true), reader("carol", []string{"neuro"}, false), reader("dave", []string{"body"}, true)}
	online := model.ShiftState{Presence: model.Online}
	presence := map[string]model.ShiftState{"alpha": online, "bravo": online, "carol": online, "dave": online}
	avail := func(since string) RoomStatus { return RoomStatus{Status: Available, Visible: true, UpdatedAt: since} }
	status := map[string]RoomStatus{"alpha": avail("1"), "bravo": avail("2"), "carol": avail("1"), "dave": avail("0")}
	for _, c := range []struct {
		name    string
		ask     Ask
		mod     func()
		want    string
		reasons map[string]model.Code
		absent  []string
	}{
		{name: "any neuro", ask: Ask{Requester: "alpha", Subspecialty: "neuro"}, want: "bravo", reasons: map[string]model.Code{"carol": model.CodeNoPrivilege}, absent: []string{"alpha", "dave"}},
		{name: "anyone: longest available", ask: Ask{Requester: "alpha"}, want: "dave"},
		{name: "named, not privileged", ask: Ask{Requester: "alpha", Consultant: "carol"}, reasons: map[string]model.Code{"carol": model.CodeNoPrivilege}},
		{name: "named requester", ask: Ask{Requester: "alpha", Consultant: "alpha"}, reasons: map[string]model.Code{"alpha": CodeRequester}},
		{name: "busy", ask: Ask{Requester: "alpha", Subspecialty: "neuro"}, mod: func() { status["bravo"] = RoomStatus{Status: Reading} }, reasons: map[string]model.Code{"bravo": CodeStatus}},
		{name: "offline", ask: Ask{Requester: "alpha", Consultant: "dave"}, mod: func() { delete(presence, "dave") }, reasons: map[string]model.Code{"dave": model.CodeOffline}},
	} {
		if c.mod != nil {
			c.mod()
		}
		got, cands := Route(c.ask, rs, study, presence, status, now)
		if got != c.want {
			t.Errorf("%s: routed to %q, want %q (%+v)", c.name, got, c.want, cands)
		}
		for id, code := range c.reasons {
			i := slices.IndexFunc(cands, func(x Candidate) bool { return x.ReaderID == id })
			if i < 0 || !slices.ContainsFunc(cands[i].Reasons, func(e model.Exclusion) bool { return e.Code == code }) {
				t.Errorf("%s: %s lacks reason %s: %+v", c.name, id, code, cands)
			}
		}
		for _, id := range c.absent {
			if slices.ContainsFunc(cands, func(x Candidate) bool { return strings.EqualFold(x.ReaderID, id) }) {
				t.Errorf("%s: %s should not be a candidate", c.name, id)
			}
		}
	}
}
