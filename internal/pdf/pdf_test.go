package pdf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func pdftotext(t *testing.T, b []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	p := filepath.Join(t.TempDir(), "x.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

func sample() *Doc {
	d := New("Test report")
	d.Created = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d.Footer = "Lightbox test"
	d.Centered(Bold, 14, "General Hospital")
	d.Centered(Regular, 9, "1 Main St, Springfield (IL)")
	d.Rule()
	d.Pair(10, 90, "Patient:", "DOE, JANE (x) \\ back")
	d.Paragraph(Bold, 11, "IMPRESSION:")
	d.Indented(Regular, 10, 12, "No acute cardiopulmonary process – café “quoted”.")
	for i := 0; i < 120; i++ {
		d.Paragraph(Regular, 10, "Line of findings text that is long enough to wrap around the right margin of the page at least once, number "+strings.Repeat("x", i%7))
	}
	d.Paragraph(Regular, 10, "Supercalifragilisticexpialidocious"+strings.Repeat("Z", 200))
	d.Paragraph(Bold, 10, "END OF REPORT")
	return d
}

func TestDeterministic(t *testing.T) {
	a, b := sample().Bytes(), sample().Bytes()
	if !bytes.Equal(a, b) {
		t.Fatal("output differs between runs")
	}
	if !bytes.HasPrefix(a, []byte("%PDF-1.4")) || !bytes.HasSuffix(a, []byte("%%EOF\n")) {
		t.Fatal("not a PDF")
	}
}

func TestPdftotext(t *testing.T) {
	d := sample()
	if d.Pages() < 2 {
		t.Fatalf("pages = %d, want several", d.Pages())
	}
	txt := pdftotext(t, d.Bytes())
	for _, want := range []string{"General Hospital", "DOE, JANE (x) \\ back", "IMPRESSION:", "No acute cardiopulmonary process – café “quoted”.", "END OF REPORT", "Page 1 of", "Lightbox test"} {
		if !strings.Contains(txt, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
}

func TestWrap(t *testing.T) {
	lines := Wrap(Regular, 10, "alpha beta gamma delta\n\nepsilon", 60)
	if len(lines) < 4 || lines[len(lines)-2] != "" || lines[len(lines)-1] != "epsilon" {
		t.Fatalf("wrap = %q", lines)
	}
	for _, l := range Wrap(Bold, 12, strings.Repeat("W", 100), 100) {
		if TextWidth(Bold, 12, l) > 100 {
			t.Fatalf("line %q too wide", l)
		}
	}
	if w := TextWidth(Regular, 10, "ab"); w != 11.12 {
		t.Fatalf("width = %v", w)
	}
}
