package notify_test

import (
	"strings"
	"testing"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/model"
	"lightbox/internal/notify"
	"lightbox/internal/report"
)

// Every engine decision the issue names (#17 point 7) becomes its event,
// for the coordinators (and the reader who dropped offline), with a link
// into Lightbox and no patient data; the others raise nothing.
func TestEventsFromDecisions(t *testing.T) {
	at := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		d     assign.Decision
		event string
		to    []string
	}{
		{"uncovered study", assign.Decision{Kind: assign.KindUncovered, StudyID: "1.2.3", Reason: "an active HI licence", At: at}, notify.StudyUncovered, []string{notify.Coordinators}},
		{"SLA at risk", assign.Decision{Kind: assign.KindAlert, Code: assign.ReasonDeadline, StudyID: "1.2.3", Reason: "due in 5 min", At: at}, notify.SLAAtRisk, []string{notify.Coordinators}},
		{"reader offline with cases", assign.Decision{Kind: assign.KindUnassign, Code: assign.ReasonOffline, ReaderID: "dr.a", StudyID: "1.2.3", At: at}, notify.ReaderOffline, []string{notify.Coordinators, "dr.a"}},
		{"assignment", assign.Decision{Kind: assign.KindAssign, StudyID: "1.2.3", ReaderID: "dr.a", At: at}, "", nil},
		{"release", assign.Decision{Kind: assign.KindUnassign, StudyID: "1.2.3", ReaderID: "dr.a", At: at}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, to, ok := notify.FromDecision(tc.d)
			if ok != (tc.event != "") || m.Event != tc.event {
				t.Fatalf("event %q ok %v, want %q", m.Event, ok, tc.event)
			}
			if !ok {
				return
			}
			var ids []string
			for _, r := range to {
				ids = append(ids, r.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.to, ",") {
				t.Errorf("recipients %v, want %v", ids, tc.to)
			}
			if !strings.HasPrefix(m.Link, "/") || m.Key == "" || strings.Contains(m.Subject, "1.2.3") {
				t.Errorf("message %+v: needs a link and a key, and no study UID in the subject", m)
			}
		})
	}
	m, to := notify.FromUnackedReport(report.FailedDelivery{Delivery: report.Delivery{AckCode: "AE", Attempts: 5}, ReportID: "r-1", StudyUID: "1.2.3", FacilityID: "NWH"})
	if m.Event != notify.ReportUnacknowledged || len(to) != 1 || to[0].ID != notify.Coordinators || strings.Contains(m.Subject+m.Text, "1.2.3") {
		t.Errorf("unacknowledged report: %+v to %+v", m, to)
	}
}

// A study is at risk with a quarter of its SLA window left; the notice
// names the class and facility, never the patient.
func TestDeadlineAtRisk(t *testing.T) {
	arrived := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	st := &model.Study{ID: "1.2.3", FacilityID: "NWH", Priority: model.STAT, ArrivalTime: arrived} // 30-minute default SLA
	for _, tc := range []struct {
		after time.Duration
		risk  bool
		text  string
	}{
		{10 * time.Minute, false, ""},
		{22 * time.Minute, false, ""},
		{23 * time.Minute, true, "due in 7m0s"},
		{40 * time.Minute, true, "past its deadline by 10m0s"},
	} {
		now := arrived.Add(tc.after)
		if got := notify.AtRisk(st, now); got != tc.risk {
			t.Errorf("after %s: at risk %v, want %v", tc.after, got, tc.risk)
		}
		if !tc.risk {
			continue
		}
		m, to := notify.FromDeadline(st, now)
		if m.Event != notify.SLAAtRisk || m.Key != "sla/1.2.3" || len(to) != 1 || !strings.Contains(m.Text, tc.text) || strings.Contains(m.Subject, "1.2.3") {
			t.Errorf("after %s: %+v", tc.after, m)
		}
	}
}
