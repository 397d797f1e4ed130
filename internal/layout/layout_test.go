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

func TestDomainImportsNoEdge(t *testing.T) {
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
				t.Errorf("domain package %s imports %s in %s: handlers go to internal/api or internal/fhir, protocol building to an adapter", pkg, path, name)
			}
		}
	}
}
