package notify

import (
	"fmt"
	"net/url"
	"time"

	"lightbox/internal/model"
)

// AtRiskShare is the part of a study's SLA window left when its deadline
// counts as at risk (the board highlights the same studies).
const AtRiskShare = 0.25

// AtRisk reports whether an unread study's first-read deadline is at risk
// at now: a quarter of its SLA window or less is left (or it has passed).
// st.Facility must be resolved (nil uses the default SLA).
func AtRisk(st *model.Study, now time.Time) bool {
	window := st.Facility.SLAFor(st.Class()).Within
	return st.Deadline().Sub(now) <= time.Duration(float64(window)*AtRiskShare)
}

// FromDeadline is the SLA-at-risk notice for one study, to the
// coordinators, once per study (the key). No patient data: the study is
// named by its link only.
func FromDeadline(st *model.Study, now time.Time) (Message, []Recipient) {
	left := st.Deadline().Sub(now).Round(time.Minute)
	text := fmt.Sprintf("A %s study at facility %s is due in %s.", st.Class(), st.FacilityID, left)
	if left <= 0 {
		text = fmt.Sprintf("A %s study at facility %s is past its deadline by %s.", st.Class(), st.FacilityID, -left)
	}
	return Message{Event: SLAAtRisk, Key: "sla/" + st.ID, Subject: "A study's turnaround deadline is at risk",
		Text: text, Link: "/coverage?study=" + url.QueryEscape(st.ID)}, []Recipient{{ID: Coordinators}}
}
