package db

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sqlTableRef finds a table named where SQL reads or writes it.
var sqlTableRef = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|INTO|UPDATE|DELETE\s+FROM)\s+([a-z][a-z0-9_]*)\b`)

// sqlWrite finds a table named where SQL writes it.
var sqlWrite = regexp.MustCompile(`(?i)\b(?:INTO|UPDATE|DELETE\s+FROM)\s+([a-z][a-z0-9_]*)\b`)

func TestTableOwners(t *testing.T) {
	// Every table the migrations create has an owner.
	created := regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?([a-z0-9_]+)`)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, g := range created.FindAllStringSubmatch(m.sql, -1) {
			if _, ok := TableOwners[g[1]]; !ok {
				t.Errorf("table %s (migration %s) has no owner in TableOwners", g[1], m.name)
			}
		}
	}

	// Who runs SQL on which table, from the non-test Go sources.
	root := filepath.Join("..", "..")
	found := map[string]map[string]bool{} // table → package → seen
	writes := map[string]map[string]bool{}
	err = filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(filepath.Join(root, "internal"), path)
		pkg := strings.Split(filepath.ToSlash(rel), "/")[0]
		if pkg == "db" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, g := range sqlTableRef.FindAllStringSubmatch(string(b), -1) {
			if _, ok := TableOwners[g[1]]; ok {
				mark(found, g[1], pkg)
			}
		}
		for _, g := range sqlWrite.FindAllStringSubmatch(string(b), -1) {
			if _, ok := TableOwners[g[1]]; ok {
				mark(writes, g[1], pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for table, pkgs := range found {
		for pkg := range pkgs {
			if pkg == TableOwners[table] {
				continue
			}
			if slices.Contains(ReadOnlyReaders[pkg], table) && !writes[table][pkg] {
				continue
			}
			t.Errorf("package %s runs SQL on %s, owned by %s: call the owner's API", pkg, table, TableOwners[table])
		}
	}
}

func mark(m map[string]map[string]bool, table, pkg string) {
	if m[table] == nil {
		m[table] = map[string]bool{}
	}
	m[table][pkg] = true
}
