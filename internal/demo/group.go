package demo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"lightbox/internal/ae"
	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/gen"
	"lightbox/internal/hl7sender"
	"lightbox/internal/model"
	"lightbox/internal/roster"
)

// Password is the demo accounts' password. The demo prints it; never run
// the demo group on a network that matters.
const Password = "lightbox-demo-password"

// Accounts lists the demo users (user name, role).
var accounts = []struct {
	user string
	role auth.Role
}{
	{"admin", auth.Admin}, {"coordinator", auth.Coordinator},
	{"dr.alpha", auth.Radiologist}, {"dr.bravo", auth.Radiologist}, {"dr.sydney", auth.Radiologist}, {"dr.delta", auth.Radiologist},
}

// seedGroup creates the demo readers, their accounts and the facility
// contracts, and registers the generator's modality AE titles.
func seedGroup(ctx context.Context, d *db.DB, svc *auth.Service, now time.Time) error {
	facs := gen.Facilities()
	states := map[string]bool{}
	var all []string
	for _, f := range facs {
		states[f.State] = true
		all = append(all, f.Code)
	}
	next := model.DateOf(now).AddDays(365)
	soon := model.DateOf(now).AddDays(45) // shows in the expiry alerts
	licences := func(only ...string) []model.License {
		var out []model.License
		for _, f := range facs {
			if len(only) > 0 && !slices.Contains(only, f.State) {
				continue
			}
			exp := next
			if f.State == "CA" {
				exp = soon
			}
			out = append(out, model.License{State: f.State, Number: f.State + "-DEMO", Status: model.LicenceActive, Expires: exp})
		}
		return dedupeLicences(out)
	}
	privileges := func(mammo bool, codes ...string) []model.Privilege {
		var out []model.Privilege
		for _, c := range codes {
			out = append(out, model.Privilege{Facility: c, Basis: model.Direct, Scope: model.Scope{Mammography: mammo}, Granted: model.DateOf(now).AddDays(-300), Expires: next})
		}
		return out
	}
	allDay := []model.Shift{{Type: model.Dayhawk, Start: model.MustClock("00:00"), End: model.MustClock("00:00")}}
	cover := []model.Malpractice{{Carrier: "Demo Mutual (fictitious)", States: slices.Collect(maps.Keys(states)), Telemedicine: true, Expires: next}}
	medicare := []model.Enrolment{{Payer: model.PayerMedicare, Active: true, Expires: next}}
	readers := []*model.Reader{
		{ID: "dr.alpha", Name: "Dr Alpha Demo", Subspecialties: []string{"neuro", "body"}, Modalities: []string{"CT", "MR", "CR", "DX", "US"},
			Location: model.Location{Country: "US", State: "TX"}, TimeZone: "America/Chicago", Workstation: model.WS3MP, RVUTargetPerHour: 9,
			Licenses: licences(), Privileges: privileges(false, all...), Shifts: allDay, Malpractice: cover, Enrolments: medicare},
		{ID: "dr.bravo", Name: "Dr Bravo Demo", Subspecialties: []string{"body", "chest"}, Modalities: []string{"CT", "MR", "CR", "DX", "US"},
			Location: model.Location{Country: "US", State: "CO"}, TimeZone: "America/Denver", Workstation: model.WS3MP, RVUTargetPerHour: 8,
			Licenses: licences("CO", "AZ", "CA", "OR", "IL", "KS"), Privileges: privileges(false, "RMI", "MSH", "PCM", "EVC", "SGH", "PRM"), Shifts: allDay, Malpractice: cover, Enrolments: medicare},
		{ID: "dr.sydney", Name: "Dr Sydney Demo", Modalities: []string{"CT", "CR", "DX"},
			Location: model.Location{Country: "AU"}, TimeZone: "Australia/Sydney", Workstation: model.WS3MP, RVUTargetPerHour: 8,
			Licenses: licences(), Privileges: privileges(false, all...), Shifts: allDay, Malpractice: cover},
		{ID: "dr.delta", Name: "Dr Delta Demo", Subspecialties: []string{"breast"}, Modalities: []string{"MG", "US"},
			Location: model.Location{Country: "US", State: "IL"}, TimeZone: "America/Chicago", Workstation: model.WS5MP, RVUTargetPerHour: 8,
			MQSA:     model.MQSA{Qualified: true, QualifiedUntil: next, Last24Months: 1400, DBT: true},
			Licenses: licences(), Privileges: privileges(true, all...), Shifts: allDay, Malpractice: cover, Enrolments: medicare},
	}
	rs := roster.Store{DB: d}
	for _, r := range readers {
		if err := rs.PutReader(ctx, r); err != nil {
			return err
		}
	}
	for _, f := range facs {
		c := roster.Contract{Medicare: true, ReadType: model.ReadFinalRequiresUS}
		if err := rs.PutContract(ctx, f.Code, c); err != nil {
			return err
		}
		for _, mod := range []string{"CT", "MR", "CR", "DX", "US", "MG"} {
			if err := (ae.Store{DB: d}).Put(ctx, ae.Entity{Title: f.StationAE(mod), Host: "127.0.0.1", Port: 104, FacilityID: f.Code, Description: "demo " + mod}); err != nil {
				return err
			}
		}
	}
	for _, a := range accounts {
		u := auth.User{Username: a.user, Role: a.role}
		if a.role == auth.Radiologist {
			r, _ := rs.Reader(ctx, a.user)
			for _, p := range r.Privileges {
				u.Facilities = append(u.Facilities, p.Facility)
			}
		}
		if err := svc.AddUser(ctx, u, Password); err != nil && !errors.Is(err, auth.ErrUserExists) {
			return fmt.Errorf("demo user %s: %w", a.user, err)
		}
	}
	return nil
}

// registerHL7Senders lets each facility's systems send HL7 from this
// machine only. It runs at every demo start, so data folders seeded before
// senders were registered keep working.
func registerHL7Senders(ctx context.Context, d *db.DB) error {
	for _, f := range gen.Facilities() {
		if err := hl7sender.Put(ctx, d, hl7sender.Sender{SendingFacility: f.Code, FacilityID: f.Code,
			AllowCIDRs: []string{"127.0.0.0/8", "::1/128"}, Description: "demo EHR/RIS"}); err != nil {
			return fmt.Errorf("demo HL7 sender: %w", err)
		}
	}
	return nil
}

// Usernames lists the demo accounts.
func Usernames() []string {
	var out []string
	for _, a := range accounts {
		out = append(out, a.user+" ("+string(a.role)+")")
	}
	return out
}

func dedupeLicences(ls []model.License) []model.License {
	seen := map[string]bool{}
	var out []model.License
	for _, l := range ls {
		if !seen[l.State] {
			seen[l.State] = true
			out = append(out, l)
		}
	}
	return out
}

var errNoAuth = errors.New("demo: no auth service")
