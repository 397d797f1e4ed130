package hl7order

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/facility"
	"lightbox/internal/hl7"
	"lightbox/internal/opt"
	"lightbox/internal/order"
)

// HL7Handler receives orders and patient updates over MLLP. It implements
// hl7.Handler.
//
// Supported messages:
//   - ORM^O01 (answered with ORR^O02) and OMI^O23 (answered with ORI^O24),
//     one response order group per ORC, ORC-1: NW new, CA cancel, XO change,
//     HD hold, RL release; ORC-1 of the response is OK/CR/XR/HR/OR, and
//     UA/UC/UX with MSA-1 = AE when the order cannot be found or is in a
//     state that does not allow the request. ORC-3 of the response is
//     Lightbox's order ID (filler order number).
//   - OMG^O19 is treated like OMI^O23 (answered with an ACK).
//   - ADT^A01/A04/A08/A28/A31: patient demographics updated, differences
//     flagged in patient_conflict; answered with ACK.
//
// MSH-4 (namespace ID, else universal ID) is mapped to a facility by
// Facility; an unknown sender gets AR. Required per order: PID-3-1, the
// accession (OBR-18, else IPC-1, else ORC-3: first non-empty), OBR-4-1
// (procedure code; for NW and XO). Missing ones get AE with an ERR naming the
// segment and field. A message with several order groups is validated as a
// whole first; groups are then applied in order.
//
// Every negative acknowledgement is stored, with the raw message, in
// hl7_dead_letter. (Frames that do not parse never reach a Handler: the
// hl7.Server answers them itself; see DeadLetter.)
type HL7Handler struct {
	Orders   *order.Service
	Facility func(ctx context.Context, sendingFacility string) (facilityID string, ok bool)
	App      string       // our MSH-3 in responses; default "LIGHTBOX"
	Logger   *slog.Logger // default: discard
	// OnResult, when set, takes ORU^R01 messages: triage results from an
	// outside tool (source = MSH-3). A non-nil error becomes the NAK.
	OnResult func(ctx context.Context, facilityID, source string, m *hl7.Message) *hl7.Error
}

// NewHL7Handler returns a handler storing orders in svc.
func NewHL7Handler(svc *order.Service, facility func(ctx context.Context, sendingFacility string) (string, bool)) *HL7Handler {
	return &HL7Handler{Orders: svc, Facility: facility, App: "LIGHTBOX"}
}

func (h *HL7Handler) log() *slog.Logger {
	return opt.Logger(h.Logger)
}

func (h *HL7Handler) opts() hl7.AckOptions {
	app := h.App
	if app == "" {
		app = "LIGHTBOX"
	}
	return hl7.AckOptions{SendingApplication: &hl7.HD{NamespaceID: app}}
}

// ServeHL7 implements hl7.Handler.
func (h *HL7Handler) ServeHL7(ctx context.Context, req *hl7.Request) []byte {
	m := req.Message
	remote := ""
	if req.RemoteAddr != nil {
		remote = req.RemoteAddr.String()
	}
	log := h.log().With("type", m.Type().String())
	nak := func(code hl7.AckCode, e *hl7.Error) []byte {
		if err := h.DeadLetter(ctx, req.Raw, remote, m, code, e); err != nil {
			log.Error("hl7 intake: dead letter failed", "error", err)
		}
		log.Warn("hl7 intake: rejected", "ack", string(code), "error_code", int(e.Code), "location", e.Location())
		return hl7.NewACK(m, code, h.opts(), e).Bytes()
	}
	msh, err := m.MSH()
	if err != nil {
		return nak(hl7.AckAR, hl7.AsError(err))
	}
	sender := msh.SendingFacility.NamespaceID
	if sender == "" {
		sender = msh.SendingFacility.UniversalID
	}
	facilityID, ok := "", false
	if sender != "" && h.Facility != nil {
		facilityID, ok = h.Facility(ctx, sender)
	}
	if !ok {
		return nak(hl7.AckAR, hl7.Errorf(hl7.CodeUnknownKey, "MSH-4", "unknown sending facility"))
	}
	t := m.Type()
	switch t.Code {
	case "ORM", "OMI", "OMG":
		want := map[string]string{"ORM": "O01", "OMI": "O23", "OMG": "O19"}[t.Code]
		if t.Trigger != want {
			return nak(hl7.AckAR, hl7.Errorf(hl7.CodeUnsupportedEventCode, "MSH-9-2", "unsupported trigger event for %s", t.Code))
		}
		ack, code, e := h.orders(ctx, m, facilityID, t.Code)
		if e != nil {
			if code == "" {
				code = e.AckCode()
			}
			if ack == nil {
				return nak(code, e)
			}
			if err := h.DeadLetter(ctx, req.Raw, remote, m, code, e); err != nil {
				log.Error("hl7 intake: dead letter failed", "error", err)
			}
			log.Warn("hl7 intake: order request refused", "ack", string(code), "error_code", int(e.Code), "location", e.Location())
		}
		return ack
	case "ORU":
		// Results in are triage results from an outside tool (AI
		// detection of haemorrhage, PE ...), not reports: a hook decides.
		if h.OnResult == nil {
			return nak(hl7.AckAR, hl7.Errorf(hl7.CodeUnsupportedMessageType, "MSH-9", "unsupported message type"))
		}
		if t.Trigger != "R01" {
			return nak(hl7.AckAR, hl7.Errorf(hl7.CodeUnsupportedEventCode, "MSH-9-2", "unsupported result message"))
		}
		if e := h.OnResult(ctx, facilityID, msh.SendingApplication.NamespaceID, m); e != nil {
			return nak(e.AckCode(), e)
		}
		return hl7.NewACK(m, hl7.AckAA, h.opts()).Bytes()
	case "ADT":
		switch t.Trigger {
		case "A01", "A04", "A08", "A28", "A31":
		default:
			return nak(hl7.AckAR, hl7.Errorf(hl7.CodeUnsupportedEventCode, "MSH-9-2", "unsupported ADT event"))
		}
		var pid hl7.PID
		if err := m.DecodeFirst(&pid); err != nil {
			return nak(hl7.AckAE, hl7.AsError(err))
		}
		p, code, e := h.patient(ctx, pid, facilityID)
		if e != nil {
			return nak(code, e)
		}
		flagged, err := h.Orders.UpdatePatient(ctx, p, "hl7:"+t.String())
		if err != nil {
			log.Error("hl7 intake: patient update failed", "error", err)
			return nak(hl7.AckAR, hl7.AsError(err))
		}
		log.Info("hl7 intake: patient updated", "conflicts", len(flagged))
		return hl7.NewACK(m, hl7.AckAA, h.opts()).Bytes()
	}
	return nak(hl7.AckAR, hl7.Errorf(hl7.CodeUnsupportedMessageType, "MSH-9", "unsupported message type"))
}

// DeadLetter stores a message that was refused (or could not be parsed:
// m may be nil) for a coordinator. Wire it to the MLLP server's parse
// failure hook, if any, so malformed frames are kept too.
func (h *HL7Handler) DeadLetter(ctx context.Context, raw []byte, remote string, m *hl7.Message, ack hl7.AckCode, e *hl7.Error) error {
	var controlID, typ, sender, reason, loc string
	if m != nil {
		controlID, typ = m.ControlID(), m.Type().String()
		sender = m.Get("MSH-4")
	}
	if e != nil {
		reason, loc = fmt.Sprintf("%d %s", int(e.Code), e.Message), e.Location()
	}
	if reason == "" {
		reason = "rejected"
	}
	return h.Orders.RecordDeadLetter(context.WithoutCancel(ctx), order.DeadLetter{Remote: remote, ControlID: controlID, Type: typ, Sender: sender,
		AckCode: string(ack), Reason: reason, Location: loc, Raw: raw})
}

// group is one ORC with its OBR, TQ1 and IPC segments.
type group struct {
	orc              hl7.ORC
	obr              *hl7.OBR
	tq1              *hl7.TQ1
	ipc              []hl7.IPC
	orcN, obrN, ipcN int // occurrences, for error locations
}

func splitGroups(m *hl7.Message) ([]*group, *hl7.Error) {
	var gs []*group
	var cur *group
	count := map[string]int{}
	for _, seg := range m.Segments {
		count[seg.Name]++
		n := count[seg.Name]
		switch seg.Name {
		case "ORC":
			cur = &group{orcN: n}
			if err := cur.orc.Decode(seg); err != nil {
				return nil, hl7.AsError(err)
			}
			gs = append(gs, cur)
		case "OBR":
			if cur == nil || cur.obr != nil {
				continue // OBR without its own ORC: ignored (not in ORM/OMI structure)
			}
			cur.obr, cur.obrN = &hl7.OBR{}, n
			if err := cur.obr.Decode(seg); err != nil {
				return nil, hl7.AsError(err)
			}
		case "TQ1":
			if cur != nil && cur.tq1 == nil {
				cur.tq1 = &hl7.TQ1{}
				if err := cur.tq1.Decode(seg); err != nil {
					return nil, hl7.AsError(err)
				}
			}
		case "IPC":
			if cur != nil {
				var ipc hl7.IPC
				if err := ipc.Decode(seg); err != nil {
					return nil, hl7.AsError(err)
				}
				if len(cur.ipc) == 0 {
					cur.ipcN = n
				}
				cur.ipc = append(cur.ipc, ipc)
			}
		}
	}
	if len(gs) == 0 {
		return nil, hl7.Errorf(hl7.CodeSegmentSequence, "", "required segment ORC missing")
	}
	return gs, nil
}

// patient reads PID into a patient of facilityID's namespace: a sender may
// neither update nor order for another facility's patient (AR).
func (h *HL7Handler) patient(ctx context.Context, pid hl7.PID, facilityID string) (order.Patient, hl7.AckCode, *hl7.Error) {
	p, e := patientFromPID(pid, facilityID)
	if e != nil {
		return p, hl7.AckAE, e
	}
	err := archive.CheckPatientNamespace(ctx, h.Orders.DB, facilityID, p.Issuer, p.ID)
	switch {
	case errors.Is(err, archive.ErrForeignPatient):
		return p, hl7.AckAR, hl7.Errorf(hl7.CodeUnknownKey, "PID-3-4", "the patient's assigning authority belongs to another facility")
	case err != nil:
		h.log().Error("hl7 intake: patient namespace", "error", err)
		return p, hl7.AckAR, hl7.Errorf(hl7.CodeInternalError, "", "internal error")
	}
	return p, "", nil
}

func patientFromPID(pid hl7.PID, facilityID string) (order.Patient, *hl7.Error) {
	if len(pid.Identifiers) == 0 || strings.TrimSpace(pid.Identifiers[0].ID) == "" {
		return order.Patient{}, hl7.Errorf(hl7.CodeRequiredFieldMissing, "PID-3", "patient identifier list (PID-3) is required")
	}
	cx := pid.Identifiers[0]
	p := order.Patient{Issuer: cx.AssigningAuthority.NamespaceID, ID: cx.ID, Sex: strings.ToUpper(pid.Sex)}
	if p.Issuer == "" {
		p.Issuer = facilityID
	}
	n := pid.Name()
	p.Name = strings.TrimRight(strings.Join([]string{n.Family, n.Given, n.Middle, n.Prefix, n.Suffix}, "^"), "^")
	if !pid.DateOfBirth.IsZero() {
		p.BirthDate = pid.DateOfBirth.Time.Format("20060102")
	}
	return p, nil
}

type facilityInfo struct {
	state string
	loc   *time.Location
}

func (h *HL7Handler) facilityInfo(ctx context.Context, id string) facilityInfo {
	f, _ := facility.Get(ctx, h.Orders.DB, id)
	return facilityInfo{state: f.State, loc: f.Location()}
}

func loc(g *group, field string) string {
	switch field[:3] {
	case "OBR":
		return fmt.Sprintf("OBR(%d)%s", g.obrN, field[3:])
	case "IPC":
		return fmt.Sprintf("IPC(%d)%s", g.ipcN, field[3:])
	}
	return fmt.Sprintf("ORC(%d)%s", g.orcN, field[3:])
}

// Stroke and trauma flags are not standard HL7 fields: they are read from
// the order's reason, OBR-13 and procedure text when these carry one of
// these activation phrases (not mere history, e.g. "prior stroke").
var (
	strokePhrases = [...]string{"CODE STROKE", "STROKE ALERT", "STROKE PROTOCOL", "STROKE ACTIVATION", "TELESTROKE"}
	traumaPhrases = [...]string{"TRAUMA ALERT", "TRAUMA ACTIVATION", "LEVEL 1 TRAUMA", "LEVEL I TRAUMA", "CODE TRAUMA", "TRAUMA PROTOCOL"}
)

func hasAny(text string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(text, p) {
			return true
		}
	}
	return false
}

func firstTime(loc *time.Location, ts ...hl7.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t.In(loc)
		}
	}
	return time.Time{}
}

func clinician(ps []hl7.XCN, phones []hl7.XTN) order.Clinician {
	var c order.Clinician
	if len(ps) > 0 {
		p := ps[0]
		c.Name = strings.TrimRight(strings.Join([]string{p.Family, p.Given, p.Middle}, "^"), "^")
		c.ID, c.IDType = p.ID, p.IdentifierTypeCode
	}
	if len(phones) > 0 {
		c.Phone = phones[0].Best()
	}
	return c
}

// orderFromGroup maps one order group; required fields are checked by the caller.
func orderFromGroup(g *group, p order.Patient, pidState string, medicare bool, facilityID string, fi facilityInfo, msgTime hl7.Time) order.Order {
	o := order.Order{FacilityID: facilityID, Patient: p, Medicare: medicare, Source: "hl7"}
	obr := hl7.OBR{}
	if g.obr != nil {
		obr = *g.obr
	}
	o.Accession = obr.PlacerField1
	if o.Accession == "" && len(g.ipc) > 0 {
		o.Accession = g.ipc[0].AccessionID.EntityID
	}
	if o.Accession == "" {
		o.Accession = g.orc.FillerOrderNumber.EntityID
	}
	o.PlacerOrder = g.orc.PlacerOrderNumber.EntityID
	if o.PlacerOrder == "" {
		o.PlacerOrder = obr.PlacerOrderNumber.EntityID
	}
	o.FillerOrder = g.orc.FillerOrderNumber.EntityID
	if o.FillerOrder == "" {
		o.FillerOrder = obr.FillerOrderNumber.EntityID
	}
	o.ProcedureCode = obr.UniversalServiceID.Identifier
	o.ProcedureText = obr.UniversalServiceID.Text
	o.ProcedureSystem = obr.UniversalServiceID.CodingSystem
	if len(obr.ReasonForStudy) > 0 {
		r := obr.ReasonForStudy[0]
		o.Reason = strings.TrimSpace(strings.Join([]string{r.Identifier, r.Text}, " "))
	}
	if o.Reason == "" {
		o.Reason = obr.RelevantClinicalInfo
	}
	prio := ""
	if g.tq1 != nil {
		prio = g.tq1.Priority()
	}
	if prio == "" {
		prio = obr.EffectivePriority()
	}
	if prio == "" {
		prio = g.orc.QuantityTiming.Priority
	}
	o.Priority = order.PriorityFromHL7(prio)
	text := strings.ToUpper(o.Reason + " | " + obr.RelevantClinicalInfo + " | " + o.ProcedureText)
	o.Stroke, o.Trauma = hasAny(text, strokePhrases[:]), hasAny(text, traumaPhrases[:])
	o.Ordering = clinician(g.orc.OrderingProviders, g.orc.CallbackPhones)
	if o.Ordering.Name == "" && o.Ordering.ID == "" {
		o.Ordering = clinician(obr.OrderingProviders, obr.CallbackPhones)
	}
	if o.Ordering.Phone == "" && len(obr.CallbackPhones) > 0 {
		o.Ordering.Phone = obr.CallbackPhones[0].Best()
	}
	o.LocationState = pidState
	if o.LocationState == "" {
		o.LocationState = fi.state
	}
	o.OrderedAt = firstTime(fi.loc, g.orc.TransactionDateTime, msgTime)
	var tqStart, obrTQStart hl7.Time
	if g.tq1 != nil {
		tqStart = g.tq1.StartDateTime
	}
	if len(obr.QuantityTiming) > 0 {
		obrTQStart = obr.QuantityTiming[0].Start
	}
	o.RequestedAt = firstTime(fi.loc, tqStart, g.orc.QuantityTiming.Start, obrTQStart, obr.RequestedDateTime, obr.ScheduledDateTime)
	if len(g.ipc) > 0 {
		ipc := g.ipc[0]
		o.StudyUID = ipc.StudyInstanceUID.EntityID
		o.RequestedProcID = ipc.RequestedProcedureID.EntityID
		o.SPSID = ipc.ScheduledProcedureStepID.EntityID
		o.Modality = ipc.Modality.Identifier
		o.StationAE = ipc.ScheduledStationAETitle
		if len(ipc.ProtocolCodes) > 0 {
			o.Protocol.Code, o.Protocol.Text = ipc.ProtocolCodes[0].Identifier, ipc.ProtocolCodes[0].Text
		}
	}
	if o.Modality == "" && len(obr.DiagnosticServSectID) == 2 {
		o.Modality = obr.DiagnosticServSectID // e.g. CT, MR, US; "RAD" is not a modality
	}
	return o
}

// orders handles ORM/OMI/OMG. It returns the acknowledgement, and the error
// that made it negative (code: its MSA-1); a nil ack means "answer with a
// plain NAK for e".
func (h *HL7Handler) orders(ctx context.Context, m *hl7.Message, facilityID, code string) ([]byte, hl7.AckCode, *hl7.Error) {
	msh, _ := m.MSH()
	var pid hl7.PID
	if err := m.DecodeFirst(&pid); err != nil {
		return nil, hl7.AckAE, hl7.AsError(err)
	}
	p, ack, e := h.patient(ctx, pid, facilityID)
	if e != nil {
		return nil, ack, e
	}
	pidState := ""
	if len(pid.Addresses) > 0 {
		pidState = strings.ToUpper(pid.Addresses[0].State)
	}
	medicare := false
	for _, seg := range m.All("IN1") {
		var in1 hl7.IN1
		if in1.Decode(seg) == nil && in1.IsMedicare() {
			medicare = true
		}
	}
	gs, e := splitGroups(m)
	if e != nil {
		return nil, hl7.AckAE, e
	}
	fi := h.facilityInfo(ctx, facilityID)
	orders := make([]order.Order, len(gs))
	for i, g := range gs {
		o := orderFromGroup(g, p, pidState, medicare, facilityID, fi, msh.DateTime)
		orders[i] = o
		ctl := g.orc.OrderControl
		switch ctl {
		case hl7.OrderNew, hl7.OrderChange, hl7.OrderCancel, hl7.OrderHold, hl7.OrderRelease, hl7.OrderDiscontinue:
		default:
			return nil, hl7.AckAE, hl7.Errorf(hl7.CodeTableValueNotFound, loc(g, "ORC-1"), "unsupported order control code")
		}
		if o.Accession == "" && o.PlacerOrder == "" || ctl == hl7.OrderNew && o.Accession == "" {
			at := "OBR-18"
			if g.obr == nil {
				at = "ORC-3"
			}
			return nil, hl7.AckAE, hl7.Errorf(hl7.CodeRequiredFieldMissing, loc(g, at), "accession number is required (OBR-18, IPC-1 or ORC-3)")
		}
		if ctl == hl7.OrderNew || ctl == hl7.OrderChange {
			if g.obr == nil {
				return nil, hl7.AckAE, hl7.Errorf(hl7.CodeSegmentSequence, loc(g, "ORC-1"), "OBR segment required after ORC")
			}
			if ctl == hl7.OrderNew && o.ProcedureCode == "" {
				return nil, hl7.AckAE, hl7.Errorf(hl7.CodeRequiredFieldMissing, loc(g, "OBR-4-1"), "procedure code (OBR-4) is required")
			}
		}
	}
	ackCode := hl7.AckAA
	var firstErr *hl7.Error
	resp := make([]hl7.OrderResponse, len(gs))
	for i, g := range gs {
		o := orders[i]
		rc, st, id, e := h.apply(ctx, g.orc.OrderControl, o)
		if e != nil {
			if e.Code == hl7.CodeInternalError && rc == "" {
				return nil, hl7.AckAR, e
			}
			if firstErr == nil {
				firstErr = e
			}
			ackCode = hl7.AckAE
		}
		orc := g.orc
		orc.OrderControl, orc.OrderStatus = rc, st
		if id != "" {
			orc.FillerOrderNumber = hl7.EI{EntityID: id, NamespaceID: h.opts().SendingApplication.NamespaceID}
		}
		resp[i] = hl7.OrderResponse{ORC: orc, OBR: g.obr}
		if code == "OMI" {
			resp[i].TQ1 = g.tq1
			resp[i].IPC = g.ipc
		}
	}
	var errs []*hl7.Error
	if firstErr != nil {
		errs = append(errs, firstErr)
	}
	switch code {
	case "ORM":
		return hl7.NewORR(m, ackCode, resp, h.opts(), errs...).Bytes(), ackCode, firstErr
	case "OMI":
		return hl7.NewORI(m, ackCode, resp, h.opts(), errs...).Bytes(), ackCode, firstErr
	}
	return hl7.NewACK(m, ackCode, h.opts(), errs...).Bytes(), ackCode, firstErr
}

// orc5 maps a status to ORC-5 (table 0038).
func orc5(s order.Status) string {
	switch s {
	case order.StatusInProgress:
		return "IP"
	case order.StatusCompleted:
		return "CM"
	case order.StatusDiscontinued:
		return "DC"
	case order.StatusCancelled, order.StatusRejected:
		return "CA"
	case order.StatusOnHold:
		return "HD"
	case order.StatusScheduled:
		return "SC"
	}
	return "A"
}

// apply performs one order control; it returns the response ORC-1, ORC-5,
// the order ID and an error for a refused request.
func (h *HL7Handler) apply(ctx context.Context, ctl string, o order.Order) (string, string, string, *hl7.Error) {
	s := h.Orders
	refuse := map[string]string{hl7.OrderNew: hl7.OrderUnableToAccept, hl7.OrderCancel: hl7.OrderUnableToCancel, hl7.OrderDiscontinue: hl7.OrderUnableToCancel,
		hl7.OrderChange: hl7.OrderUnableToChange, hl7.OrderHold: hl7.OrderUnableToAccept, hl7.OrderRelease: hl7.OrderUnableToAccept}[ctl]
	fail := func(err error) (string, string, string, *hl7.Error) {
		switch {
		case errors.Is(err, order.ErrNotFound):
			return refuse, "", "", hl7.Errorf(hl7.CodeUnknownKey, "OBR-18", "no order with this accession or placer order number")
		case errors.Is(err, order.ErrDuplicate):
			return refuse, "", "", hl7.Errorf(hl7.CodeDuplicateKey, "OBR-18", "accession number already used by another order")
		case errors.Is(err, order.ErrTransition):
			return refuse, "", "", &hl7.Error{Code: hl7.CodeInternalError, Message: "order state does not allow this request"}
		}
		var ve *order.ValidationError
		if errors.As(err, &ve) {
			return refuse, "", "", hl7.Errorf(hl7.CodeRequiredFieldMissing, "", "%s", ve.Error())
		}
		h.log().Error("hl7 intake: order processing failed", "error", err)
		return "", "", "", &hl7.Error{Code: hl7.CodeInternalError, Message: "internal error", Err: err}
	}
	if ctl == hl7.OrderNew {
		stored, _, err := s.Intake(ctx, o)
		if err != nil {
			return fail(err)
		}
		return hl7.OrderOK, orc5(stored.Status), stored.ID, nil
	}
	var cur order.Order
	var err error
	if o.Accession != "" {
		cur, err = s.ByAccession(ctx, o.FacilityID, o.Accession)
	} else {
		err = order.ErrNotFound
	}
	if errors.Is(err, order.ErrNotFound) && o.PlacerOrder != "" {
		cur, err = s.ByPlacer(ctx, o.FacilityID, o.PlacerOrder)
	}
	if err != nil {
		return fail(err)
	}
	const actor = "hl7"
	var done order.Order
	var ok string
	switch ctl {
	case hl7.OrderCancel, hl7.OrderDiscontinue:
		ok = hl7.OrderCanceled
		if cur.Status == order.StatusCancelled {
			return ok, "CA", cur.ID, nil // repeated request
		}
		done, err = s.Cancel(ctx, cur.ID, "cancelled by facility", actor, false)
	case hl7.OrderChange:
		ok = hl7.OrderChanged
		done, err = s.Change(ctx, cur.ID, o, actor)
	case hl7.OrderHold:
		ok = hl7.OrderHeld
		if cur.Status == order.StatusOnHold {
			return ok, "HD", cur.ID, nil
		}
		done, err = s.Hold(ctx, cur.ID, "held by facility", actor)
	case hl7.OrderRelease:
		ok = hl7.OrderReleased
		if cur.Status != order.StatusOnHold && cur.Status.Open() {
			return ok, orc5(cur.Status), cur.ID, nil
		}
		done, err = s.Release(ctx, cur.ID, actor)
	}
	if err != nil {
		rc, st, _, e := fail(err)
		return rc, st, cur.ID, e
	}
	return ok, orc5(done.Status), done.ID, nil
}
