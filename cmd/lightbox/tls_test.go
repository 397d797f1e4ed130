package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// DICOM TLS on the second port, with DCMTK as the peer: echoscu and storescu
// over TLS trusting the demo's self-signed certificate; a plain-TCP client
// on the TLS port fails.
func TestDICOMTLSWithDCMTK(t *testing.T) {
	needTools(t, "echoscu", "storescu")
	data := t.TempDir()
	s := startServer(t, "demo", "--data", data)
	defer s.stop(t)
	host, port := hostPort(s.addrs["dicom_tls"].(string))
	certs, _ := filepath.Glob(filepath.Join(data, "tls", "*.pem"))
	var cert string
	for _, c := range certs {
		if !strings.Contains(filepath.Base(c), "key") {
			cert = c
		}
	}
	if cert == "" {
		t.Fatalf("no demo certificate in %v", certs)
	}
	if out, err := exec.Command("echoscu", "+tla", "+cf", cert, "-aet", "SGH_CT1", "-aec", "LIGHTBOX", host, port).CombinedOutput(); err != nil {
		t.Fatalf("echoscu over TLS: %v\n%s", err, out)
	}
	studies := filepath.Join(t.TempDir(), "s")
	mustRun(t, "gen", "--out", studies, "--modality", "CR", "--patients", "1", "--facility", "SGH", "--rows", "64", "--columns", "64")
	files, _ := filepath.Glob(filepath.Join(studies, "*", "*", "*", "*.dcm"))
	if out, err := exec.Command("storescu", append([]string{"+tla", "+cf", cert, "-aet", "SGH_CR1", "-aec", "LIGHTBOX", host, port}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu over TLS: %v\n%s", err, out)
	}
	if out, err := exec.Command("echoscu", "-to", "5", "-aet", "SGH_CT1", "-aec", "LIGHTBOX", host, port).CombinedOutput(); err == nil {
		t.Fatalf("plain DICOM accepted on the TLS port:\n%s", out)
	}
}
