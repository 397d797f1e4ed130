package assign

import (
	"fmt"
	"math/rand/v2"
	"time"

	"lightbox/internal/model"
)

var t0 = time.Date(2026, 3, 7, 18, 0, 0, 0, time.UTC) // spans the US DST change overnight

var zones = []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"}
var states = []string{"TX", "WY", "NY", "CA", "FL", "OH", "CO", "AK"}

type world struct {
	facilities []*model.Facility
	readers    []*model.Reader
}

// randomWorld builds readers and facilities with a deliberate share of
// broken credentials so the hard rules are exercised.
func randomWorld(rng *rand.Rand, nReaders, nFac int) *world {
	w := &world{}
	for i := range nFac {
		f := &model.Facility{ID: fmt.Sprintf("F%d", i), Name: fmt.Sprintf("Facility %d", i), State: states[rng.IntN(len(states))],
			TimeZone: zones[rng.IntN(len(zones))], Medicare: rng.IntN(3) > 0}
		switch rng.IntN(5) {
		case 0:
			f.ReadType = model.ReadPrelimOnly
		case 1:
			f.ReadType = model.ReadFinalRequiresUS
		default:
			f.ReadType = model.ReadFinalType
		}
		if err := f.Resolve(); err != nil {
			panic(err)
		}
		w.facilities = append(w.facilities, f)
	}
	exp := func() model.Date {
		// Some lapse during the run, some are already gone.
		return model.DateOf(t0.AddDate(0, 0, rng.IntN(6)-2))
	}
	for i := range nReaders {
		r := &model.Reader{ID: fmt.Sprintf("R%03d", i), Name: fmt.Sprintf("Dr %d", i), TimeZone: zones[rng.IntN(len(zones))],
			Modalities: []string{"CT", "CR", "US"}, Workstation: model.WS3MP, RVUTargetPerHour: 8 + float64(rng.IntN(5)),
			MaxOpenCases: 2 + rng.IntN(4), Location: model.Location{Country: "US", State: states[rng.IntN(len(states))]}}
		if rng.IntN(6) == 0 {
			r.Location = model.Location{Country: "AU"}
			r.TimeZone = "Australia/Sydney"
		}
		if rng.IntN(2) == 0 {
			r.Modalities = append(r.Modalities, "MR")
		}
		if rng.IntN(3) == 0 {
			r.Modalities = append(r.Modalities, "MG")
			r.Workstation = model.WS5MP
			r.MQSA = model.MQSA{Qualified: true, Last24Months: 900 + rng.IntN(300), DBT: rng.IntN(2) == 0}
		}
		// Personal caps (tight, so they bind) and readers on the group default.
		if rng.IntN(3) == 0 {
			r.MaxRVUPerHour = 2 + float64(rng.IntN(4))
		}
		if rng.IntN(4) == 0 {
			r.MaxOpenCases = 0
		}
		if rng.IntN(3) == 0 {
			r.Subspecialties = []string{"neuro"}
		}
		var mstates []string
		for _, s := range states {
			if rng.IntN(10) < 6 {
				l := model.License{State: s, Number: r.ID + s, Status: model.LicenceActive, Expires: model.DateOf(t0.AddDate(1, 0, 0))}
				switch rng.IntN(14) {
				case 0:
					l.Expires = exp()
				case 1:
					l.Status = model.LicenceInactive
				case 2:
					l.Restrictions = []string{"supervision"}
				}
				r.Licenses = append(r.Licenses, l)
				mstates = append(mstates, s)
			}
		}
		r.Malpractice = []model.Malpractice{{Carrier: "C", States: mstates, Telemedicine: rng.IntN(10) > 0, Expires: model.DateOf(t0.AddDate(1, 0, 0))}}
		for _, f := range w.facilities {
			if rng.IntN(10) < 7 {
				p := model.Privilege{Facility: f.ID, Basis: model.Direct, Expires: model.DateOf(t0.AddDate(1, 0, 0)),
					Scope: model.Scope{Mammography: rng.IntN(2) == 0, Paediatrics: rng.IntN(4) > 0}}
				switch rng.IntN(14) {
				case 0:
					p.Expires = exp()
				case 1:
					p.Basis = model.Proxy
				case 2:
					p.Scope.Modalities = []string{"CR"}
				}
				r.Privileges = append(r.Privileges, p)
			}
		}
		if rng.IntN(5) > 0 {
			r.Enrolments = []model.Enrolment{{Payer: model.PayerMedicare, Active: true}}
		}
		// Two on-duty blocks in the 24 h window plus, for some, a recurring night.
		for b := 0; b < 2; b++ {
			st := t0.Add(time.Duration(rng.IntN(4*60)-60+b*300) * time.Minute)
			r.Blocks = append(r.Blocks, model.Block{Type: model.Dayhawk, Start: st, End: st.Add(time.Duration(2+rng.IntN(4)) * time.Hour)})
		}
		if rng.IntN(3) == 0 {
			r.Shifts = []model.Shift{{Type: model.Nighthawk, Start: model.MustClock("22:00"), End: model.MustClock("08:00")}}
		}
		if err := r.Resolve(); err != nil {
			panic(err)
		}
		w.readers = append(w.readers, r)
	}
	return w
}

var cpts = []struct {
	cpt, mod, body string
	rvu            float64
}{
	{"70450", "CT", "HEAD", 0.85}, {"71046", "CR", "CHEST", 0.22}, {"74177", "CT", "ABDOMEN", 1.82},
	{"70553", "MR", "HEAD", 2.29}, {"76700", "US", "ABDOMEN", 0.81}, {"77067", "MG", "BREAST", 0.76}, {"G0279", "MG", "BREAST", 0.60},
}

func randomStudy(rng *rand.Rand, w *world, id int, now time.Time) *model.Study {
	f := w.facilities[rng.IntN(len(w.facilities))]
	c := cpts[rng.IntN(len(cpts))]
	s := &model.Study{ID: fmt.Sprintf("S%05d", id), Facility: f, FacilityID: f.ID, Modality: c.mod, BodyPart: c.body, CPT: c.cpt,
		WorkRVU: c.rvu, ExamTime: now.Add(-5 * time.Minute), ArrivalTime: now, RelatedKey: fmt.Sprintf("P%d", rng.IntN(40))}
	switch x := rng.IntN(20); {
	case x == 0:
		s.Stroke, s.Priority = true, model.STAT
	case x == 1:
		s.Trauma, s.Priority = true, model.STAT
	case x < 7:
		s.Priority = model.STAT
	case x < 9:
		s.Priority = model.ASAP
	}
	if rng.IntN(10) == 0 {
		s.Paediatric = true
	}
	if rng.IntN(8) == 0 {
		s.Subspecialty, s.SubspecialtyRequired = "neuro", rng.IntN(2) == 0
	}
	if f.ReadType == model.ReadPrelimOnly {
		s.Need = model.NeedPrelim
	} else if f.ReadType == model.ReadFinalRequiresUS && rng.IntN(2) == 0 {
		s.Need = model.NeedPrelimThenFinal
	}
	return s
}
