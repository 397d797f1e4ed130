package layout

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Domain lists the domain packages under internal/: they decide, they do
// not speak a protocol. HTTP handlers live in internal/api (JSON) and
// internal/fhir (FHIR); HL7 v2 is parsed and built at the MLLP edge and in
// its adapters.
var Domain = []string{
	"archive", "assign", "audit", "breakglass", "coverage", "critical", "dispatch", "facility",
	"keyimage", "model", "order", "report", "roster", "scope", "setup",
}

// Edge are the imports a domain package may not have.
var Edge = []string{"net/http", "lightbox/internal/hl7", "lightbox/internal/fhir"}

// KnownEdgeImports lists, per domain package, the edge imports it still
// has (package → import → files). The list may only shrink: the test fails
// on a new one and on a listed one that is gone.
var KnownEdgeImports = map[string]map[string][]string{
	"order": {"lightbox/internal/hl7": {"hl7.go", "notify.go", "triage.go"}},
	// ORU^R01 is built in the signing transaction (oru.go).
	"report": {"lightbox/internal/hl7": {"oru.go"}},
}

func TestDomainImportsNoEdge(t *testing.T) {
	got := map[string]map[string][]string{}
	for _, pkg := range Domain {
		dir := filepath.Join("..", pkg)
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("domain package %s: %v", pkg, err)
		}
		for _, e := range ents {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range f.Imports {
				path, _ := strconv.Unquote(im.Path.Value)
				if !slices.Contains(Edge, path) {
					continue
				}
				if got[pkg] == nil {
					got[pkg] = map[string][]string{}
				}
				got[pkg][path] = append(got[pkg][path], name)
			}
		}
	}
	for pkg, ims := range got {
		for path, files := range ims {
			known := KnownEdgeImports[pkg][path]
			for _, f := range files {
				if !slices.Contains(known, f) {
					t.Errorf("domain package %s imports %s in %s: handlers go to internal/api or internal/fhir, protocol building to an adapter", pkg, path, f)
				}
			}
		}
	}
	for pkg, ims := range KnownEdgeImports {
		for path, files := range ims {
			for _, f := range files {
				if !slices.Contains(got[pkg][path], f) {
					t.Errorf("%s/%s no longer imports %s: remove it from KnownEdgeImports", pkg, f, path)
				}
			}
		}
	}
}
