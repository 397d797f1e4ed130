package server

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"lightbox/internal/archive"
	"lightbox/internal/facility"
	"lightbox/internal/gen"
)

// testNode starts a node on loopback with cfg (HTTP on a free port, AE
// LIGHTBOX, a temporary data folder and a silent log unless cfg says
// otherwise) and stops it when the test ends.
func testNode(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Data == "" {
		cfg.Data = t.TempDir()
	}
	if cfg.HTTP == "" {
		cfg.HTTP = "127.0.0.1:0"
	}
	if cfg.AETitle == "" {
		cfg.AETitle = "LIGHTBOX"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Dispatch.Close(); s.closeListeners(); s.Storage.Close() })
	return s
}

// seedFacilities adds the generator's SGH and HBI facilities.
func seedFacilities(t *testing.T, s *Server) {
	t.Helper()
	fs := facility.Store{DB: s.Storage.DB}
	for _, code := range []string{"SGH", "HBI"} {
		f, _ := gen.FacilityByCode(code)
		if err := fs.Upsert(context.Background(), facility.Facility{ID: f.Code, Name: f.Name, State: f.State, TimeZone: f.TimeZone, IssuerOfPatientID: f.IssuerOfPatientID}); err != nil {
			t.Fatal(err)
		}
	}
}

// storedStudy names the one instance storeCT archived.
type storedStudy struct{ Study, Series, SOP, PatientID, PatientName, Accession string }

// storeCT archives a one-slice CT study (generator seed) for a facility, as
// its modality would.
func storeCT(t *testing.T, s *Server, fac string, seed int64) storedStudy {
	t.Helper()
	var st storedStudy
	err := gen.Each(context.Background(), gen.Options{Modality: "CT", Slices: 1, Patients: 1, Rows: 16, Columns: 16, Facility: fac, Seed: seed}, func(inst *gen.Instance) error {
		var b bytes.Buffer
		_, _ = inst.WriteTo(&b)
		st = storedStudy{inst.StudyInstanceUID, inst.SeriesInstanceUID, inst.SOPInstanceUID, inst.Patient.ID, inst.Patient.Name, inst.AccessionNumber}
		_, err := s.Storage.Archive.Store(context.Background(), &b, archive.Source{Facility: fac})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
