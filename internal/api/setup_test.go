package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/hl7"
	"lightbox/internal/order"
	"lightbox/internal/setup"
)

// setupOptions is an API whose set-up changes are audited, with the order
// routes (facility protocols).
func setupOptions(d *db.DB) Options {
	return Options{Orders: &order.Service{DB: d}, Setup: &setup.Service{DB: d, Audit: &audit.Logger{DB: d}, HL7Probe: hl7.Probe}}
}

// Every set-up operation through the JSON API, with its validation errors
// and their stable codes.
func TestSetupRoutes(t *testing.T) {
	eachAPI(t, setupOptions, func(t *testing.T, d *db.DB, mux http.Handler) {
		type step struct {
			role, method, path, ctype, body string
			status                          int
			code, contains                  string
		}
		admin, coord, rad := string(auth.Admin), string(auth.Coordinator), string(auth.Radiologist)
		js := "application/json"
		for _, s := range []step{
			{admin, "PUT", "/api/facilities/NWH", js, `{"name":"Northwest","state":"OR","timezone":"America/Los_Angeles","contract":{"read_type":"final"}}`, 200, "", ""},
			{admin, "PUT", "/api/facilities/BAD", js, `{"name":"Bad","state":"ZZ","timezone":"UTC"}`, 422, "invalid", "state"},
			{admin, "PUT", "/api/facilities/BAD", js, `{"name":"Bad","state":"TX","timezone":"Mars/Base"}`, 422, "invalid", "timezone"},
			{admin, "PUT", "/api/facilities/BAD", js, `{"name":"Bad","state":"TX","timezone":"UTC","contract":{"read_type":"sometimes"}}`, 422, "invalid", "read type"},
			{admin, "PUT", "/api/facilities/X", js, `{"name":`, 400, "format", ""},
			{coord, "PUT", "/api/facilities/NWH", js, `{"name":"N","state":"OR","timezone":"UTC"}`, 403, "", ""},
			{admin, "POST", "/api/facilities/import", "text/csv", "id,name,state,timezone,issuer_of_patient_id,read_type,medicare\nF1,One,TX,America/Chicago,,final,true\nF2,Two,XX,America/Chicago,,,\n", 200, "", `"accepted": 1`},
			{admin, "POST", "/api/facilities/import", "text/csv", "wrong,header\n", 400, "format", ""},
			{admin, "POST", "/api/facilities/import", "text/plain", "x", 415, "format", ""},
			{admin, "GET", "/api/facilities/export?format=csv", "", "", 200, "", "F1,One,TX,America/Chicago,,final,true"},
			{admin, "PUT", "/api/facilities/NWH/contract", js, `{"read_type":"prelim-only"}`, 200, "", ""},
			{admin, "PUT", "/api/facilities/NOPE/contract", js, `{"read_type":"final"}`, 404, "not_found", ""},
			{admin, "PUT", "/api/facilities/NWH/endpoints/hl7", js, `{"address":"127.0.0.1:1"}`, 200, "", ""},
			{admin, "PUT", "/api/facilities/NWH/endpoints/hl7", js, `{"address":"no-port"}`, 422, "invalid", "address"},
			{admin, "PUT", "/api/facilities/NWH/endpoints/smtp", js, `{"address":"x:1"}`, 422, "invalid", "kind"},
			{admin, "PUT", "/api/facilities/NOPE/endpoints/hl7", js, `{"address":"127.0.0.1:1"}`, 422, "unknown_facility", ""},
			{admin, "PUT", "/api/facilities/NWH/endpoints/fhir", js, `{"address":"https://fhir.example.org/r4","auth":"Bearer s3cret"}`, 200, "", ""},
			{admin, "GET", "/api/facilities/NWH/endpoints", "", "", 200, "", `"auth": "(set)"`},
			{admin, "POST", "/api/facilities/NWH/endpoints/hl7/test", "", "", 200, "", `"ok": false`},
			{admin, "POST", "/api/facilities/F1/endpoints/hl7/test", "", "", 404, "not_found", ""},
			{admin, "DELETE", "/api/facilities/NWH/endpoints/fhir", "", "", 200, "", ""},
			{admin, "DELETE", "/api/facilities/NWH/endpoints/fhir", "", "", 404, "not_found", ""},
			{admin, "PUT", "/api/aes/NWH_CT1", js, `{"host":"10.0.0.5","port":104,"facility_id":"NWH"}`, 200, "", ""},
			{admin, "PUT", "/api/aes/GHOST", js, `{"host":"10.0.0.5","port":104,"facility_id":"NOPE"}`, 422, "unknown_facility", ""},
			{admin, "PUT", "/api/hl7-senders/NWH", js, `{"facility_id":"NWH","allow_cidrs":["10.0.0.0/8"]}`, 200, "", ""},
			{admin, "PUT", "/api/hl7-senders/NWH", js, `{"facility_id":"NOPE","allow_cidrs":["10.0.0.0/8"]}`, 422, "unknown_facility", ""},
			{admin, "PUT", "/api/hl7-senders/NWH", js, `{"facility_id":"NWH"}`, 422, "invalid", "CIDR"},
			{coord, "PUT", "/api/hl7-senders/NWH", js, `{"facility_id":"NWH","allow_cidrs":["10.0.0.0/8"]}`, 403, "", ""},
			{admin, "GET", "/api/hl7-senders", "", "", 200, "", `"sending_facility": "NWH"`},
			{admin, "DELETE", "/api/hl7-senders/NWH", "", "", 200, "", ""},
			{admin, "DELETE", "/api/hl7-senders/NWH", "", "", 404, "not_found", ""},
			{admin, "PUT", "/api/facilities/NWH/protocols", js, `[{"code":"CTH","text":"CT head"}]`, 200, "", ""},
			{admin, "PUT", "/api/facilities/NOPE/protocols", js, `[{"code":"CTH","text":"CT head"}]`, 404, "not_found", ""},
			{coord, "PUT", "/api/readers/dr.a", js, `{"name":"Dr A","location":{"country":"US","state":"OR"},"time_zone":"America/Los_Angeles","modalities":["CT"],
			"licenses":[{"state":"OR","number":"1","status":"active","expires":"2030-01-01"}],"privileges":[{"facility":"NWH","basis":"direct","expires":"2030-01-01"}]}`, 200, "", ""},
			{coord, "PUT", "/api/readers/dr.b", js, `{"location":{"country":"US"},"privileges":[{"facility":"NOPE","basis":"direct"}]}`, 422, "unknown_facility", "privileges[0].facility"},
			{coord, "PUT", "/api/readers/dr.b", js, `{"location":{"country":"US"},"licenses":[{"state":"QQ","number":"1"}]}`, 422, "invalid", "licenses[0].state"},
			{coord, "POST", "/api/readers/import?kind=readers", "text/csv", "id,name,country,state,timezone,modalities,subspecialties,workstation,mqsa,rvu_target_per_hour\ndr.c,Dr C,US,OR,America/Los_Angeles,CT,,3MP,false,9\ndr.d,,,OR,UTC,CT,,3MP,false,9\n", 200, "", `"accepted": 1`},
			{coord, "POST", "/api/readers/import", "text/csv", "reader_id,kind,state_or_facility,number,status,expires,scope_modalities,mammography\ndr.c,privilege,NWH,,direct,2030-01-01,,false\ndr.c,privilege,NOPE,,direct,2030-01-01,,false\n", 200, "", `"code": "unknown_facility"`},
			{coord, "GET", "/api/readers/export?format=readers-csv", "", "", 200, "", "dr.c,Dr C,US,OR"},
			{coord, "PUT", "/api/readers/dr.a/shifts", js, `[{"type":"nighthawk","days":[1,2,3,4,5],"start":"22:00","end":"08:00"}]`, 200, "", ""},
			{coord, "PUT", "/api/readers/dr.a/shifts", js, `[{"type":"graveyard","start":"22:00","end":"08:00"}]`, 422, "invalid", "shifts[0].type"},
			{coord, "PUT", "/api/readers/nobody/shifts", js, `[]`, 422, "unknown_reader", ""},
			{coord, "POST", "/api/readers/dr.a/blocks", js, `{"type":"swing","start":"2026-12-24T22:00:00Z","end":"2026-12-25T06:00:00Z"}`, 200, "", ""},
			// A reader's own opt-in to extra work: theirs alone, persisted, audited.
			{coord, "PUT", "/api/readers/u-radiologist", js, `{"name":"Dr R","location":{"country":"US","state":"OR"},"time_zone":"UTC","modalities":["CT"]}`, 200, "", ""},
			{rad, "PUT", "/api/worklist/extra-work", js, `{"on":true}`, 200, "", `"extra_work": true`},
			{rad, "PUT", "/api/worklist/extra-work", js, `{"on":`, 400, "format", ""},
			{coord, "PUT", "/api/worklist/extra-work", js, `{"on":true}`, 403, "", ""},
			{rad, "GET", "/api/worklist/extra-work", "", "", 200, "", `"extra_work": true`},
			{coord, "GET", "/api/readers/u-radiologist", "", "", 200, "", `"extra_work": true`},
			{coord, "POST", "/api/readers/dr.a/blocks", js, `{"start":"2026-12-24T22:00:00Z","end":"2026-12-24T21:00:00Z"}`, 422, "invalid", ""},
			{coord, "POST", "/api/shifts/import", "text/csv", "reader_id,type,days,start,end\ndr.c,dayhawk,mon-fri,08:00,16:00\nnobody,dayhawk,,08:00,16:00\n", 200, "", `"code": "unknown_reader"`},
			{coord, "GET", "/api/shifts/export", "", "", 200, "", "dr.c,dayhawk,mon tue wed thu fri,08:00,16:00"},
			{coord, "GET", "/api/readers/dr.a/shifts", "", "", 200, "", `"type": "nighthawk"`},
			{coord, "GET", "/api/coverage/gaps?facility=NWH&hours=24&from=2026-12-08T00:00:00Z", "", "", 200, "", `"facility_id": "NWH"`},
			{coord, "GET", "/api/dashboard/volume?from=2026-12-01&to=2026-12-07", "", "", 200, "", `"rows": []`},
			{coord, "GET", "/api/dashboard/volume?from=2026-12-07&to=2026-12-01", "", "", 400, "", ""},
			{coord, "GET", "/api/dashboard/discrepancy?from=2026-12-01&to=2026-12-07", "", "", 200, "", `"rows": []`},
			{coord, "GET", "/api/dashboard/discrepancy?from=2026-01-01&to=2026-12-07", "", "", 400, "", ""},
			{string(auth.Radiologist), "GET", "/api/dashboard/discrepancy", "", "", 403, "", ""},
			{coord, "POST", "/api/roster/changes", js, `{"kind":"vacation","reader_id":"dr.a","start":"2026-12-24T00:00:00Z","end":"2026-12-31T00:00:00Z"}`, 200, "", ""},
			{coord, "POST", "/api/roster/changes", js, `{"kind":"swap","reader_id":"dr.a","start":"2026-12-20T22:00:00Z","end":"2026-12-21T08:00:00Z"}`, 422, "invalid", "with"},
			{coord, "POST", "/api/roster/changes", js, `{"kind":"swap","reader_id":"dr.a","with":"nobody","start":"2026-12-20T22:00:00Z","end":"2026-12-21T08:00:00Z"}`, 422, "unknown_reader", "with"},
			{coord, "POST", "/api/roster/changes", js, `{"kind":"nap","reader_id":"dr.a","start":"2026-12-20T22:00:00Z","end":"2026-12-21T08:00:00Z"}`, 422, "invalid", "kind"},
			{coord, "GET", "/api/roster/week?from=2026-12-21&days=7", "", "", 200, "", `"reason": "vacation"`},
			{coord, "GET", "/api/roster/week?from=21-12-2026", "", "", 400, "", ""},
			{string(auth.Radiologist), "GET", "/api/roster/week", "", "", 403, "", ""},
			{coord, "GET", "/api/dashboard/tat?from=2026-12-01&to=2026-12-07", "", "", 200, "", `"classes": []`},
			{coord, "GET", "/api/dashboard/rvu?from=2026-12-01&to=2026-12-07", "", "", 200, "", `"rows": []`},
			{coord, "GET", "/api/dashboard/tat?from=2026-01-01&to=2026-12-07", "", "", 400, "", ""},
			{string(auth.Radiologist), "GET", "/api/dashboard/me?from=2026-12-01&to=2026-12-07", "", "", 200, "", `"group_readers": 0`},
			{coord, "POST", "/api/simulate/ahead?days=9", js, "{}", 400, "", ""},
			{coord, "POST", "/api/simulate/ahead", js, "{}", 422, "", "no studies"},
			{coord, "DELETE", "/api/readers/nobody", "", "", 404, "not_found", ""},
			{coord, "DELETE", "/api/readers/dr.c", "", "", 200, "", ""},
		} {
			rec := send(mux, qcaller{role: s.role}, s.method, s.path, s.ctype, s.body)
			// Responses are compact JSON; the cases are written readably.
			body := rec.Body.String()
			s.contains = strings.ReplaceAll(s.contains, `": `, `":`)
			var e struct{ Code, Field string }
			_ = json.Unmarshal(rec.Body.Bytes(), &e)
			if rec.Code != s.status || (s.code != "" && e.Code != s.code) || (s.contains != "" && !strings.Contains(body, s.contains) && !strings.Contains(e.Field, s.contains)) {
				t.Errorf("%s %s as %s: %d %s, want %d code %q containing %q", s.method, s.path, s.role, rec.Code, body, s.status, s.code, s.contains)
			}
		}
		if n := dbtest.Count(t, d, "SELECT COUNT(*) FROM audit_event WHERE event_id = '110113'"); n < 15 {
			t.Fatalf("%d set-up changes audited", n)
		}
	})
}

// TestEditorReaderBecomesEligible: a reader saved as the web app's reader
// editor saves one (PUT /api/readers/{id} with its whole document) covers
// the facility once the editor's malpractice policy is filled in; without
// it the gap map names malpractice as what is missing.
func TestEditorReaderBecomesEligible(t *testing.T) {
	eachAPI(t, setupOptions, func(t *testing.T, d *db.DB, mux http.Handler) {
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
