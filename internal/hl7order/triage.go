package hl7order

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"lightbox/internal/archive"
	"lightbox/internal/dispatch"
	"lightbox/internal/hl7"
	"lightbox/internal/model"
)

// Triager applies ORU^R01 results from an outside triage tool (an AI
// detector, say) to studies on the reading worklist.
type Triager struct {
	Archive  *archive.Archive
	Dispatch *dispatch.Service
}

// OnResult finds the study by accession (OBR-18, else OBR-3) within the
// sending facility; the priority comes from OBR-27-6/OBR-5 (S raises to
// STAT, A to ASAP); each OBX carries a flag (CE: the text or the code;
// ST/TX: the text); a flag naming stroke or trauma sets that protocol.
func (t Triager) OnResult(ctx context.Context, facilityID, source string, m *hl7.Message) *hl7.Error {
	var obr hl7.OBR
	if err := m.DecodeFirst(&obr); err != nil {
		return hl7.AsError(err)
	}
	acc := cmp.Or(m.Get("OBR-18"), m.Get("OBR-3"))
	if acc == "" {
		return hl7.Errorf(hl7.CodeRequiredFieldMissing, "OBR-18", "accession number is required (OBR-18 or OBR-3)")
	}
	study, err := t.Archive.StudyByAccession(ctx, facilityID, acc)
	if err != nil {
		if errors.Is(err, archive.ErrNotFound) {
			return hl7.Errorf(hl7.CodeUnknownKey, "OBR-18", "no study with this accession at the sending facility")
		}
		return hl7.Errorf(hl7.CodeInternalError, "", "triage could not be applied")
	}
	var prio *model.Priority
	if p, err := model.ParsePriority(obr.EffectivePriority()); err == nil && p != model.Routine {
		prio = &p
	}
	var flags []string
	stroke, trauma := false, false
	for i := 1; ; i++ {
		seg := m.SegmentN("OBX", i)
		if seg == nil {
			break
		}
		var obx hl7.OBX
		if err := obx.Decode(seg); err != nil {
			return hl7.AsError(err)
		}
		text := strings.TrimSpace(obx.Text())
		for _, c := range obx.Coded {
			text = cmp.Or(c.Text, c.Identifier)
		}
		if text == "" {
			continue
		}
		flags = append(flags, text)
		l := strings.ToLower(text)
		stroke = stroke || strings.Contains(l, "stroke") || strings.Contains(l, "lvo") || strings.Contains(l, "haemorrhage") || strings.Contains(l, "hemorrhage")
		trauma = trauma || strings.Contains(l, "trauma")
	}
	if source == "" {
		source = "hl7"
	}
	if err := t.Dispatch.Triage(ctx, study, prio, stroke, trauma, flags, source); err != nil {
		if errors.Is(err, dispatch.ErrUnknownStudy) {
			return hl7.Errorf(hl7.CodeUnknownKey, "OBR-18", "the study is not on the worklist yet")
		}
		return hl7.Errorf(hl7.CodeInternalError, "", "triage could not be applied")
	}
	return nil
}
