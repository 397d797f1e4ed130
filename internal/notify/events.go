package notify

import (
	"fmt"
	"net/url"
	"strings"

	"lightbox/internal/assign"
	"lightbox/internal/breakglass"
	"lightbox/internal/critical"
	"lightbox/internal/model"
	"lightbox/internal/report"
)

// Group recipients: shared inboxes or paging hooks whose preferences an
// administrator sets; their in-app notices show to every coordinator and
// administrator.
const (
	Coordinators = "coordinators"  // the coverage desk
	MedicalStaff = "medical-staff" // the medical-staff office (credentials)
	// PrivacyOfficer is told of every break-glass access; administrators
	// read its in-app notices, and an e-mail preference reaches the officer.
	PrivacyOfficer = "privacy-officer"
)

// ContactRecipient names a facility contact from the critical-results
// directory as a recipient.
func ContactRecipient(c critical.Contact) Recipient {
	return Recipient{ID: "contact:" + c.ID, Email: c.Email}
}

// FromCritical turns a critical-result notification into a message and its
// recipients: the contacts of the current rung, the accountable reader and
// any coordinator it was handed to. The finding stays out: the link leads
// to it (for an acknowledgement request, the link is the one-time
// acknowledgement link itself).
func FromCritical(n critical.Notification) (Message, []Recipient) {
	m := Message{Key: fmt.Sprintf("critical/%s/%s/%d/%s", n.ResultID, n.Kind, n.Level, n.Rung), Link: "/critical/" + url.PathEscape(n.ResultID)}
	label := "category " + n.Category
	if n.CategoryLabel != "" {
		label = n.CategoryLabel
	}
	deadline := ""
	if !n.DeadlineAt.IsZero() {
		deadline = " Deadline " + n.DeadlineAt.UTC().Format("2006-01-02 15:04") + " UTC."
	}
	switch n.Kind {
	case "ack_request":
		m.Event = CriticalAckRequest
		m.Subject = fmt.Sprintf("Critical result to acknowledge (%s), facility %s", label, n.FacilityID)
		m.Text = "A radiologist reports a critical result for one of your patients. Open the link to see it and acknowledge receipt." + deadline
		if n.AckURL != "" {
			m.Link = n.AckURL
		}
	default:
		m.Event = CriticalEscalated
		m.Subject = fmt.Sprintf("Critical result %s (%s), facility %s, level %d", strings.ReplaceAll(n.Kind, "_", " "), label, n.FacilityID, n.Level)
		m.Text = "A critical result's communication loop needs action (" + n.Kind + ", rung " + n.Rung + ")." + deadline
	}
	var to []Recipient
	for _, c := range n.Targets {
		to = append(to, ContactRecipient(c))
	}
	if n.Reader != "" {
		to = append(to, Recipient{ID: n.Reader})
	}
	if n.Coordinator != "" {
		to = append(to, Recipient{ID: n.Coordinator})
	}
	return m, to
}

// FromExpiry turns a credential alert (90/60/30 days, or lapsed) into a
// message to the reader and the medical-staff office.
func FromExpiry(a model.Alert) (Message, []Recipient) {
	when := fmt.Sprintf("lapses in %d days (%s)", a.DaysLeft, a.Expires)
	if a.Expired {
		when = fmt.Sprintf("lapsed on %s", a.Expires)
	}
	m := Message{Event: CredentialExpiring, Key: fmt.Sprintf("expiry/%s/%s/%s/%s/%d", a.ReaderID, a.Kind, a.Item, a.Expires, a.Offset),
		Subject: fmt.Sprintf("%s %s of %s %s", titleCase(a.Kind), a.Item, a.ReaderName, when),
		Text:    "Renew it before it lapses: studies it covers are taken out of the reader's queue on that day.",
		Link:    "/api/readers/" + url.PathEscape(a.ReaderID) + "/calendar.ics"}
	return m, []Recipient{{ID: a.ReaderID}, {ID: MedicalStaff}}
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// FromDecision turns the engine decisions people must hear about into a
// message: a study nobody eligible can read, a reader dropping offline with
// cases assigned, a deadline at risk. ok is false for the others.
func FromDecision(d assign.Decision) (m Message, to []Recipient, ok bool) {
	link := "/coverage?study=" + url.QueryEscape(d.StudyID)
	switch {
	case d.Kind == assign.KindUncovered:
		return Message{Event: StudyUncovered, Key: "uncovered/" + d.StudyID, Subject: "A study has no eligible reader online",
			Text: "Missing: " + d.Reason + ".", Link: link}, []Recipient{{ID: Coordinators}}, true
	case d.Kind == assign.KindUnassign && d.Code == assign.ReasonOffline && d.ReaderID != "":
		// One event per reader dropping off (every study it requeues shares d.At).
		return Message{Event: ReaderOffline, Key: "offline/" + d.ReaderID + "/" + d.At.UTC().Format("20060102T150405"),
				Subject: "Reader " + d.ReaderID + " went offline with studies assigned",
				Text:    "Their studies were put back on the worklist for other readers.", Link: "/coverage"},
			[]Recipient{{ID: Coordinators}, {ID: d.ReaderID}}, true
	case d.Kind == assign.KindAlert && d.Code == assign.ReasonDeadline:
		return Message{Event: SLAAtRisk, Key: "sla/" + d.StudyID, Subject: "A study's turnaround deadline is at risk",
			Text: d.Reason + ".", Link: link}, []Recipient{{ID: Coordinators}}, true
	}
	return Message{}, nil, false
}

// FromUnackedReport: a signed report's ORU that the facility refused or
// never acknowledged (the outbox gave up): the coverage desk must phone it
// through or fix the interface.
func FromUnackedReport(d report.FailedDelivery) (Message, []Recipient) {
	return Message{Event: ReportUnacknowledged, Key: fmt.Sprintf("report-unacked/%s/%d", d.ReportID, d.Seq),
		Subject: "A final report was not acknowledged by facility " + d.FacilityID,
		Text:    fmt.Sprintf("The facility's interface did not accept the report (ack %q after %d attempts). Communicate it another way and check the endpoint.", d.AckCode, d.Attempts),
		Link:    "/reports/deliveries?report=" + url.QueryEscape(d.ReportID)}, []Recipient{{ID: Coordinators}}
}

// FromBreakGlass tells the privacy officer that a reader opened a study
// outside their scope. The subject names the reader and facility only.
// The reason is free text a reader types in an emergency and may name the
// patient, so it stays inside Lightbox (the audit viewer) and never rides
// in an e-mail or webhook body.
func FromBreakGlass(g breakglass.Grant) (Message, []Recipient) {
	return Message{Event: BreakGlass, Key: fmt.Sprintf("break-glass/%d", g.ID),
		Subject: fmt.Sprintf("Break-glass access by %s at facility %s", g.Username, g.FacilityID),
		Text:    fmt.Sprintf("%s opened a study outside their scope until %s. The reason they gave and every access under the grant (events 110113 / 110127, and 110132 for each use) are in the audit viewer.", g.Username, g.ExpiresAt),
		Link:    "/audit",
	}, []Recipient{{ID: PrivacyOfficer}}
}
