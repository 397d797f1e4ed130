package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/setup"
)

// TestEditorReaderBecomesEligible: a reader saved as the web app's reader
// editor saves one (PUT /api/readers/{id} with its whole document) covers
// the facility once the editor's malpractice policy is filled in; without
// it the gap map names malpractice as what is missing.
func TestEditorReaderBecomesEligible(t *testing.T) {
	eachAPI(t, func(d *db.DB) Options {
		return Options{Setup: &setup.Service{DB: d, Audit: &audit.Logger{DB: d}}}
	}, func(t *testing.T, d *db.DB, mux http.Handler) {
		call := func(method, path, body string) string {
			t.Helper()
			rec := send(mux, qcaller{"coord", string(auth.Admin), ""}, method, path, "application/json", body)
			if rec.Code != 200 {
				t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
			}
			return rec.Body.String()
		}
		call("PUT", "/api/facilities/NWH", `{"name":"Northwest","state":"OR","timezone":"America/Los_Angeles","contract":{"read_type":"final"}}`)
		// the editor's document for a new reader (ReadersPanel.blankReader
		// filled in), with the shift the roster screen adds
		editor := func(malpractice string) string {
			return `{"id":"dr.ui","name":"Dr UI","modalities":["CT","MR","CR","US"],"mqsa":{"qualified":false,"last_24_months":0},"workstation":"3MP",
			"location":{"country":"US","state":"OR"},"time_zone":"America/Los_Angeles","rvu_target_per_hour":8,
			"licenses":[{"state":"OR","number":"MD-9","status":"active","expires":"2030-01-01"}],
			"privileges":[{"facility":"NWH","scope":{},"basis":"direct","expires":"2030-01-01"}]` + malpractice + `}`
		}
		call("PUT", "/api/readers/dr.ui", editor(""))
		call("PUT", "/api/readers/dr.ui/shifts", `[{"type":"swing","start":"00:00","end":"00:00"}]`)
		type gapMap struct {
			Rows []struct {
				Covered []bool `json:"covered"`
				Gaps    []struct {
					Missing string `json:"missing"`
				} `json:"gaps"`
			} `json:"rows"`
		}
		gaps := func() gapMap {
			var g gapMap
			if err := json.Unmarshal([]byte(call("GET", "/api/coverage/gaps?facility=NWH&hours=24&from=2026-12-08T00:00:00Z", "")), &g); err != nil || len(g.Rows) != 1 {
				t.Fatalf("gap map: %v %+v", err, g)
			}
			return g
		}
		if g := gaps(); len(g.Rows[0].Gaps) == 0 || !strings.Contains(g.Rows[0].Gaps[0].Missing, "malpractice") {
			t.Fatalf("without malpractice the gap should name it: %+v", g)
		}
		// the editor keeps fields it does not show (the shifts) and adds the
		// malpractice and Medicare rows
		var saved map[string]any
		if err := json.Unmarshal([]byte(call("GET", "/api/readers/dr.ui", "")), &saved); err != nil {
			t.Fatal(err)
		}
		shifts, _ := json.Marshal(saved["shifts"])
		call("PUT", "/api/readers/dr.ui", editor(`,"shifts":`+string(shifts)+`,
			"malpractice":[{"carrier":"Group policy","states":["OR"],"telemedicine":true,"expires":"2030-01-01"}],
			"enrolments":[{"payer":"medicare","active":true}]`))
		g := gaps()
		for h, c := range g.Rows[0].Covered {
			if !c {
				t.Fatalf("hour %d still uncovered: %+v", h, g.Rows[0].Gaps)
			}
		}
	})
}
