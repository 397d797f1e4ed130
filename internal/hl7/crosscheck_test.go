package hl7

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestPythonHL7CrossCheck parses messages built by this package with an
// independent implementation (Debian's python3-hl7) and compares fields.
func TestPythonHL7CrossCheck(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import hl7").Run(); err != nil {
		t.Skipf("python3-hl7 not available: %v", err)
	}
	weird := "Fish & chips | ^hat ~tilde \\back\nsecond line"
	pdf := []byte("%PDF-1.4\n%fake report for DOE^JANE\n%%EOF\n")

	oru := NewMessage(MSH{SendingApplication: HD{NamespaceID: "LIGHTBOX"}, SendingFacility: HD{NamespaceID: "TELERAD"},
		ReceivingApplication: HD{NamespaceID: "RIS"}, ReceivingFacility: HD{"GH", "1.2.3", "ISO"},
		MessageType: MSG{"ORU", "R01", "ORU_R01"}, ControlID: "ORU-42", Version: "2.5.1"})
	oru.Add(PID{SetID: "1", Identifiers: []CX{{ID: "MRN1", AssigningAuthority: HD{"GH", "1.2.3", "ISO"}, IdentifierTypeCode: "MR"}, {ID: "ALT^2"}},
		Names: []XPN{{Family: "TESTPATIENT", Given: "ALPHA"}}, DateOfBirth: MustParseTime("19550704")})
	oru.Add(OBR{SetID: "1", PlacerOrderNumber: EI{EntityID: "PLC1"}, UniversalServiceID: CE{"71020", "CHEST XRAY", "C4", "", "", ""},
		PlacerField1: "ACC1", ResultStatus: "F", PrincipalResultInterpreter: NDL{Name: CNN{ID: "5555", Family: "RADIOLOGIST", Given: "RUTH"}}})
	oru.Add(OBX{SetID: "1", ValueType: "TX", ObservationID: CE{Identifier: "IMP"}, Values: []string{"FINDINGS:", weird, "IMPRESSION: normal"}, ResultStatus: "F"})
	ed := NewEDBase64("application", "pdf", pdf)
	oru.Add(OBX{SetID: "2", ValueType: "ED", ObservationID: CE{Identifier: "PDF"}, ED: &ed, ResultStatus: "F"})

	ackIn := mustParse(t, sampleOMI)
	ack := NewNAK(ackIn, &Error{Segment: "OBR", SegmentSeq: 1, Field: 4, Code: CodeTableValueNotFound, Message: "unknown code: " + weird}, AckOptions{ControlID: "ACK-1"})
	ack23 := NewNAK(mustParse(t, sampleORM), Errorf(CodeRequiredFieldMissing, "PID-3", "no MRN"), AckOptions{ControlID: "ACK-2"})

	orm := NewMessage(MSH{SendingApplication: HD{NamespaceID: "LIGHTBOX"}, MessageType: MSG{"ORM", "O01", ""}, ControlID: "ORM-7", Version: "2.3.1"})
	orm.Add(PID{SetID: "1", Identifiers: []CX{{ID: "MRN9"}}, Names: []XPN{{Family: "DOE", Given: "JANE"}}, Sex: "F"})
	orm.Add(ORC{OrderControl: OrderNew, PlacerOrderNumber: EI{EntityID: "P1", NamespaceID: "LB"}, OrderingProviders: []XCN{{ID: "123", Family: "DOC", Given: "DANA", IdentifierTypeCode: "NPI"}},
		CallbackPhones: []XTN{{Number: "(555)555-0199"}}, QuantityTiming: TQ{Priority: "STAT"}})
	orm.Add(OBR{SetID: "1", UniversalServiceID: CE{Identifier: "CT1", Text: weird}, RelevantClinicalInfo: weird, PlacerField1: "ACC9"})

	cases := []struct {
		name string
		m    *Message
		want map[string]string // our path -> expected value
	}{
		{"ORU^R01", oru, map[string]string{
			"MSH-3": "LIGHTBOX", "MSH-6-2": "1.2.3", "MSH-9-1": "ORU", "MSH-9-2": "R01", "MSH-9-3": "ORU_R01", "MSH-10": "ORU-42", "MSH-12": "2.5.1",
			"PID-3-1": "MRN1", "PID-3-4-2": "1.2.3", "PID-3-4-3": "ISO", "PID-3(2)-1": "ALT^2", "PID-5-2": "ALPHA", "PID-7": "19550704",
			"OBR-4-2": "CHEST XRAY", "OBR-18": "ACC1", "OBR-25": "F", "OBR-32-1-2": "RADIOLOGIST",
			"OBX-5(1)": "FINDINGS:", "OBX-5(2)": weird, "OBX-5(3)": "IMPRESSION: normal", "OBX-11": "F",
			"OBX(2)-2": "ED", "OBX(2)-5-2": "application", "OBX(2)-5-3": "pdf", "OBX(2)-5-4": "Base64", "OBX(2)-5-5": ed.Data,
		}},
		{"ACK 2.5.1", ack, map[string]string{
			"MSH-3": "LIGHTBOX", "MSH-5": "EPIC", "MSH-6-2": "1.2.3.4", "MSH-9-1": "ACK", "MSH-9-2": "O23", "MSH-9-3": "ACK", "MSH-10": "ACK-1",
			"MSA-1": "AE", "MSA-2": "OMI0001", "ERR-2-1": "OBR", "ERR-2-2": "1", "ERR-2-3": "4", "ERR-3-1": "103", "ERR-3-3": "HL70357",
			"ERR-4": "E", "ERR-8": "unknown code: " + weird,
		}},
		{"ACK 2.3.1", ack23, map[string]string{
			"MSH-9-1": "ACK", "MSH-9-2": "O01", "MSA-1": "AE", "MSA-2": "ORM0001", "MSA-3": "no MRN",
			"ERR-1-1": "PID", "ERR-1-3": "3", "ERR-1-4-1": "101", "ERR-1-4-2": "no MRN", "ERR-1-4-3": "HL70357",
		}},
		{"ORM^O01", orm, map[string]string{
			"MSH-9-1": "ORM", "MSH-9-2": "O01", "MSH-12": "2.3.1", "PID-5-1": "DOE", "ORC-1": "NW", "ORC-2-2": "LB", "ORC-7-6": "STAT",
			"ORC-12-13": "NPI", "ORC-14": "(555)555-0199", "OBR-4-2": weird, "OBR-13": weird, "OBR-18": "ACC9",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var keys []string
			toKey := map[string]string{}
			for p := range tc.want {
				pp, err := ParsePath(p)
				if err != nil {
					t.Fatal(err)
				}
				k := fmt.Sprintf("%s%d.F%d.R%d.C%d.S%d", pp.Segment, pp.SegOcc, pp.Field, pp.Rep, max(pp.Comp, 1), max(pp.Sub, 1))
				if pp.Segment == "MSH" && pp.Field <= 2 {
					k = fmt.Sprintf("MSH.F%d", pp.Field)
				}
				keys = append(keys, k)
				toKey[p] = k
			}
			cmd := exec.Command(py, append([]string{"testdata/pyhl7_dump.py"}, keys...)...)
			cmd.Stdin = bytes.NewReader(tc.m.Bytes())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, stderr.String())
			}
			var got map[string]*string
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("json: %v: %s", err, out)
			}
			for p, want := range tc.want {
				g := got[toKey[p]]
				if g == nil {
					t.Errorf("%s (%s): python-hl7 found nothing, want %q", p, toKey[p], want)
					continue
				}
				// python-hl7 decodes \.br\ to CR.
				if v := strings.ReplaceAll(*g, "\r", "\n"); v != want {
					t.Errorf("%s (%s): python-hl7 %q, built %q", p, toKey[p], v, want)
				}
				if ours := mustParse(t, tc.m.String()).Get(p); ours != want {
					t.Errorf("%s: our parser %q, want %q", p, ours, want)
				}
			}
		})
	}
}
