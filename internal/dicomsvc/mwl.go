package dicomsvc

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
	"lightbox/internal/facility"
	"lightbox/internal/order"
)

// Modality Worklist attributes (PS3.4 K.6).
const (
	tagScheduledStationAETitle          dcm.Tag = 0x00400001
	tagSPSStartDate                     dcm.Tag = 0x00400002
	tagSPSStartTime                     dcm.Tag = 0x00400003
	tagScheduledPerformingPhysicianName dcm.Tag = 0x00400006
	tagSPSDescription                   dcm.Tag = 0x00400007
	tagScheduledProtocolCodeSequence    dcm.Tag = 0x00400008
	tagSPSStatus                        dcm.Tag = 0x00400020
	tagSPSSequence                      dcm.Tag = 0x00400100
	tagRequestedProcedurePriority       dcm.Tag = 0x00401003
	tagReasonForRequestedProcedure      dcm.Tag = 0x00401002
	tagRequestingPhysician              dcm.Tag = 0x00321032
)

// worklistFind answers Modality Worklist C-FIND from approved orders: a
// modality sees the scheduled steps of its own facility.
func (s *Service) worklistFind(ctx context.Context, req *dimse.FindRequest, send func([]byte) error) error {
	c := callerOf(req.Assoc)
	ds, err := decodeIdentifier(req.Identifier, req.TransferSyntaxUID)
	if err != nil {
		return err
	}
	if c.scope.Empty() {
		return nil
	}
	f := order.StepFilter{PatientID: ds.Str(dcm.TagPatientID), Accession: ds.Str(dcm.TagAccessionNumber), StudyUID: ds.Str(dcm.TagStudyInstanceUID), Limit: 1000}
	if !c.scope.All {
		f.FacilityIDs = c.scope.Facilities
	}
	var dateRange string
	if sps := ds.Seq(tagSPSSequence); len(sps) > 0 {
		it := sps[0]
		f.StationAE = it.Str(tagScheduledStationAETitle)
		f.Modality = it.Str(dcm.TagModality)
		dateRange = it.Str(tagSPSStartDate)
	}
	if strings.ContainsAny(f.StationAE, "*?") {
		f.StationAE = "" // wildcards: filter below
	}
	from, to, err := dateBounds(dateRange)
	if err != nil {
		return &dimse.StatusError{Status: dimse.StatusDataSetDoesNotMatchSOPClass, Comment: clip(err.Error())}
	}
	// Widen by a day: steps are filtered again in facility-local dates.
	if !from.IsZero() {
		f.From = from.Add(-24 * time.Hour)
	}
	if !to.IsZero() {
		f.To = to.Add(48 * time.Hour)
	}
	steps, err := s.opt.Orders.ScheduledSteps(ctx, f)
	if err != nil {
		return err
	}
	s.auditRead(ctx, audit.QueryEvent(c.actor(), "", "", "MWL C-FIND"))
	zones := s.facilityZones(ctx)
	nameKey := ds.Str(dcm.TagPatientName)
	stationKey := ""
	if sps := ds.Seq(tagSPSSequence); len(sps) > 0 {
		stationKey = sps[0].Str(tagScheduledStationAETitle)
	}
	for _, o := range steps {
		loc := zones[o.FacilityID]
		at := o.ScheduledAt
		if at.IsZero() {
			at = o.RequestedAt
		}
		local := at.In(loc)
		day := local.Format("20060102")
		if (dateRange != "" && !inDateRange(day, dateRange)) || !wildMatch(nameKey, o.Patient.Name) || !wildMatch(stationKey, o.StationAE) {
			continue
		}
		if err := sendDataset(worklistItem(o, local), req.TransferSyntaxUID, send); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) facilityZones(ctx context.Context) map[string]*time.Location {
	out := map[string]*time.Location{}
	fs, err := facility.Store{DB: s.opt.DB}.List(ctx)
	if err != nil {
		return out
	}
	for _, f := range fs {
		if loc, err := time.LoadLocation(f.TimeZone); err == nil {
			out[f.ID] = loc
		}
	}
	return out
}

func worklistItem(o order.Order, local time.Time) *dcm.Dataset {
	ds := &dcm.Dataset{}
	ds.SetStr(dcm.TagAccessionNumber, o.Accession)
	ds.SetStr(dcm.TagReferringPhysicianName, o.Ordering.Name)
	ds.SetStr(dcm.TagPatientName, o.Patient.Name)
	ds.SetStr(dcm.TagPatientID, o.Patient.ID)
	ds.SetStr(dcm.TagIssuerOfPatientID, o.Patient.Issuer)
	ds.SetStr(dcm.TagPatientBirthDate, o.Patient.BirthDate)
	ds.SetStr(dcm.TagPatientSex, o.Patient.Sex)
	ds.SetStr(dcm.TagStudyInstanceUID, o.StudyUID)
	ds.SetStr(tagRequestingPhysician, o.Ordering.Name)
	ds.SetStr(dcm.TagRequestedProcedureDescription, o.ProcedureText)
	ds.SetStr(dcm.TagRequestedProcedureID, cmp.Or(o.RequestedProcID, o.Accession))
	ds.SetStr(tagReasonForRequestedProcedure, o.Reason)
	ds.SetStr(tagRequestedProcedurePriority, map[order.Priority]string{order.PrioritySTAT: "STAT", order.PriorityASAP: "HIGH"}[o.Priority])
	if ds.Str(tagRequestedProcedurePriority) == "" {
		ds.SetStr(tagRequestedProcedurePriority, "ROUTINE")
	}
	if o.ProcedureCode != "" {
		ds.SetSeq(dcm.TagRequestedProcedureCodeSequence, code(o.ProcedureCode, o.ProcedureSystem, o.ProcedureText))
	}
	sps := &dcm.Dataset{}
	sps.SetStr(dcm.TagModality, cmp.Or(o.Protocol.Modality, o.Modality))
	sps.SetStr(tagScheduledStationAETitle, cmp.Or(o.Protocol.StationAE, o.StationAE))
	sps.SetStr(tagSPSStartDate, local.Format("20060102"))
	sps.SetStr(tagSPSStartTime, local.Format("150405"))
	sps.SetStr(tagScheduledPerformingPhysicianName, "")
	desc := o.Protocol.Text
	if o.Protocol.Contrast != "" {
		desc += " (contrast: " + o.Protocol.Contrast + ")"
	}
	sps.SetStr(tagSPSDescription, clipLO(cmp.Or(desc, o.ProcedureText)))
	if o.Protocol.Code != "" || o.Protocol.Text != "" {
		sps.SetSeq(tagScheduledProtocolCodeSequence, code(cmp.Or(o.Protocol.Code, "LBXPROT"), "99LBX", cmp.Or(o.Protocol.Text, o.Protocol.Code)))
	}
	sps.SetStr(dcm.TagScheduledProcedureStepID, cmp.Or(o.SPSID, o.ID))
	sps.SetStr(tagSPSStatus, "SCHEDULED")
	ds.SetSeq(tagSPSSequence, sps)
	return ds
}

func code(value, scheme, meaning string) *dcm.Dataset {
	c := &dcm.Dataset{}
	c.SetStr(dcm.TagCodeValue, value)
	if scheme == "" {
		scheme = "99LOCAL"
	}
	if strings.EqualFold(scheme, "CPT") {
		scheme = "C4"
	}
	c.SetStr(dcm.TagCodingSchemeDesignator, scheme)
	c.SetStr(dcm.TagCodeMeaning, clipLO(meaning))
	return c
}

func clipLO(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// dateBounds turns a DICOM date or date range into UTC bounds (zero = open).
func dateBounds(r string) (time.Time, time.Time, error) {
	if r == "" {
		return time.Time{}, time.Time{}, nil
	}
	lo, hi, isRange := strings.Cut(r, "-")
	if !isRange {
		hi = lo
	}
	parse := func(s string) (time.Time, error) {
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse("20060102", s)
		if err != nil {
			return t, fmt.Errorf("bad Scheduled Procedure Step Start Date %q", r)
		}
		return t, nil
	}
	from, err := parse(lo)
	if err != nil {
		return from, from, err
	}
	to, err := parse(hi)
	return from, to, err
}

func inDateRange(day, r string) bool {
	lo, hi, isRange := strings.Cut(r, "-")
	if !isRange {
		return day == lo
	}
	return (lo == "" || day >= lo) && (hi == "" || day <= hi)
}

// wildMatch applies DICOM wildcard matching (* and ?), case-insensitively
// for names; an empty key matches everything.
func wildMatch(key, value string) bool {
	if key == "" || key == "*" {
		return true
	}
	ok, err := path.Match(strings.ToUpper(strings.NewReplacer("[", `\[`, "]", `\]`, `\`, `\\`).Replace(key)), strings.ToUpper(value))
	return err == nil && ok
}
