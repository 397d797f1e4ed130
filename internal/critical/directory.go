package critical

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/facility"
)

// Contact is one entry of a facility's contact directory: a clinician or a
// department contact (ED, radiology coordinator, medical director).
type Contact struct {
	ID         string    `json:"id"`
	FacilityID string    `json:"facility_id"`
	Name       string    `json:"name"`
	Role       string    `json:"role,omitempty"`       // e.g. "ordering physician", "ED attending"
	Department string    `json:"department,omitempty"` // DeptED, DeptRadiologyCoordinator, DeptMedicalDirector or ""
	NPI        string    `json:"npi,omitempty"`        // NPI or another clinician ID
	Phones     []string  `json:"phones,omitempty"`
	Pager      string    `json:"pager,omitempty"`
	Email      string    `json:"email,omitempty"`
	Source     string    `json:"source,omitempty"` // "order" (imported) or "manual"
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// Callback is the best number to call the contact on.
func (c Contact) Callback() string {
	if len(c.Phones) > 0 {
		return c.Phones[0]
	}
	return c.Pager
}

// Coverage says who covers whom at a facility by local time of day.
type Coverage struct {
	ID         string `json:"id"`
	FacilityID string `json:"facility_id"`
	CoveredID  string `json:"covered_id,omitempty"` // "" = every clinician (on call)
	CoveringID string `json:"covering_id"`
	Start      string `json:"start"` // "HH:MM", facility local time
	End        string `json:"end"`   // "HH:MM"; before Start wraps past midnight; equal = all day
	// Days limits the arrangement to weekdays ("mon".."sun"); empty = every day.
	Days []string `json:"days,omitempty"`
	Note string   `json:"note,omitempty"`
}

// Errors of the directory.
var (
	ErrContactNotFound = errors.New("critical: contact not found")
	ErrInvalid         = errors.New("critical: invalid request")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Directory is the per-facility contact directory.
type Directory struct {
	DB  *db.DB
	Now func() time.Time // nil = time.Now
}

func (d *Directory) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func normName(n string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(n, "^", " "))), " ")
}

func matchKey(id, name string) string {
	if id = strings.TrimSpace(id); id != "" {
		return "id:" + id
	}
	return "name:" + normName(name)
}

// displayName turns a DICOM/HL7 style name (Family^Given^Middle^Prefix)
// into "Prefix Given Middle Family"; other names are returned trimmed.
func displayName(n string) string {
	n = strings.TrimSpace(n)
	if !strings.Contains(n, "^") {
		return n
	}
	p := strings.Split(n, "^")
	for len(p) < 4 {
		p = append(p, "")
	}
	var out []string
	for _, s := range []string{p[3], p[1], p[2], p[0]} {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

const contactCols = "id, facility_id, name, role, department, npi, phones, pager, email, source, updated_at"

func scanContact(r db.Scanner) (Contact, error) {
	var c Contact
	var phones, updated string
	if err := r.Scan(&c.ID, &c.FacilityID, &c.Name, &c.Role, &c.Department, &c.NPI, &phones, &c.Pager, &c.Email, &c.Source, &updated); err != nil {
		return c, err
	}
	_ = json.Unmarshal([]byte(phones), &c.Phones)
	c.UpdatedAt = db.ParseOptional(updated)
	return c, nil
}

func validDept(d string) bool {
	switch d {
	case "", DeptED, DeptRadiologyCoordinator, DeptMedicalDirector:
		return true
	}
	return false
}

func cleanPhones(in []string) []string {
	var out []string
	for _, p := range in {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func phonesJSON(p []string) string {
	if p == nil {
		p = []string{}
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// UpsertFromOrder records the ordering clinician of an order (name, ID such
// as the NPI, callback phone) in the facility's directory, creating the
// contact or adding a new callback number to it. Contacts edited by hand
// keep their name and role. The lead calls it on order intake.
func (d *Directory) UpsertFromOrder(ctx context.Context, facilityID, name, id, phone string) (Contact, error) {
	name, id, phone = strings.TrimSpace(name), strings.TrimSpace(id), strings.TrimSpace(phone)
	if facilityID == "" || (name == "" && id == "") {
		return Contact{}, invalid("facility and clinician name or ID required")
	}
	key := matchKey(id, name)
	var out Contact
	err := d.DB.InTx(ctx, func(tx *db.Tx) error {
		now := db.FormatOptional(d.now())
		c, err := scanContact(tx.QueryRow(ctx, "SELECT "+contactCols+" FROM crit_contact WHERE facility_id = ? AND match_key = ?", facilityID, key))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			c = Contact{ID: newID("ctc_"), FacilityID: facilityID, Name: displayName(name), Role: "ordering clinician", NPI: id,
				Phones: cleanPhones([]string{phone}), Source: "order"}
			if c.Name == "" {
				c.Name = id
			}
			_, err = tx.Exec(ctx, `INSERT INTO crit_contact (id, facility_id, match_key, name, role, department, npi, phones, pager, email, source, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, '', ?, ?, '', '', 'order', ?, ?)`, c.ID, facilityID, key, c.Name, c.Role, c.NPI, phonesJSON(c.Phones), now, now)
		case err != nil:
		default:
			changed := false
			if phone != "" && !slices.Contains(c.Phones, phone) {
				c.Phones = append([]string{phone}, c.Phones...)
				changed = true
			}
			if c.Source == "order" && name != "" && displayName(name) != c.Name {
				c.Name = displayName(name)
				changed = true
			}
			if changed {
				_, err = tx.Exec(ctx, "UPDATE crit_contact SET name = ?, phones = ?, updated_at = ? WHERE id = ?", c.Name, phonesJSON(c.Phones), now, c.ID)
			}
		}
		out = c
		return err
	})
	if err != nil {
		return Contact{}, fmt.Errorf("critical: directory upsert: %w", err)
	}
	return out, nil
}

// Create adds a contact by hand (coordinators).
func (d *Directory) Create(ctx context.Context, c Contact) (Contact, error) {
	c.Name, c.Department = strings.TrimSpace(c.Name), strings.TrimSpace(c.Department)
	if c.FacilityID == "" || c.Name == "" {
		return Contact{}, invalid("contact needs a facility and a name")
	}
	if !validDept(c.Department) {
		return Contact{}, invalid("unknown department %q", c.Department)
	}
	c.ID, c.Source, c.Phones = newID("ctc_"), "manual", cleanPhones(c.Phones)
	key := "manual:" + c.ID
	if c.NPI != "" {
		key = matchKey(c.NPI, "")
	}
	now := d.now()
	_, err := d.DB.Exec(ctx, `INSERT INTO crit_contact (id, facility_id, match_key, name, role, department, npi, phones, pager, email, source, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'manual', ?, ?)`, c.ID, c.FacilityID, key, c.Name, c.Role, c.Department, c.NPI, phonesJSON(c.Phones),
		c.Pager, c.Email, db.FormatOptional(now), db.FormatOptional(now))
	if err != nil {
		return Contact{}, fmt.Errorf("critical: create contact (duplicate NPI?): %w", err)
	}
	c.UpdatedAt = now
	return c, nil
}

// Update replaces a contact's editable fields (name, role, department,
// phones, pager, email); the contact becomes "manual" so order imports no
// longer rename it.
func (d *Directory) Update(ctx context.Context, c Contact) (Contact, error) {
	c.Name = strings.TrimSpace(c.Name)
	if c.ID == "" || c.Name == "" {
		return Contact{}, invalid("contact needs an id and a name")
	}
	if !validDept(c.Department) {
		return Contact{}, invalid("unknown department %q", c.Department)
	}
	c.Phones = cleanPhones(c.Phones)
	res, err := d.DB.Exec(ctx, `UPDATE crit_contact SET name = ?, role = ?, department = ?, phones = ?, pager = ?, email = ?, source = 'manual', updated_at = ?
		WHERE id = ?`, c.Name, c.Role, c.Department, phonesJSON(c.Phones), c.Pager, c.Email, db.FormatOptional(d.now()), c.ID)
	if err != nil {
		return Contact{}, fmt.Errorf("critical: update contact: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Contact{}, ErrContactNotFound
	}
	return d.Get(ctx, c.ID)
}

// Get returns one contact.
func (d *Directory) Get(ctx context.Context, id string) (Contact, error) {
	c, err := scanContact(d.DB.QueryRow(ctx, "SELECT "+contactCols+" FROM crit_contact WHERE id = ?", id))
	return c, db.RowErr(err, ErrContactNotFound, "critical: get contact")
}

// Delete removes a contact and the coverage arrangements naming it.
func (d *Directory) Delete(ctx context.Context, id string) error {
	return d.DB.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM crit_contact WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("critical: delete contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrContactNotFound
		}
		_, err = tx.Exec(ctx, "DELETE FROM crit_coverage WHERE covered_id = ? OR covering_id = ?", id, id)
		return err
	})
}

// List returns a facility's contacts, by name; department "" lists all.
func (d *Directory) List(ctx context.Context, facilityID, department string) ([]Contact, error) {
	q := "SELECT " + contactCols + " FROM crit_contact WHERE facility_id = ?"
	args := []any{facilityID}
	if department != "" {
		q += " AND department = ?"
		args = append(args, department)
	}
	return db.List("critical: list contacts", db.Rows(d.DB.Query(ctx, q+" ORDER BY name, id", args...)), scanContact)
}

// FindClinician returns the directory entry of a clinician by ID (or name).
func (d *Directory) FindClinician(ctx context.Context, facilityID, name, id string) (Contact, bool, error) {
	c, err := scanContact(d.DB.QueryRow(ctx, "SELECT "+contactCols+" FROM crit_contact WHERE facility_id = ? AND match_key = ?", facilityID, matchKey(id, name)))
	found, err := db.Found(err, "critical: find clinician")
	return c, found, err
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, invalid("time of day %q must be HH:MM", s)
	}
	return hh*60 + mm, nil
}

func fmtClock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func daysMask(days []string) (int, error) {
	mask := 0
	for _, d := range days {
		i := slices.Index(weekdays, strings.ToLower(strings.TrimSpace(d))[:min(3, len(strings.TrimSpace(d)))])
		if i < 0 {
			return 0, invalid("unknown weekday %q", d)
		}
		mask |= 1 << i
	}
	return mask, nil
}

func maskDays(mask int) []string {
	var out []string
	for i, d := range weekdays {
		if mask&(1<<i) != 0 {
			out = append(out, d)
		}
	}
	return out
}

// AddCoverage records a covering arrangement.
func (d *Directory) AddCoverage(ctx context.Context, c Coverage) (Coverage, error) {
	if c.FacilityID == "" || c.CoveringID == "" {
		return Coverage{}, invalid("coverage needs a facility and a covering contact")
	}
	start, err := parseClock(c.Start)
	if err != nil {
		return Coverage{}, err
	}
	end, err := parseClock(c.End)
	if err != nil {
		return Coverage{}, err
	}
	mask, err := daysMask(c.Days)
	if err != nil {
		return Coverage{}, err
	}
	for _, id := range []string{c.CoveringID, c.CoveredID} {
		if id == "" {
			continue
		}
		ct, err := d.Get(ctx, id)
		if err != nil {
			return Coverage{}, err
		}
		if ct.FacilityID != c.FacilityID {
			return Coverage{}, invalid("contact %s belongs to another facility", id)
		}
	}
	c.ID, c.Start, c.End, c.Days = newID("cov_"), fmtClock(start), fmtClock(end), maskDays(mask)
	_, err = d.DB.Exec(ctx, `INSERT INTO crit_coverage (id, facility_id, covered_id, covering_id, start_min, end_min, days, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.FacilityID, c.CoveredID, c.CoveringID, start, end, mask, c.Note, db.FormatOptional(d.now()))
	if err != nil {
		return Coverage{}, fmt.Errorf("critical: add coverage: %w", err)
	}
	return c, nil
}

// DeleteCoverage removes an arrangement.
func (d *Directory) DeleteCoverage(ctx context.Context, id string) error {
	res, err := d.DB.Exec(ctx, "DELETE FROM crit_coverage WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("critical: delete coverage: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrContactNotFound
	}
	return nil
}

type coverageRow struct {
	Coverage
	start, end, mask int
}

func (d *Directory) coverageRows(ctx context.Context, facilityID string) ([]coverageRow, error) {
	return db.List("critical: list coverage", db.Rows(d.DB.Query(ctx, `SELECT id, facility_id, covered_id, covering_id, start_min, end_min, days, note FROM crit_coverage
		WHERE facility_id = ? ORDER BY created_at, id`, facilityID)), func(sc db.Scanner) (coverageRow, error) {
		var c coverageRow
		if err := sc.Scan(&c.ID, &c.FacilityID, &c.CoveredID, &c.CoveringID, &c.start, &c.end, &c.mask, &c.Note); err != nil {
			return coverageRow{}, err
		}
		c.Start, c.End, c.Days = fmtClock(c.start), fmtClock(c.end), maskDays(c.mask)
		return c, nil
	})
}

// ListCoverage returns a facility's arrangements.
func (d *Directory) ListCoverage(ctx context.Context, facilityID string) ([]Coverage, error) {
	rows, err := d.coverageRows(ctx, facilityID)
	out := make([]Coverage, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Coverage)
	}
	return out, err
}

func (c coverageRow) active(local time.Time) bool {
	m := local.Hour()*60 + local.Minute()
	day := int(local.Weekday())
	if c.start == c.end { // all day
		return c.mask == 0 || c.mask&(1<<day) != 0
	}
	if c.start < c.end {
		return (c.mask == 0 || c.mask&(1<<day) != 0) && m >= c.start && m < c.end
	}
	// Wraps past midnight: the evening part belongs to this day, the
	// morning part to the day before.
	if m >= c.start {
		return c.mask == 0 || c.mask&(1<<day) != 0
	}
	if m < c.end {
		prev := (day + 6) % 7
		return c.mask == 0 || c.mask&(1<<prev) != 0
	}
	return false
}

// Covering returns who covers a clinician (contact ID; "" = anyone) at a
// facility at the given time, evaluated in the facility's time zone:
// arrangements naming the clinician first, then the facility's on-call.
func (d *Directory) Covering(ctx context.Context, facilityID, clinicianID string, at time.Time) ([]Contact, error) {
	rows, err := d.coverageRows(ctx, facilityID)
	if err != nil {
		return nil, err
	}
	local := at.In(facilityLocation(ctx, d.DB, facilityID))
	var specific, general []string
	for _, r := range rows {
		if !r.active(local) || r.CoveringID == clinicianID {
			continue
		}
		switch {
		case clinicianID != "" && r.CoveredID == clinicianID:
			specific = append(specific, r.CoveringID)
		case r.CoveredID == "":
			general = append(general, r.CoveringID)
		}
	}
	ids := specific
	if len(ids) == 0 {
		ids = general
	}
	var out []Contact
	for _, id := range ids {
		c, err := d.Get(ctx, id)
		if errors.Is(err, ErrContactNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// facilityLocation is the facility's time zone (UTC when unknown).
func facilityLocation(ctx context.Context, d *db.DB, facilityID string) *time.Location {
	f, _ := facility.Get(ctx, d, facilityID)
	return f.Location()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CoverageFacility returns the facility of a coverage entry
// (ErrContactNotFound when there is none).
func (d *Directory) CoverageFacility(ctx context.Context, id string) (string, error) {
	var fac string
	err := d.DB.QueryRow(ctx, "SELECT facility_id FROM crit_coverage WHERE id = ?", id).Scan(&fac)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrContactNotFound
	}
	return fac, err
}
