package setup

import (
	"context"

	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/hl7sender"
)

// PutHL7Sender registers an HL7 v2 sender (MSH-4, optionally MSH-3) for a
// facility that must exist. Like every set-up write it is audited in the
// same transaction.
func (s *Service) PutHL7Sender(ctx context.Context, by Actor, h hl7sender.Sender) error {
	if err := h.Validate(); err != nil {
		return invalid("", "%v", err)
	}
	return s.write(ctx, by, change{typ: audit.NetworkConfiguration, action: audit.Update, object: "hl7_sender",
		detail: "put HL7 sender " + senderName(h.SendingFacility, h.SendingApplication), facility: h.FacilityID},
		func(tx *db.Tx) error {
			if err := facilitySetUp(ctx, tx, h.FacilityID); err != nil {
				return err
			}
			return hl7sender.Put(ctx, tx, h)
		})
}

// DeleteHL7Sender removes a sender ("" application: the any-application
// registration).
func (s *Service) DeleteHL7Sender(ctx context.Context, by Actor, sendingFacility, sendingApplication string) error {
	name := senderName(sendingFacility, sendingApplication)
	return s.write(ctx, by, change{typ: audit.NetworkConfiguration, action: audit.Delete, object: "hl7_sender", detail: "delete HL7 sender " + name},
		func(tx *db.Tx) error {
			ok, err := hl7sender.Delete(ctx, tx, sendingFacility, sendingApplication)
			return removed(ok, err, "no HL7 sender %q", name)
		})
}

func senderName(sendingFacility, sendingApplication string) string {
	if sendingApplication == "" {
		return sendingFacility
	}
	return sendingFacility + "/" + sendingApplication
}
