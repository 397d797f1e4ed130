package order

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/opt"
)

// Service stores and moves orders. The zero value is not usable: set DB.
type Service struct {
	DB     *db.DB
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default: discard
	// Notify, when set, is called inside the transaction of Approve, Reject
	// and Cancel(…, fromLightbox) to tell the facility; the composition
	// root wires hl7order.OutboxNotifier.
	Notify func(ctx context.Context, tx *db.Tx, o Order, event Status) error
}

func (s *Service) now() time.Time {
	return db.NowOr(s.Now)
}

func (s *Service) log() *slog.Logger {
	return opt.Logger(s.Logger)
}

const orderCols = `id, facility_id, accession, placer_order, filler_order, COALESCE(patient_pk, 0), issuer, patient_id, patient_name, birth_date, sex,
procedure_code, procedure_system, procedure_text, reason, priority, stroke, trauma, ordering_name, ordering_id, ordering_id_type, callback_phone,
location_state, medicare, ordered_at, requested_at, study_uid, requested_procedure_id, sps_id, modality, station_ae, scheduled_at, status, protocol_code, protocol_text, contrast,
protocol_by, protocol_at, status_reason, source, created_at, updated_at`

func scanOrder(r db.Scanner) (Order, error) {
	var o Order
	var stroke, trauma, medicare int
	var orderedAt, requestedAt, scheduledAt, protoAt, createdAt, updatedAt, status, prio string
	err := r.Scan(&o.ID, &o.FacilityID, &o.Accession, &o.PlacerOrder, &o.FillerOrder, &o.PatientPK, &o.Patient.Issuer, &o.Patient.ID, &o.Patient.Name,
		&o.Patient.BirthDate, &o.Patient.Sex, &o.ProcedureCode, &o.ProcedureSystem, &o.ProcedureText, &o.Reason, &prio, &stroke, &trauma,
		&o.Ordering.Name, &o.Ordering.ID, &o.Ordering.IDType, &o.Ordering.Phone, &o.LocationState, &medicare, &orderedAt, &requestedAt,
		&o.StudyUID, &o.RequestedProcID, &o.SPSID, &o.Modality, &o.StationAE, &scheduledAt, &status, &o.Protocol.Code, &o.Protocol.Text, &o.Protocol.Contrast,
		&o.Protocol.ApprovedBy, &protoAt, &o.StatusReason, &o.Source, &createdAt, &updatedAt)
	if err != nil {
		return o, err
	}
	o.Priority, o.Status = Priority(prio), Status(status)
	o.Stroke, o.Trauma, o.Medicare = stroke != 0, trauma != 0, medicare != 0
	o.OrderedAt, o.RequestedAt, o.ScheduledAt = db.ParseOptional(orderedAt), db.ParseOptional(requestedAt), db.ParseOptional(scheduledAt)
	o.Protocol.ApprovedAt, o.CreatedAt, o.UpdatedAt = db.ParseOptional(protoAt), db.ParseOptional(createdAt), db.ParseOptional(updatedAt)
	return o, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "ord_" + hex.EncodeToString(b[:])
}

// querier is *db.DB or *db.Tx.
type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func getOrder(ctx context.Context, q querier, where string, args ...any) (Order, error) {
	o, err := scanOrder(q.QueryRow(ctx, "SELECT "+orderCols+" FROM orders WHERE "+where, args...))
	return o, db.RowErr(err, ErrNotFound, "order: load")
}

// Get returns one order by ID.
func (s *Service) Get(ctx context.Context, id string) (Order, error) {
	return getOrder(ctx, s.DB, "id = ?", id)
}

// ByAccession returns a facility's order by accession number.
func (s *Service) ByAccession(ctx context.Context, facilityID, accession string) (Order, error) {
	return getOrder(ctx, s.DB, "facility_id = ? AND accession = ?", facilityID, accession)
}

// OrderedBy reports whether clinician (an ordering provider ID) placed the
// facility's order with this accession number.
func (s *Service) OrderedBy(ctx context.Context, facilityID, accession, clinician string) (bool, error) {
	var n int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM orders WHERE facility_id = ? AND accession = ? AND ordering_id = ?", facilityID, accession, clinician).Scan(&n); err != nil {
		return false, fmt.Errorf("order: ordered by: %w", err)
	}
	return n > 0, nil
}

// LatestForStudy returns the newest order attached to a study, at the
// facility when facilityID is set (ErrNotFound when there is none).
func (s *Service) LatestForStudy(ctx context.Context, studyUID, facilityID string) (Order, error) {
	q := "SELECT id FROM orders WHERE study_uid = ?"
	args := []any{studyUID}
	if facilityID != "" {
		q += " AND facility_id = ?"
		args = append(args, facilityID)
	}
	var id string
	if err := s.DB.QueryRow(ctx, q+" ORDER BY created_at DESC LIMIT 1", args...).Scan(&id); err != nil {
		return Order{}, db.RowErr(err, ErrNotFound, "order: latest for study")
	}
	return s.Get(ctx, id)
}

// Events returns an order's events in the order they were recorded.
func (s *Service) Events(ctx context.Context, orderID string) ([]Event, error) {
	out, err := db.Collect(db.Rows(s.DB.Query(ctx, "SELECT from_status, to_status, actor, reason, at FROM order_event WHERE order_id = ? ORDER BY pk", orderID)),
		func(sc db.Scanner) (Event, error) {
			e := Event{OrderID: orderID}
			var from, to, at string
			err := sc.Scan(&from, &to, &e.Actor, &e.Reason, &at)
			e.From, e.To, e.At = Status(from), Status(to), db.ParseOptional(at)
			return e, err
		})
	if err != nil {
		return nil, fmt.Errorf("order: events: %w", err)
	}
	return out, nil
}

func (s *Service) event(ctx context.Context, tx *db.Tx, id string, from, to Status, actor, reason string, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	_, err := tx.Exec(ctx, "INSERT INTO order_event (order_id, from_status, to_status, actor, reason, at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		id, string(from), string(to), actor, reason, db.Now(at), db.Now(s.now()))
	if err != nil {
		return fmt.Errorf("order: record event: %w", err)
	}
	return nil
}

// linkPatient finds or creates the patient row; differing demographics of an
// existing row are flagged in patient_conflict, never overwritten.
func (s *Service) linkPatient(ctx context.Context, tx *db.Tx, p Patient, source string) (int64, error) {
	now := s.now()
	stored, err := archive.EnsurePatient(ctx, tx, archive.Patient{Issuer: p.Issuer, ID: p.ID, Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex}, now)
	if err != nil {
		return 0, fmt.Errorf("order: %w", err)
	}
	for _, c := range diffDemographics(Patient{Name: stored.Name, BirthDate: stored.BirthDate, Sex: stored.Sex}, p) {
		if err := flagConflict(ctx, tx, stored.PK, c, source, db.Now(now)); err != nil {
			return 0, err
		}
	}
	return stored.PK, nil
}

type conflict struct{ field, old, new string }

// diffDemographics lists fields where both sides have a value and they differ.
func diffDemographics(old, new Patient) []conflict {
	var out []conflict
	if old.Name != "" && new.Name != "" && normName(old.Name) != normName(new.Name) {
		out = append(out, conflict{"name", old.Name, new.Name})
	}
	if old.BirthDate != "" && new.BirthDate != "" && old.BirthDate != new.BirthDate {
		out = append(out, conflict{"birth_date", old.BirthDate, new.BirthDate})
	}
	if old.Sex != "" && new.Sex != "" && !strings.EqualFold(old.Sex, new.Sex) {
		out = append(out, conflict{"sex", old.Sex, new.Sex})
	}
	return out
}

// normName compares names ignoring case, spacing and trailing empty components.
func normName(n string) string {
	n = strings.ToUpper(strings.TrimSpace(n))
	parts := strings.Split(n, "^")
	for i := range parts {
		parts[i] = strings.Join(strings.Fields(parts[i]), " ")
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, "^")
}

func flagConflict(ctx context.Context, tx *db.Tx, pk int64, c conflict, source, now string) error {
	if _, err := tx.Exec(ctx, "INSERT INTO patient_conflict (patient_pk, field, old_value, new_value, source, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		pk, c.field, c.old, c.new, source, now); err != nil {
		return fmt.Errorf("order: flag conflict: %w", err)
	}
	return nil
}

// Intake stores a new order as protocol_pending. created is false when an
// order with the same facility, accession and placer order number already
// exists (a re-sent message): the stored order is returned unchanged. Another
// order using the accession yields ErrDuplicate.
func (s *Service) Intake(ctx context.Context, o Order) (stored Order, created bool, err error) {
	if err := o.Validate(); err != nil {
		return Order{}, false, err
	}
	if o.Patient.Issuer == "" {
		o.Patient.Issuer = o.FacilityID
	}
	if o.Priority == "" {
		o.Priority = PriorityRoutine
	}
	now := s.now()
	if o.OrderedAt.IsZero() {
		o.OrderedAt = now
	}
	o.ID = newID()
	o.Status = StatusProtocolPending
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		existing, err := getOrder(ctx, tx, "facility_id = ? AND accession = ?", o.FacilityID, o.Accession)
		if err == nil {
			if existing.PlacerOrder == o.PlacerOrder && existing.Patient.ID == o.Patient.ID {
				stored = existing
				return nil
			}
			return fmt.Errorf("order: intake %s: %w", existing.ID, ErrDuplicate)
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		pk, err := s.linkPatient(ctx, tx, o.Patient, "order")
		if err != nil {
			return err
		}
		o.PatientPK = pk
		_, err = tx.Exec(ctx, `INSERT INTO orders (id, facility_id, accession, placer_order, filler_order, patient_pk, issuer, patient_id, patient_name, birth_date, sex,
			procedure_code, procedure_system, procedure_text, reason, priority, stroke, trauma, ordering_name, ordering_id, ordering_id_type, callback_phone,
			location_state, medicare, ordered_at, requested_at, study_uid, requested_procedure_id, sps_id, modality, station_ae, scheduled_at, status,
			protocol_code, protocol_text, contrast, source, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, o.FacilityID, o.Accession, o.PlacerOrder, o.FillerOrder, pk, o.Patient.Issuer, o.Patient.ID, o.Patient.Name, o.Patient.BirthDate, o.Patient.Sex,
			o.ProcedureCode, o.ProcedureSystem, o.ProcedureText, o.Reason, string(o.Priority), b2i(o.Stroke), b2i(o.Trauma), o.Ordering.Name, o.Ordering.ID,
			o.Ordering.IDType, o.Ordering.Phone, o.LocationState, b2i(o.Medicare), db.Now(o.OrderedAt), db.FormatOptional(o.RequestedAt), o.StudyUID, o.RequestedProcID, o.SPSID, o.Modality,
			o.StationAE, db.FormatOptional(o.ScheduledAt), string(o.Status), o.Protocol.Code, o.Protocol.Text, o.Protocol.Contrast, o.Source, db.Now(now), db.Now(now))
		if err != nil {
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("order: intake: %w", ErrDuplicate)
			}
			return fmt.Errorf("order: intake: %w", err)
		}
		if err := s.event(ctx, tx, o.ID, "", StatusRequested, "", "order placed", o.OrderedAt); err != nil {
			return err
		}
		if err := s.event(ctx, tx, o.ID, StatusRequested, StatusProtocolPending, "", "", now); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return Order{}, false, err
	}
	if !created {
		s.log().Info("order: duplicate intake ignored", "order_id", stored.ID)
		return stored, false, nil
	}
	s.log().Info("order: received", "order_id", o.ID, "facility_id", o.FacilityID, "priority", o.Priority)
	stored, err = s.Get(ctx, o.ID)
	return stored, true, err
}

// transition moves an order from one of from (nil = any open state) to to,
// running apply (optional) in the same transaction.
func (s *Service) transition(ctx context.Context, id string, from []Status, to Status, actor, reason string, at time.Time,
	apply func(tx *db.Tx, o *Order) error) (Order, error) {
	var out Order
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		o, err := getOrder(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		ok := from == nil && o.Status.Open()
		for _, f := range from {
			ok = ok || o.Status == f
		}
		if !ok {
			return fmt.Errorf("order %s: %s → %s: %w", id, o.Status, to, ErrTransition)
		}
		prev := o.Status
		if apply != nil {
			if err := apply(tx, &o); err != nil {
				return err
			}
		}
		now := s.now()
		if at.IsZero() {
			at = now
		}
		if _, err := tx.Exec(ctx, "UPDATE orders SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?", string(to), reason, db.Now(now), id); err != nil {
			return fmt.Errorf("order: update status: %w", err)
		}
		if err := s.event(ctx, tx, id, prev, to, actor, reason, at); err != nil {
			return err
		}
		o.Status, o.StatusReason = to, reason
		out = o
		return nil
	})
	if err != nil {
		return Order{}, err
	}
	s.log().Info("order: status changed", "order_id", id, "status", string(to))
	return out, nil
}

func (s *Service) notify(ctx context.Context, tx *db.Tx, o Order, ev Status) error {
	if s.Notify == nil {
		return nil
	}
	if err := s.Notify(ctx, tx, o, ev); err != nil {
		return fmt.Errorf("order: notify facility: %w", err)
	}
	return nil
}

// Cancel cancels an open order (ORC-1 CA from the facility, or a coordinator).
// notifyFacility is false when the facility itself asked.
func (s *Service) Cancel(ctx context.Context, id, reason, actor string, notifyFacility bool) (Order, error) {
	return s.transition(ctx, id, []Status{StatusRequested, StatusProtocolPending, StatusScheduled, StatusOnHold}, StatusCancelled, actor, reason, time.Time{},
		func(tx *db.Tx, o *Order) error {
			if !notifyFacility {
				return nil
			}
			o.Status = StatusCancelled
			return s.notify(ctx, tx, *o, StatusCancelled)
		})
}

// Hold puts an open, not yet started order on hold (ORC-1 HD).
func (s *Service) Hold(ctx context.Context, id, reason, actor string) (Order, error) {
	return s.transition(ctx, id, []Status{StatusRequested, StatusProtocolPending, StatusScheduled}, StatusOnHold, actor, reason, time.Time{},
		func(tx *db.Tx, o *Order) error {
			_, err := tx.Exec(ctx, "UPDATE orders SET held_from = ? WHERE id = ?", string(o.Status), o.ID)
			return err
		})
}

// Release returns a held order to the state it was held from (ORC-1 RL).
func (s *Service) Release(ctx context.Context, id, actor string) (Order, error) {
	var heldFrom string
	if err := s.DB.QueryRow(ctx, "SELECT held_from FROM orders WHERE id = ?", id).Scan(&heldFrom); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Order{}, ErrNotFound
		}
		return Order{}, fmt.Errorf("order: release: %w", err)
	}
	to := Status(heldFrom)
	if !ValidStatus(heldFrom) {
		to = StatusProtocolPending
	}
	return s.transition(ctx, id, []Status{StatusOnHold}, to, actor, "released", time.Time{}, nil)
}

// Change applies an order change (ORC-1 XO): demographics, procedure,
// priority, reason, clinician, requested time. A changed procedure sends a
// scheduled order back to protocoling.
func (s *Service) Change(ctx context.Context, id string, n Order, actor string) (Order, error) {
	var out Order
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		o, err := getOrder(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		if !o.Status.Open() || o.Status == StatusInProgress {
			return fmt.Errorf("order %s: change in %s: %w", id, o.Status, ErrTransition)
		}
		to := o.Status
		reprotocol := n.ProcedureCode != "" && n.ProcedureCode != o.ProcedureCode && o.Status == StatusScheduled
		if reprotocol {
			to = StatusProtocolPending
		}
		set := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		set(&o.ProcedureCode, n.ProcedureCode)
		set(&o.ProcedureSystem, n.ProcedureSystem)
		set(&o.ProcedureText, n.ProcedureText)
		set(&o.Reason, n.Reason)
		set((*string)(&o.Priority), string(n.Priority))
		set(&o.Ordering.Name, n.Ordering.Name)
		set(&o.Ordering.ID, n.Ordering.ID)
		set(&o.Ordering.IDType, n.Ordering.IDType)
		set(&o.Ordering.Phone, n.Ordering.Phone)
		set(&o.Patient.Name, n.Patient.Name)
		set(&o.Patient.BirthDate, n.Patient.BirthDate)
		set(&o.Patient.Sex, n.Patient.Sex)
		set(&o.StudyUID, n.StudyUID)
		set(&o.Modality, n.Modality)
		set(&o.StationAE, n.StationAE)
		set(&o.LocationState, n.LocationState)
		o.Stroke, o.Trauma = o.Stroke || n.Stroke, o.Trauma || n.Trauma
		if !n.RequestedAt.IsZero() {
			o.RequestedAt = n.RequestedAt
		}
		now := s.now()
		_, err = tx.Exec(ctx, `UPDATE orders SET procedure_code = ?, procedure_system = ?, procedure_text = ?, reason = ?, priority = ?, ordering_name = ?,
			ordering_id = ?, ordering_id_type = ?, callback_phone = ?, patient_name = ?, birth_date = ?, sex = ?, study_uid = ?, modality = ?, station_ae = ?,
			location_state = ?, stroke = ?, trauma = ?, requested_at = ?, status = ?, updated_at = ? WHERE id = ?`,
			o.ProcedureCode, o.ProcedureSystem, o.ProcedureText, o.Reason, string(o.Priority), o.Ordering.Name, o.Ordering.ID, o.Ordering.IDType,
			o.Ordering.Phone, o.Patient.Name, o.Patient.BirthDate, o.Patient.Sex, o.StudyUID, o.Modality, o.StationAE, o.LocationState,
			b2i(o.Stroke), b2i(o.Trauma), db.FormatOptional(o.RequestedAt), string(to), db.Now(now), id)
		if err != nil {
			return fmt.Errorf("order: change: %w", err)
		}
		reason := "order changed"
		if reprotocol {
			reason = "procedure changed: protocol again"
		}
		if err := s.event(ctx, tx, id, o.Status, to, actor, reason, now); err != nil {
			return err
		}
		o.Status = to
		out = o
		return nil
	})
	if err != nil {
		return Order{}, err
	}
	s.log().Info("order: changed", "order_id", id)
	return out, nil
}

// ProtocolQueue lists orders waiting for a protocol in the given facilities
// (nil = all), stroke/trauma first, then STAT, ASAP, routine, oldest first.
func (s *Service) ProtocolQueue(ctx context.Context, facilityIDs []string) ([]Order, error) {
	var w db.Where
	w.Add("status = ?", string(StatusProtocolPending))
	if facilityIDs != nil {
		w.In("facility_id", facilityIDs)
	}
	q := "SELECT " + orderCols + " FROM orders" + w.String() + ` ORDER BY (stroke + trauma) DESC, CASE priority WHEN 'STAT' THEN 0 WHEN 'ASAP' THEN 1 ELSE 2 END, ordered_at, id`
	return s.list(ctx, q, w.Args()...)
}

func (s *Service) list(ctx context.Context, q string, args ...any) ([]Order, error) {
	return db.List("order: list", db.Rows(s.DB.Query(ctx, q, args...)), scanOrder)
}

// Approve records the protocol and schedules the order.
func (s *Service) Approve(ctx context.Context, id string, p Protocol, actor string) (Order, error) {
	if strings.TrimSpace(p.Code) == "" && strings.TrimSpace(p.Text) == "" {
		return Order{}, &ValidationError{"Protocol.Code", "code or text required"}
	}
	now := s.now()
	if p.ApprovedAt.IsZero() {
		p.ApprovedAt = now
	}
	if p.ApprovedBy == "" {
		p.ApprovedBy = actor
	}
	return s.transition(ctx, id, []Status{StatusProtocolPending, StatusRequested}, StatusScheduled, actor, "protocol approved", p.ApprovedAt,
		func(tx *db.Tx, o *Order) error {
			o.Protocol = p
			if p.Modality != "" {
				o.Modality = p.Modality
			}
			if p.StationAE != "" {
				o.StationAE = p.StationAE
			}
			switch {
			case !p.ScheduledAt.IsZero():
				o.ScheduledAt = p.ScheduledAt
			case !o.RequestedAt.IsZero():
				o.ScheduledAt = o.RequestedAt
			default:
				o.ScheduledAt = p.ApprovedAt
			}
			if o.StudyUID == "" {
				// In Scheduled Workflow the RIS names the study: the
				// modality gets this UID from the worklist (IHE RAD-5).
				o.StudyUID = dcm.NewUID()
			}
			if _, err := tx.Exec(ctx, `UPDATE orders SET protocol_code = ?, protocol_text = ?, contrast = ?, protocol_by = ?, protocol_at = ?, modality = ?,
				station_ae = ?, scheduled_at = ?, study_uid = ? WHERE id = ?`, p.Code, p.Text, p.Contrast, p.ApprovedBy, db.Now(p.ApprovedAt), o.Modality, o.StationAE,
				db.Now(o.ScheduledAt), o.StudyUID, o.ID); err != nil {
				return fmt.Errorf("order: approve: %w", err)
			}
			o.Status = StatusScheduled
			return s.notify(ctx, tx, *o, StatusScheduled)
		})
}

// Reject refuses an order at protocoling (e.g. not indicated); the facility is told.
func (s *Service) Reject(ctx context.Context, id, reason, actor string) (Order, error) {
	if strings.TrimSpace(reason) == "" {
		return Order{}, &ValidationError{"Reason", "required"}
	}
	return s.transition(ctx, id, []Status{StatusProtocolPending, StatusRequested}, StatusRejected, actor, reason, time.Time{},
		func(tx *db.Tx, o *Order) error {
			o.Status, o.StatusReason = StatusRejected, reason
			return s.notify(ctx, tx, *o, StatusRejected)
		})
}

// Return sends a scheduled order back to the protocol queue.
func (s *Service) Return(ctx context.Context, id, reason, actor string) (Order, error) {
	return s.transition(ctx, id, []Status{StatusScheduled}, StatusProtocolPending, actor, reason, time.Time{}, nil)
}
