package setup

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/facility"
	"lightbox/internal/model"
	"lightbox/internal/order"
	"lightbox/internal/roster"
)

// Facility is a facility as set up: identity and, optionally, its contract.
type Facility struct {
	facility.Facility
	Contract *roster.Contract `json:"contract,omitempty"`

	// csvTerms: the contract came from CSV columns (read type, Medicare)
	// and only those change; SLAs and code maps already stored are kept.
	csvTerms bool
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// zones caches time.LoadLocation, which reads the zoneinfo files on every
// call: a national import names a handful of zones thousands of times.
var zones sync.Map

func validZone(name string) bool {
	if v, ok := zones.Load(name); ok {
		return v.(bool)
	}
	_, err := time.LoadLocation(name)
	ok := err == nil && name != "" && name != "Local"
	zones.Store(name, ok)
	return ok
}

// checkFacility validates a facility and normalises its state.
func checkFacility(f *Facility) (string, error) {
	f.ID, f.Name, f.State = strings.TrimSpace(f.ID), strings.TrimSpace(f.Name), strings.ToUpper(strings.TrimSpace(f.State))
	switch {
	case !idPattern.MatchString(f.ID):
		return f.ID, invalid("id", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	case f.Name == "" || len(f.Name) > 200:
		return f.ID, invalid("name", "is required (at most 200 characters)")
	case !validState(f.State):
		return f.ID, invalid("state", "%q is not a US state or territory postal code (where patients are imaged)", f.State)
	case !validZone(f.TimeZone):
		return f.ID, invalid("timezone", "%q is not an IANA time zone", f.TimeZone)
	}
	if f.Contract != nil {
		if err := roster.ValidateContract(*f.Contract); err != nil {
			return f.ID, invalid("contract", "%v", err)
		}
	}
	return f.ID, nil
}

func saveFacility(ctx context.Context, tx *db.Tx, f *Facility) error {
	if err := facility.Upsert(ctx, tx, f.Facility); err != nil {
		return err
	}
	if f.Contract == nil {
		return nil
	}
	c := *f.Contract
	if f.csvTerms {
		old, ok, err := roster.ContractOf(ctx, tx, f.ID)
		if err != nil {
			return err
		}
		if ok {
			old.ReadType, old.Medicare = c.ReadType, c.Medicare
			c = old
		}
	}
	return roster.PutContract(ctx, tx, f.ID, c)
}

// PutFacility creates or updates one facility (and its contract when given).
func (s *Service) PutFacility(ctx context.Context, by Actor, f Facility) error {
	if _, err := checkFacility(&f); err != nil {
		return err
	}
	return s.write(ctx, by, change{typ: audit.SoftwareConfiguration, action: audit.Update, object: "facility", detail: "put facility " + f.ID, facility: f.ID},
		func(tx *db.Tx) error { return saveFacility(ctx, tx, &f) })
}

// Facilities lists every facility with its contract.
func (s *Service) Facilities(ctx context.Context) ([]Facility, error) {
	fs, err := facility.Store{DB: s.DB}.List(ctx)
	if err != nil {
		return nil, err
	}
	engine, err := roster.Store{DB: s.DB}.Facilities(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]*model.Facility{}
	for _, f := range engine {
		byID[f.ID] = f
	}
	out := make([]Facility, 0, len(fs))
	for _, f := range fs {
		sf := Facility{Facility: f}
		if e := byID[f.ID]; e != nil {
			sf.Contract = &roster.Contract{Medicare: e.Medicare, ReadType: e.ReadType, SLA: e.SLA, FinalSLA: e.FinalSLA, Codes: e.Codes}
		}
		out = append(out, sf)
	}
	return out, nil
}

// FacilityCSVHeader is the facility exchange format, one facility a row.
var FacilityCSVHeader = []string{"id", "name", "state", "timezone", "issuer_of_patient_id", "read_type", "medicare"}

// ImportFacilities reads facilities as CSV or a JSON array and saves the
// valid rows; the report lists the others.
func (s *Service) ImportFacilities(ctx context.Context, by Actor, r io.Reader, format string) (*Report, error) {
	rep := &Report{Kind: "facilities", Rejected: []Rejected{}}
	var rows []row[Facility]
	if format == "csv" {
		recs, err := readCSV(r, FacilityCSVHeader, rep)
		if err != nil {
			return rep, err
		}
		for _, rec := range recs {
			f := Facility{Facility: facility.Facility{ID: rec.v[0], Name: rec.v[1], State: rec.v[2], TimeZone: rec.v[3], IssuerOfPatientID: rec.v[4]}}
			if rec.v[5] != "" || rec.v[6] != "" {
				medicare, err := parseBool(rec.v[6])
				if err != nil {
					rep.Rows++
					rep.reject(rec.n, rec.v[0], invalid("medicare", "must be true or false"))
					continue
				}
				f.Contract, f.csvTerms = &roster.Contract{ReadType: model.ReadType(rec.v[5]), Medicare: medicare}, true
			}
			rows = append(rows, row[Facility]{n: rec.n, v: f})
		}
	} else {
		var err error
		if rows, err = readJSON[Facility](r, rep); err != nil {
			return rep, err
		}
	}
	im := importer[Facility]{check: checkFacility, save: saveFacility,
		change: change{typ: audit.SoftwareConfiguration, action: audit.Update, object: "facility"}}
	return rep, im.run(ctx, s, by, rep, rows)
}

// ExportFacilities writes every facility as CSV or JSON (the import formats).
func (s *Service) ExportFacilities(ctx context.Context, w io.Writer, format string) error {
	fs, err := s.Facilities(ctx)
	if err != nil {
		return err
	}
	if format != "csv" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(fs)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(FacilityCSVHeader)
	for _, f := range fs {
		var rt, medicare string
		if f.Contract != nil {
			rt, medicare = string(f.Contract.ReadType), strconv.FormatBool(f.Contract.Medicare)
		}
		_ = cw.Write([]string{f.ID, f.Name, f.State, f.TimeZone, f.IssuerOfPatientID, rt, medicare})
	}
	cw.Flush()
	return cw.Error()
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false", "no", "0":
		return false, nil
	case "true", "yes", "1":
		return true, nil
	}
	return false, strconv.ErrSyntax
}

// PutContract sets the contract of an existing facility.
func (s *Service) PutContract(ctx context.Context, by Actor, facilityID string, c roster.Contract) error {
	if err := roster.ValidateContract(c); err != nil {
		return invalid("contract", "%v", err)
	}
	return s.write(ctx, by, change{typ: audit.SoftwareConfiguration, action: audit.Update, object: "facility", detail: "put contract of " + facilityID, facility: facilityID},
		func(tx *db.Tx) error {
			if _, err := facility.Get(ctx, tx, facilityID); err != nil {
				return &Error{Code: CodeNotFound, Msg: "no facility " + facilityID}
			}
			return roster.PutContract(ctx, tx, facilityID, c)
		})
}

// PutProtocols replaces the protocol library of an existing facility (the
// codes a radiologist may approve its orders with).
func (s *Service) PutProtocols(ctx context.Context, by Actor, facilityID string, ps []order.LibraryProtocol) error {
	return s.write(ctx, by, change{typ: audit.SoftwareConfiguration, action: audit.Update, object: "facility", detail: "put protocol library of " + facilityID, facility: facilityID},
		func(tx *db.Tx) error {
			if _, err := facility.Get(ctx, tx, facilityID); err != nil {
				return &Error{Code: CodeNotFound, Msg: "no facility " + facilityID}
			}
			if err := order.SetProtocolsTx(ctx, tx, facilityID, ps); err != nil {
				var ve *order.ValidationError
				if errors.As(err, &ve) {
					return invalid(ve.Field, "%s", ve.Message)
				}
				return err
			}
			return nil
		})
}

// SetRetention sets how many years a facility keeps its instances (0: for
// ever), audited like every set-up change; internal/retention applies it.
func (s *Service) SetRetention(ctx context.Context, by Actor, facilityID string, years int) error {
	if years < 0 || years > 100 {
		return invalid("retention_years", "must be 0 (keep for ever) to 100")
	}
	return s.write(ctx, by, change{typ: audit.SoftwareConfiguration, action: audit.Update, object: "facility",
		detail: "retention " + facilityID + " " + strconv.Itoa(years) + " years", facility: facilityID},
		func(tx *db.Tx) error {
			err := facility.SetRetentionYears(ctx, tx, facilityID, years)
			if errors.Is(err, facility.ErrNotFound) {
				return unknownFacility("facility", facilityID)
			}
			return err
		})
}
