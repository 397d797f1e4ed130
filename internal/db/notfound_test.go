package db

import (
	"database/sql"
	"errors"
	"fmt"
	"testing"
)

// RowErr and Found map a single-row read's error the one way every owner
// reports it.
func TestRowErr(t *testing.T) {
	errMissing := errors.New("no such thing")
	boom := errors.New("boom")
	if err := RowErr(nil, errMissing, "thing"); err != nil {
		t.Errorf("nil: %v", err)
	}
	if err := RowErr(sql.ErrNoRows, errMissing, "thing"); err != errMissing {
		t.Errorf("no row: %v", err)
	}
	if err := RowErr(boom, errMissing, "thing"); !errors.Is(err, boom) || err.Error() != "thing: boom" {
		t.Errorf("failure: %v", err)
	}
	for _, c := range []struct {
		in    error
		found bool
		err   string
	}{{nil, true, "<nil>"}, {sql.ErrNoRows, false, "<nil>"}, {boom, false, "thing: boom"}} {
		if found, err := Found(c.in, "thing"); found != c.found || fmt.Sprint(err) != c.err {
			t.Errorf("Found(%v) = %v, %v", c.in, found, err)
		}
	}
}
