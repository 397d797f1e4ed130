package hl7order

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/hl7"
	"lightbox/internal/order"
)

// TestPythonHL7ParsesOurMessages feeds every kind of message Lightbox
// produces here (ORR^O02, ORI^O24, ACK, NAK with ERR, ORM status) to Debian's
// python3-hl7.
func TestPythonHL7ParsesOurMessages(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import hl7").Run(); err != nil {
		t.Skip("python3-hl7 not installed")
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := &order.Service{DB: d}
		h := NewHL7Handler(svc, lookup)
		serve := func(m *hl7.Message) []byte {
			raw := m.Bytes()
			pm, err := hl7.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			return h.ServeHL7(ctx, &hl7.Request{Message: pm, Raw: raw})
		}
		out := [][]byte{
			serve(buildORM(ormOpts{accession: "PY1", procedure: "70450"})),
			serve(buildORM(ormOpts{msgType: hl7.MSG{Code: "OMI", Trigger: "O23", Structure: "OMI_O23"}, accession: "PY2", procedure: "70450", withIPC: true})),
			serve(buildORM(ormOpts{accession: "PY3", procedure: "70450", noPID3: true})),
		}
		o, err := svc.ByAccession(ctx, "fac-a", "PY1")
		if err != nil {
			t.Fatal(err)
		}
		o.Protocol = order.Protocol{Code: "P1", Text: "CT head"}
		o.ScheduledAt = time.Now()
		out = append(out, StatusMessage("LIGHTBOX", o, order.StatusScheduled, time.Now()).Bytes())
		o.StatusReason = "not indicated"
		out = append(out, StatusMessage("LIGHTBOX", o, order.StatusRejected, time.Now()).Bytes())
		for i, b := range out {
			cmd := exec.Command("/usr/bin/python3", "-c", `import sys,hl7
m = hl7.parse(sys.stdin.read())
print(str(m.segment('MSH')[9]), len(m))`)
			cmd.Stdin = strings.NewReader(string(b))
			res, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("message %d rejected by python3-hl7: %v\n%s", i, err, res)
			}
			t.Logf("python3-hl7: %s", strings.TrimSpace(string(res)))
		}
	})
}
