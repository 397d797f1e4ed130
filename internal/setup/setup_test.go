package setup

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"lightbox/internal/ae"
	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/facility"
	"lightbox/internal/hl7sender"
	"lightbox/internal/model"
	"lightbox/internal/order"
)

var admin = Actor{UserID: "admin", Role: "admin", Interface: audit.HTTP}

func newService(d *db.DB) *Service { return &Service{DB: d, Audit: &audit.Logger{DB: d}} }

// eachService runs fn on a fresh set-up service over each test database
// (dbtest.Each).
func eachService(t *testing.T, fn func(t *testing.T, ctx context.Context, d *db.DB, s *Service)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, d *db.DB) { fn(t, context.Background(), d, newService(d)) })
}

// putSGH sets up the St. George facility (SGH, Texas).
func putSGH(t *testing.T, s *Service) {
	t.Helper()
	if err := s.PutFacility(context.Background(), admin, Facility{Facility: facility.Facility{ID: "SGH", Name: "St. George", State: "TX", TimeZone: "America/Chicago"}}); err != nil {
		t.Fatal(err)
	}
}

func auditCount(t *testing.T, d *db.DB, object string) int {
	t.Helper()
	return dbtest.Count(t, d, "SELECT COUNT(*) FROM audit_event WHERE object_type = ?", object)
}

func TestSetUpFromNothing(t *testing.T) {
	eachService(t, func(t *testing.T, ctx context.Context, d *db.DB, s *Service) {
		v0, _ := Version(ctx, d)
		f := Facility{Facility: facility.Facility{ID: "SGH", Name: "St. George", State: "tx", TimeZone: "America/Chicago"}}
		if err := s.PutFacility(ctx, admin, f); err != nil {
			t.Fatal(err)
		}
		if v1, _ := Version(ctx, d); v1 != v0+1 {
			t.Fatalf("stamp %d → %d", v0, v1)
		}
		if auditCount(t, d, "facility") != 1 {
			t.Fatal("facility change not audited")
		}
		for _, tc := range []struct {
			name string
			err  error
			code string
		}{
			{"bad state", s.PutFacility(ctx, admin, Facility{Facility: facility.Facility{ID: "X", Name: "X", State: "ZZ", TimeZone: "UTC"}}), CodeInvalid},
			{"bad zone", s.PutFacility(ctx, admin, Facility{Facility: facility.Facility{ID: "X", Name: "X", State: "TX", TimeZone: "Mars/Base"}}), CodeInvalid},
			{"AE for unknown facility", s.PutAE(ctx, admin, ae.Entity{Title: "CT1", Host: "10.0.0.1", Port: 104, FacilityID: "NOPE"}), CodeUnknownFacility},
			{"privilege at unknown facility", s.PutReader(ctx, admin, &model.Reader{ID: "dr.a", Location: model.Location{Country: "US", State: "TX"},
				Privileges: []model.Privilege{{Facility: "NOPE", Basis: model.Direct}}}), CodeUnknownFacility},
			{"endpoint of unknown facility", s.PutEndpoint(ctx, admin, Endpoint{FacilityID: "NOPE", Kind: "hl7", Address: "127.0.0.1:2575"}), CodeUnknownFacility},
			{"endpoint bad address", s.PutEndpoint(ctx, admin, Endpoint{FacilityID: "SGH", Kind: "hl7", Address: "nowhere"}), CodeInvalid},
			{"fhir not a URL", s.PutEndpoint(ctx, admin, Endpoint{FacilityID: "SGH", Kind: "fhir", Address: "ftp://x"}), CodeInvalid},
			{"shift bad type", s.AddShift(ctx, admin, "dr.a", model.Shift{Type: "graveyard", Start: 60, End: 120}), CodeInvalid},
			{"shift of unknown reader", s.AddShift(ctx, admin, "dr.zz", model.Shift{Type: model.Nighthawk, Start: 60, End: 120}), CodeUnknownReader},
		} {
			if CodeOf(tc.err) != tc.code {
				t.Errorf("%s: got %v (code %q), want code %s", tc.name, tc.err, CodeOf(tc.err), tc.code)
			}
		}
		if err := s.PutAE(ctx, admin, ae.Entity{Title: "CT1", Host: "10.0.0.1", Port: 104, FacilityID: "SGH"}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutEndpoint(ctx, admin, Endpoint{FacilityID: "SGH", Kind: "fhir", Address: "https://fhir.example.org/r4/", Auth: "Bearer x"}); err != nil {
			t.Fatal(err)
		}
		es, _ := s.Endpoints(ctx, "SGH")
		if len(es) != 1 || es[0].Auth != "(set)" || es[0].Address != "https://fhir.example.org/r4" {
			t.Fatalf("endpoints %+v", es)
		}
		r := &model.Reader{ID: "dr.a", Name: "Dr A", Location: model.Location{Country: "US", State: "TX"}, TimeZone: "America/Chicago",
			Licenses:   []model.License{{State: "TX", Number: "1", Status: model.LicenceActive, Expires: model.MustDate("2030-01-01")}},
			Privileges: []model.Privilege{{Facility: "SGH", Basis: model.Direct}}}
		if err := s.PutReader(ctx, admin, r); err != nil {
			t.Fatal(err)
		}
		if err := s.AddShift(ctx, admin, "dr.a", model.Shift{Type: model.Nighthawk, Start: model.MustClock("22:00"), End: model.MustClock("08:00")}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := s.ExportShifts(ctx, &out); err != nil || !strings.Contains(out.String(), "dr.a,nighthawk,,22:00,08:00") {
			t.Fatalf("%v\n%s", err, out.String())
		}
	})
}

// A national group's facilities: 2,000 rows with deliberate bad ones, in
// one pass (its speed is BenchmarkFacilityImport's); then its readers and
// their credentials.
func TestBulkImport(t *testing.T) {
	eachService(t, func(t *testing.T, ctx context.Context, d *db.DB, s *Service) {
		zones := []string{"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"}
		states := []string{"NY", "TX", "CO", "AZ", "CA", "AK", "HI"}
		var b strings.Builder
		b.WriteString(strings.Join(FacilityCSVHeader, ",") + "\n")
		for i := range 2000 {
			fmt.Fprintf(&b, "F%04d,Facility %d,%s,%s,ISS%d,final,true\n", i, i, states[i%7], zones[i%7], i)
		}
		b.WriteString("F0001,Again,TX,America/Chicago,,,\n") // duplicate
		b.WriteString("BAD1,No State,,America/Chicago,,,\n")
		b.WriteString("BAD2,Bad Zone,TX,Mars/Base,,,\n")
		b.WriteString("BAD3,Too,Few\n")
		b.WriteString("BAD4,Bad Read Type,TX,America/Chicago,,sometimes,\n")
		start := time.Now()
		rep, err := s.ImportFacilities(ctx, admin, strings.NewReader(b.String()), "csv")
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: 2,000 facilities imported in %v", d.Dialect, took)
		if rep.Accepted != 2000 || len(rep.Rejected) != 5 || rep.Rows != 2005 {
			t.Fatalf("%+v", rep)
		}
		wantLines := map[int]string{2002: CodeDuplicate, 2003: CodeInvalid, 2004: CodeInvalid, 2005: CodeInvalid, 2006: CodeInvalid}
		for _, rj := range rep.Rejected {
			if wantLines[rj.Row] != rj.Code {
				t.Errorf("rejected %+v", rj)
			}
		}
		var rb strings.Builder
		rb.WriteString(strings.Join(ReaderCSVHeader, ",") + "\n")
		for i := range 500 {
			fmt.Fprintf(&rb, "dr.%03d,Dr %d,US,TX,America/Chicago,CT MR,neuro,5MP,false,12\n", i, i)
		}
		rb.WriteString("dr.bad,No Country,,TX,America/Chicago,CT,,3MP,false,10\n")
		rb.WriteString("dr.bad2,Bad Target,US,TX,America/Chicago,CT,,3MP,false,lots\n")
		rep, err = s.ImportReaders(ctx, admin, strings.NewReader(rb.String()), FormatReadersCSV)
		if err != nil || rep.Accepted != 500 || len(rep.Rejected) != 2 {
			t.Fatalf("%v %+v", err, rep)
		}
		var cb strings.Builder
		cb.WriteString(strings.Join(CredentialCSVHeader, ",") + "\n")
		for i := range 500 {
			fmt.Fprintf(&cb, "dr.%03d,licence,TX,L%d,active,2030-01-01,,\n", i, i)
			for j := range 20 {
				fmt.Fprintf(&cb, "dr.%03d,privilege,F%04d,,direct,2029-06-30,,false\n", i, (i*20+j)%2000)
			}
		}
		cb.WriteString("dr.000,privilege,NOPE,,direct,2029-06-30,,false\n")
		cb.WriteString("dr.nobody,licence,TX,1,active,2030-01-01,,\n")
		cb.WriteString("dr.000,licence,ZZ,1,active,2030-01-01,,\n")
		cb.WriteString("dr.000,licence,NM,1,active,someday,,\n")
		start = time.Now()
		rep, err = s.ImportCredentials(ctx, admin, strings.NewReader(cb.String()))
		t.Logf("%s: 10,500 credentials imported in %v", d.Dialect, time.Since(start))
		if err != nil || rep.Accepted != 10500 || len(rep.Rejected) != 4 {
			t.Fatalf("%v %+v", err, rep)
		}
		codes := map[string]int{}
		for _, rj := range rep.Rejected {
			codes[rj.Code]++
		}
		if codes[CodeUnknownFacility] != 1 || codes[CodeUnknownReader] != 1 || codes[CodeInvalid] != 2 {
			t.Fatalf("%+v", rep.Rejected)
		}
		var sb strings.Builder
		sb.WriteString("reader_id,type,days,start,end\ndr.000,nighthawk,mon-fri,22:00,08:00\ndr.000,dayhawk,sat sun,08:00,16:00\ndr.nobody,swing,,10:00,18:00\ndr.001,swing,funday,10:00,18:00\n")
		rep, err = s.ImportShifts(ctx, admin, strings.NewReader(sb.String()))
		if err != nil || rep.Accepted != 2 || len(rep.Rejected) != 2 {
			t.Fatalf("%v %+v", err, rep)
		}
		if n := auditCount(t, d, "facility") + auditCount(t, d, "reader") + auditCount(t, d, "shift"); n != 4 {
			t.Fatalf("%d import audit records, want 4", n)
		}
	})
}

// A change that cannot be audited is not made.
func TestUnauditedChangeFails(t *testing.T) {
	eachService(t, func(t *testing.T, ctx context.Context, d *db.DB, s *Service) {
		bad := Actor{Interface: audit.HTTP} // no user: the audit trail refuses it
		err := s.PutFacility(ctx, bad, Facility{Facility: facility.Facility{ID: "F1", Name: "One", State: "TX", TimeZone: "America/Chicago"}})
		if CodeOf(err) != CodeAuditFailed {
			t.Fatalf("got %v", err)
		}
		if _, err := facility.Get(ctx, d, "F1"); err == nil {
			t.Fatal("the facility was saved without its audit record")
		}
	})
}

// HL7 sender registrations are set-up writes like AEs: checked against the
// facilities, audited in the same transaction, refused when unauditable.
func TestHL7SenderChangesAudited(t *testing.T) {
	eachService(t, func(t *testing.T, ctx context.Context, d *db.DB, s *Service) {
		putSGH(t, s)
		ok := hl7sender.Sender{SendingFacility: "SGH", SendingApplication: "EPIC", FacilityID: "SGH", AllowCIDRs: []string{"10.0.0.0/8"}}
		v0, _ := Version(ctx, d)
		for _, tc := range []struct {
			name   string
			do     func() error
			code   string
			audits int
		}{
			{"put", func() error { return s.PutHL7Sender(ctx, admin, ok) }, "", 1},
			{"unknown facility", func() error {
				return s.PutHL7Sender(ctx, admin, hl7sender.Sender{SendingFacility: "X", FacilityID: "NOPE", AllowCIDRs: []string{"10.0.0.0/8"}})
			}, CodeUnknownFacility, 1},
			{"no network or subject", func() error {
				return s.PutHL7Sender(ctx, admin, hl7sender.Sender{SendingFacility: "X", FacilityID: "SGH"})
			}, CodeInvalid, 1},
			{"unaudited", func() error {
				return s.PutHL7Sender(ctx, Actor{Interface: audit.HTTP}, hl7sender.Sender{SendingFacility: "Y", FacilityID: "SGH", AllowCIDRs: []string{"10.0.0.0/8"}})
			}, CodeAuditFailed, 1},
			{"delete unknown", func() error { return s.DeleteHL7Sender(ctx, admin, "SGH", "") }, CodeNotFound, 1},
			{"delete", func() error { return s.DeleteHL7Sender(ctx, admin, "SGH", "EPIC") }, "", 2},
		} {
			if err := tc.do(); CodeOf(err) != tc.code || (tc.code == "" && err != nil) {
				t.Errorf("%s: got %v, want code %q", tc.name, err, tc.code)
			}
			if n := auditCount(t, d, "hl7_sender"); n != tc.audits {
				t.Errorf("%s: %d audit records, want %d", tc.name, n, tc.audits)
			}
		}
		if v, _ := Version(ctx, d); v != v0+2 {
			t.Errorf("stamp %d → %d, want two writes", v0, v)
		}
		if l, _ := (hl7sender.Store{DB: d}).List(ctx); len(l) != 0 {
			t.Errorf("left behind: %+v", l)
		}
	})
}

func TestProtocolLibrary(t *testing.T) {
	eachService(t, func(t *testing.T, ctx context.Context, d *db.DB, s *Service) {
		if err := s.PutProtocols(ctx, admin, "NOPE", []order.LibraryProtocol{{Code: "A", Text: "a"}}); CodeOf(err) != CodeNotFound {
			t.Fatalf("library of an unknown facility: %v", err)
		}
		if err := s.PutFacility(ctx, admin, Facility{Facility: facility.Facility{ID: "F1", Name: "One", State: "TX", TimeZone: "America/Chicago"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutProtocols(ctx, admin, "F1", []order.LibraryProtocol{{Code: "A", Text: "a"}, {Code: "A", Text: "again"}}); CodeOf(err) != CodeInvalid {
			t.Fatalf("duplicate code: %v", err)
		}
		if err := s.PutProtocols(ctx, admin, "F1", []order.LibraryProtocol{{Code: "CTH", Text: "CT head"}}); err != nil {
			t.Fatal(err)
		}
		// An approval picking a code outside the library is refused by the order owner.
		if _, err := (&order.Service{DB: d}).FromLibrary(ctx, "F1", order.Protocol{Code: "NOT-THERE"}); err == nil {
			t.Fatal("a protocol outside the library was accepted")
		}
	})
}

// A facility's retention period is a set-up change: validated, audited.
func TestSetRetention(t *testing.T) {
	eachService(t, func(t *testing.T, ctx context.Context, d *db.DB, s *Service) {
		putSGH(t, s)
		before := auditCount(t, d, "facility")
		if err := s.SetRetention(ctx, admin, "SGH", 7); err != nil {
			t.Fatal(err)
		}
		if auditCount(t, d, "facility") != before+1 {
			t.Error("retention change not audited")
		}
		if ys, err := facility.RetentionYears(ctx, d); err != nil || ys["SGH"] != 7 {
			t.Errorf("retention = %v, %v", ys, err)
		}
		for _, tc := range []struct {
			id    string
			years int
			code  string
		}{{"SGH", -1, CodeInvalid}, {"SGH", 101, CodeInvalid}, {"NOPE", 5, CodeUnknownFacility}} {
			if err := s.SetRetention(ctx, admin, tc.id, tc.years); CodeOf(err) != tc.code {
				t.Errorf("SetRetention(%s, %d) = %v, want %s", tc.id, tc.years, err, tc.code)
			}
		}
		// A facility saved again keeps its retention.
		if err := s.PutFacility(ctx, admin, Facility{Facility: facility.Facility{ID: "SGH", Name: "St. George's", State: "TX", TimeZone: "America/Chicago"}}); err != nil {
			t.Fatal(err)
		}
		if ys, _ := facility.RetentionYears(ctx, d); ys["SGH"] != 7 {
			t.Errorf("retention after PutFacility = %d", ys["SGH"])
		}
	})
}
