package irconsult

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/roster"
)

// A consult from a report goes to the region's IR on call, through accept
// and recommendation to closure with a transfer decision; timestamps and
// the FHIR export follow.
func TestConsultRequestToClosure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
		rs := roster.Store{DB: d}
		s := Store{DB: d, Roster: rs, Now: func() time.Time { return now }}
		c := Consult{StudyUID: "1.2.3", FacilityID: "F1", ReportID: "r1", Source: "report", Indication: "active bleed",
			Question: "Active extravasation from a jejunal branch: embolise?", Urgency: "emergent", Requester: "dr.reader", Region: "TX"}
		if _, err := s.Request(ctx, c); !errors.Is(err, ErrNoOnCall) {
			t.Fatalf("no one on call: %v", err)
		}
		if err := rs.SetOnCall(ctx, "ir", now.Add(-time.Hour), now.Add(12*time.Hour), []roster.OnCall{{ReaderID: "dr.groupir"}}); err != nil {
			t.Fatal(err)
		}
		if err := rs.SetOnCall(ctx, OnCallSubspecialty("TX"), now.Add(-time.Hour), now.Add(12*time.Hour), []roster.OnCall{{ReaderID: "dr.texasir", Rank: 1}, {ReaderID: "dr.second", Rank: 2}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Request(ctx, Consult{StudyUID: "1.2.3", FacilityID: "F1", Source: "report", Indication: "bleed", Question: "?", Urgency: "emergent"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad indication accepted: %v", err)
		}
		got, err := s.Request(ctx, c)
		if err != nil || got.Consultant != "dr.texasir" || got.Status != Requested {
			t.Fatalf("request: %+v %v", got, err)
		}
		other := c
		other.Region = "NM"
		if o, err := s.Request(ctx, other); err != nil || o.Consultant != "dr.groupir" {
			t.Fatalf("fallback to the group list: %+v %v", o, err)
		}
		if _, err := s.Accept(ctx, got.ID, "dr.groupir"); !errors.Is(err, ErrState) {
			t.Fatalf("someone else accepted: %v", err)
		}
		now = now.Add(4 * time.Minute)
		if _, err := s.Accept(ctx, got.ID, "dr.texasir"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Close(ctx, got.ID, "dr.texasir", "local", ""); !errors.Is(err, ErrState) {
			t.Fatalf("closed before a recommendation: %v", err)
		}
		now = now.Add(11 * time.Minute)
		if _, err := s.Recommend(ctx, got.ID, "dr.texasir", "CTA abdomen 02:00", "Mesenteric angiography and coil embolisation"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Close(ctx, got.ID, "dr.texasir", "transfer", ""); !errors.Is(err, ErrInvalid) {
			t.Fatalf("transfer without a receiving centre: %v", err)
		}
		now = now.Add(5 * time.Minute)
		done, err := s.Close(ctx, got.ID, "dr.texasir", "transfer", "University Hospital IR")
		if err != nil || done.Status != Closed {
			t.Fatalf("close: %+v %v", done, err)
		}
		stored, _ := s.Get(ctx, got.ID)
		if tm := stored.Timings(); tm.ToAccept != 4*time.Minute || tm.ToRecommendation != 15*time.Minute || tm.ToClosure != 20*time.Minute {
			t.Fatalf("timings %+v", tm)
		}
		if mine, _ := s.List(ctx, "dr.reader"); len(mine) != 2 {
			t.Fatalf("requester's consults: %d", len(mine))
		}
		sr, _ := json.Marshal(stored.ServiceRequest())
		doc, _ := json.Marshal(stored.DocumentReference())
		for _, want := range []string{`"status":"completed"`, `"priority":"stat"`, `"intent":"order"`} {
			if !strings.Contains(string(sr), want) {
				t.Errorf("ServiceRequest lacks %s: %s", want, sr)
			}
		}
		dr := stored.DocumentReference()
		if dr.DocStatus != "final" || !strings.Contains(string(dr.Content[0].Attachment.Data), "transfer to University Hospital IR") || !strings.Contains(string(doc), "11488-4") {
			t.Errorf("DocumentReference: %s", doc)
		}
	})
}
