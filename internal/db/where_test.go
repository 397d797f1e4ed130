package db

import (
	"reflect"
	"testing"
)

func TestWhere(t *testing.T) {
	var w Where
	if w.String() != "" {
		t.Fatalf("empty: %q", w.String())
	}
	w.Eq("a", "")
	w.Eq("b", "x")
	w.In("c", []string{"1", "2"})
	w.In("d", []string{})
	if got, want := w.String(), " WHERE b = ? AND c IN (?, ?) AND 1 = 0"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	if !reflect.DeepEqual(w.Args(), []any{"x", "1", "2"}) {
		t.Fatalf("Args = %v", w.Args())
	}
}
