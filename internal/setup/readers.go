package setup

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/facility"
	"lightbox/internal/model"
	"lightbox/internal/roster"
)

// readerChecker validates a reader against the facilities that exist.
func readerChecker(facs map[string]bool) func(*model.Reader) (string, error) {
	return func(r *model.Reader) (string, error) {
		r.ID = strings.TrimSpace(r.ID)
		if !idPattern.MatchString(r.ID) {
			return r.ID, invalid("id", "must be 1 to 64 letters, digits, '.', '_' or '-' (the reader's user name)")
		}
		if r.TimeZone != "" && !validZone(r.TimeZone) {
			return r.ID, invalid("time_zone", "%q is not an IANA time zone", r.TimeZone)
		}
		r.Location.Country = strings.ToUpper(r.Location.Country)
		if len(r.Location.Country) != 2 {
			return r.ID, invalid("location.country", "is required: ISO 3166 two-letter code of where the reader physically reads")
		}
		for i, l := range r.Licenses {
			r.Licenses[i].State = strings.ToUpper(l.State)
			if !validState(r.Licenses[i].State) {
				return r.ID, invalid(fmt.Sprintf("licenses[%d].state", i), "%q is not a US state or territory", l.State)
			}
		}
		for i, p := range r.Privileges {
			if !facs[p.Facility] {
				return r.ID, unknownFacility(fmt.Sprintf("privileges[%d].facility", i), p.Facility)
			}
		}
		for i, m := range r.Modalities {
			r.Modalities[i] = strings.ToUpper(m)
		}
		if err := roster.Validate(r); err != nil {
			return r.ID, invalid("", "%v", err)
		}
		return r.ID, nil
	}
}

func saveReader(ctx context.Context, tx *db.Tx, r *model.Reader) error {
	return roster.PutReader(ctx, tx, r)
}

var readerChange = change{typ: audit.SoftwareConfiguration, action: audit.Update, object: "reader"}

// PutReader creates or replaces a reader document (credentials, shifts ...).
func (s *Service) PutReader(ctx context.Context, by Actor, r *model.Reader) error {
	facs, err := facility.IDs(ctx, s.DB)
	if err != nil {
		return err
	}
	if _, err := readerChecker(facs)(r); err != nil {
		return err
	}
	c := readerChange
	c.detail = "put reader " + r.ID
	return s.write(ctx, by, c, func(tx *db.Tx) error { return saveReader(ctx, tx, r) })
}

// DeleteReader removes a reader.
func (s *Service) DeleteReader(ctx context.Context, by Actor, id string) error {
	c := readerChange
	c.action, c.detail = audit.Delete, "delete reader "+id
	return s.write(ctx, by, c, func(tx *db.Tx) error {
		ok, err := roster.DeleteReader(ctx, tx, id)
		return removed(ok, err, "no reader %q", id)
	})
}

// ReaderCSVHeader is the reader exchange format: one reader a row, without
// credentials (see CredentialCSVHeader) or shifts (ShiftCSVHeader).
var ReaderCSVHeader = []string{"id", "name", "country", "state", "timezone", "modalities", "subspecialties", "workstation", "mqsa", "rvu_target_per_hour"}

// CredentialCSVHeader is the licence/privilege exchange format (one
// credential a row), as medical-staff offices keep them.
var CredentialCSVHeader = []string{"reader_id", "kind", "state_or_facility", "number", "status", "expires", "scope_modalities", "mammography"}

func (s *Service) readerMap(ctx context.Context) (map[string]*model.Reader, error) {
	rs, err := roster.Store{DB: s.DB}.Readers(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*model.Reader, len(rs))
	for _, r := range rs {
		m[r.ID] = r
	}
	return m, nil
}

// readReaderCSV reads a CSV import that speaks of readers (header first),
// and the stored readers by ID its rows are checked and merged against.
func (s *Service) readReaderCSV(ctx context.Context, r io.Reader, header []string, rep *Report) ([]row[[]string], map[string]*model.Reader, error) {
	recs, err := readCSV(r, header, rep)
	if err != nil {
		return nil, nil, err
	}
	readers, err := s.readerMap(ctx)
	return recs, readers, err
}

// ImportReaders reads readers as a JSON array of reader documents (each
// replaces the stored one) or as FormatReadersCSV (each row creates the
// reader or updates those fields, keeping its credentials and shifts).
func (s *Service) ImportReaders(ctx context.Context, by Actor, r io.Reader, format string) (*Report, error) {
	rep := &Report{Kind: "readers", Rejected: []Rejected{}}
	facs, err := facility.IDs(ctx, s.DB)
	if err != nil {
		return rep, err
	}
	im := importer[model.Reader]{check: func(rd *model.Reader) (string, error) { return readerChecker(facs)(rd) },
		save: func(ctx context.Context, tx *db.Tx, rd *model.Reader) error { return saveReader(ctx, tx, rd) }, change: readerChange}
	if format != FormatReadersCSV {
		rows, err := readJSON[model.Reader](r, rep)
		if err != nil {
			return rep, err
		}
		return rep, im.run(ctx, s, by, rep, rows)
	}
	recs, existing, err := s.readReaderCSV(ctx, r, ReaderCSVHeader, rep)
	if err != nil {
		return rep, err
	}
	var rows []row[model.Reader]
	for _, rec := range recs {
		v := rec.v
		rd := model.Reader{ID: v[0]}
		if old := existing[v[0]]; old != nil {
			rd = *old
		}
		rd.Name, rd.Location = v[1], model.Location{Country: v[2], State: strings.ToUpper(v[3])}
		rd.TimeZone, rd.Modalities, rd.Subspecialties = v[4], strings.Fields(v[5]), strings.Fields(strings.ToLower(v[6]))
		rd.Workstation = model.Workstation(strings.ToUpper(v[7]))
		mqsa, err1 := parseBool(v[8])
		target, err2 := strconv.ParseFloat(cmp.Or(v[9], "0"), 64)
		if err1 != nil || err2 != nil || target < 0 {
			rep.Rows++
			rep.reject(rec.n, v[0], invalid("", "mqsa must be true/false and rvu_target_per_hour a number ≥ 0"))
			continue
		}
		rd.MQSA.Qualified, rd.RVUTargetPerHour = mqsa, target
		rows = append(rows, row[model.Reader]{n: rec.n, v: rd})
	}
	return rep, im.run(ctx, s, by, rep, rows)
}

// ImportCredentials reads licences and privileges as CSV (CredentialCSVHeader)
// and merges them into existing readers: a licence replaces the reader's
// licence for that state, a privilege the one at that facility. A row for
// an unknown reader or facility is refused and changes nothing.
func (s *Service) ImportCredentials(ctx context.Context, by Actor, r io.Reader) (*Report, error) {
	rep := &Report{Kind: "credentials", Rejected: []Rejected{}}
	recs, readers, err := s.readReaderCSV(ctx, r, CredentialCSVHeader, rep)
	if err != nil {
		return rep, err
	}
	facs, err := facility.IDs(ctx, s.DB)
	if err != nil {
		return rep, err
	}
	touched := map[string]bool{}
	check := func(v *[]string) (string, error) {
		rec := *v
		key := rec[0] + "|" + rec[1] + "|" + rec[2]
		if readers[rec[0]] == nil {
			return key, &Error{Code: CodeUnknownReader, Field: "reader_id", Msg: fmt.Sprintf("no reader %q", rec[0])}
		}
		if _, err := model.ParseDate(rec[5]); err != nil {
			return key, invalid("expires", "must be YYYY-MM-DD")
		}
		switch rec[1] {
		case "licence", "license":
			rec[2] = strings.ToUpper(rec[2])
			if !validState(rec[2]) {
				return key, invalid("state_or_facility", "%q is not a US state or territory", rec[2])
			}
			if rec[3] == "" {
				return key, invalid("number", "a licence needs its number")
			}
			switch model.LicenceStatus(cmp.Or(rec[4], "active")) {
			case model.LicenceActive, model.LicenceInactive, model.LicenceRestricted:
			default:
				return key, invalid("status", "licence status is active, inactive or restricted")
			}
		case "privilege":
			if !facs[rec[2]] {
				return key, unknownFacility("state_or_facility", rec[2])
			}
			if b := model.Basis(cmp.Or(rec[4], "direct")); b != model.Direct && b != model.Proxy {
				return key, invalid("status", "privilege basis is direct or proxy")
			}
			if _, err := parseBool(rec[7]); err != nil {
				return key, invalid("mammography", "must be true or false")
			}
		default:
			return key, invalid("kind", "must be licence or privilege, not %q", rec[1])
		}
		return key, nil
	}
	apply := func(_ context.Context, _ *db.Tx, v *[]string) error {
		rec := *v
		rd := readers[rec[0]]
		exp, _ := model.ParseDate(rec[5])
		touched[rd.ID] = true
		if rec[1] == "privilege" {
			mammo, _ := parseBool(rec[7])
			p := model.Privilege{Facility: rec[2], AgreementID: rec[3], Basis: model.Basis(cmp.Or(rec[4], "direct")), Expires: exp,
				Scope: model.Scope{Modalities: strings.Fields(strings.ToUpper(rec[6])), Mammography: mammo}}
			for i := range rd.Privileges {
				if rd.Privileges[i].Facility == p.Facility {
					p.Granted, p.DistantSite, p.Scope.BodyRegions, p.Scope.Paediatrics = rd.Privileges[i].Granted, rd.Privileges[i].DistantSite, rd.Privileges[i].Scope.BodyRegions, rd.Privileges[i].Scope.Paediatrics
					rd.Privileges[i] = p
					return nil
				}
			}
			rd.Privileges = append(rd.Privileges, p)
			return nil
		}
		l := model.License{State: rec[2], Number: rec[3], Status: model.LicenceStatus(cmp.Or(rec[4], "active")), Expires: exp}
		for i := range rd.Licenses {
			if rd.Licenses[i].State == l.State {
				l.Type, l.IMLC, l.Restrictions, l.VerifiedAt, l.Source = rd.Licenses[i].Type, rd.Licenses[i].IMLC, rd.Licenses[i].Restrictions, rd.Licenses[i].VerifiedAt, rd.Licenses[i].Source
				rd.Licenses[i] = l
				return nil
			}
		}
		rd.Licenses = append(rd.Licenses, l)
		return nil
	}
	im := importer[[]string]{check: check, save: apply, change: readerChange,
		finish: func(ctx context.Context, tx *db.Tx) error {
			for id := range touched {
				if err := roster.PutReader(ctx, tx, readers[id]); err != nil {
					return err
				}
			}
			return nil
		}}
	return rep, im.run(ctx, s, by, rep, recs)
}

// Export formats of readers.
const (
	FormatJSON           = "json"            // whole reader documents
	FormatReadersCSV     = "readers-csv"     // ReaderCSVHeader
	FormatCredentialsCSV = "credentials-csv" // CredentialCSVHeader
)

// ExportReaders writes readers in one of the Format* formats.
func (s *Service) ExportReaders(ctx context.Context, w io.Writer, format string) error {
	rs, err := roster.Store{DB: s.DB}.Readers(ctx)
	if err != nil {
		return err
	}
	switch format {
	case FormatCredentialsCSV:
		return roster.ExportCSV(w, rs)
	case FormatReadersCSV:
		cw := csv.NewWriter(w)
		_ = cw.Write(ReaderCSVHeader)
		for _, r := range rs {
			_ = cw.Write([]string{r.ID, r.Name, r.Location.Country, r.Location.State, r.TimeZone, strings.Join(r.Modalities, " "),
				strings.Join(r.Subspecialties, " "), string(r.Workstation), strconv.FormatBool(r.MQSA.Qualified), strconv.FormatFloat(r.RVUTargetPerHour, 'f', -1, 64)})
		}
		cw.Flush()
		return cw.Error()
	}
	if rs == nil {
		rs = []*model.Reader{}
	}
	return roster.ExportJSON(w, rs)
}
