package roster

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"lightbox/internal/model"
)

// ExportJSON writes readers as a JSON array.
func ExportJSON(w io.Writer, readers []*model.Reader) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(readers)
}

// ImportJSON reads a JSON array of readers and saves each; nothing is saved
// when any reader is invalid.
func (s Store) ImportJSON(ctx context.Context, r io.Reader) (int, error) {
	var readers []*model.Reader
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&readers); err != nil {
		return 0, fmt.Errorf("import readers: %w", err)
	}
	for _, rd := range readers {
		if err := Validate(rd); err != nil {
			return 0, fmt.Errorf("import readers: %w", err)
		}
	}
	for _, rd := range readers {
		if err := s.PutReader(ctx, rd); err != nil {
			return 0, err
		}
	}
	return len(readers), nil
}

// csvHeader is the licence/privilege exchange format: one credential a row.
var csvHeader = []string{"reader_id", "kind", "state_or_facility", "number", "status", "expires", "scope_modalities", "mammography"}

// ExportCSV writes every licence and privilege, one a row.
func ExportCSV(w io.Writer, readers []*model.Reader) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	for _, r := range readers {
		for _, l := range r.Licenses {
			_ = cw.Write([]string{r.ID, "licence", l.State, l.Number, string(l.Status), l.Expires.String(), "", ""})
		}
		for _, p := range r.Privileges {
			_ = cw.Write([]string{r.ID, "privilege", p.Facility, p.AgreementID, string(p.Basis), p.Expires.String(),
				strings.Join(p.Scope.Modalities, " "), fmt.Sprint(p.Scope.Mammography)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// ImportCSV replaces the licences and privileges of the readers it names
// (readers must exist); it returns how many rows it applied.
func (s Store) ImportCSV(ctx context.Context, r io.Reader) (int, error) {
	cr := csv.NewReader(r)
	rows, err := cr.ReadAll()
	if err != nil {
		return 0, fmt.Errorf("import csv: %w", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		return 0, fmt.Errorf("import csv: first line must be %s", strings.Join(csvHeader, ","))
	}
	byID := map[string]*model.Reader{}
	var order []string
	for i, row := range rows[1:] {
		line := i + 2
		id := row[0]
		rd, ok := byID[id]
		if !ok {
			rd, err = s.Reader(ctx, id)
			if err != nil {
				return 0, fmt.Errorf("import csv line %d: %w", line, err)
			}
			rd.Licenses, rd.Privileges = nil, nil
			byID[id] = rd
			order = append(order, id)
		}
		exp, err := model.ParseDate(row[5])
		if err != nil {
			return 0, fmt.Errorf("import csv line %d: expires: %w", line, err)
		}
		switch row[1] {
		case "licence", "license":
			rd.Licenses = append(rd.Licenses, model.License{State: strings.ToUpper(row[2]), Number: row[3], Status: model.LicenceStatus(row[4]), Expires: exp})
		case "privilege":
			p := model.Privilege{Facility: row[2], AgreementID: row[3], Basis: model.Basis(row[4]), Expires: exp, Scope: model.Scope{Mammography: row[7] == "true"}}
			if m := strings.Fields(row[6]); len(m) > 0 {
				p.Scope.Modalities = m
			}
			rd.Privileges = append(rd.Privileges, p)
		default:
			return 0, fmt.Errorf("import csv line %d: kind must be licence or privilege, not %q", line, row[1])
		}
	}
	for _, id := range order {
		if err := s.PutReader(ctx, byID[id]); err != nil {
			return 0, err
		}
	}
	return len(rows) - 1, nil
}
