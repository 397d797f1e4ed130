package main

import (
	"strings"
	"testing"
)

// The AE and HL7 sender registries from the command line: changes go
// through the audited set-up service (an unknown facility is refused) and
// list shows them.
func TestRegistriesFromCLI(t *testing.T) {
	data := t.TempDir()
	for _, step := range []struct {
		args []string
		ok   bool
		out  string
	}{
		{[]string{"facility", "add", "--id", "NWH", "--name", "Northwest", "--state", "OR", "--timezone", "America/Los_Angeles"}, true, ""},
		{[]string{"hl7-sender", "add", "--sending-facility", "NWH", "--facility", "NOPE", "--allow-cidr", "10.0.0.0/8"}, false, ""},
		{[]string{"hl7-sender", "add", "--sending-facility", "NWH", "--sending-app", "EPIC", "--facility", "NWH", "--allow-cidr", "10.0.0.0/8"}, true, "saved HL7 sender NWH"},
		{[]string{"hl7-sender", "list"}, true, "EPIC"},
		{[]string{"hl7-sender", "remove", "--sending-facility", "NWH", "--sending-app", "EPIC"}, true, ""},
		{[]string{"hl7-sender", "remove", "--sending-facility", "NWH", "--sending-app", "EPIC"}, false, ""},
		{[]string{"ae", "add", "--aet", "NWH_CT", "--host", "10.0.0.5", "--facility", "NWH"}, true, "saved NWH_CT"},
		{[]string{"ae", "list"}, true, "NWH_CT"},
		{[]string{"ae", "remove", "--aet", "NWH_CT"}, true, ""},
		{[]string{"ae", "frobnicate"}, false, ""},
	} {
		args := append([]string{step.args[0]}, step.args[1])
		if len(step.args) > 1 && step.args[1] != "frobnicate" {
			args = append(args, "--data", data)
		}
		args = append(args, step.args[2:]...)
		out, e, code := run(t, args...)
		if (code == 0) != step.ok || !strings.Contains(out, step.out) {
			t.Fatalf("%v: exit %d\n%s\n%s", step.args, code, out, e)
		}
	}
}
