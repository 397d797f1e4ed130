package httpx

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestJSONIsNeverCached(t *testing.T) {
	rec := httptest.NewRecorder()
	JSON(rec, http.StatusCreated, map[string]string{"a": "<b>"})
	if rec.Code != 201 || rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	if !strings.Contains(rec.Body.String(), "<b>") {
		t.Fatalf("HTML escaped: %s", rec.Body)
	}
}

func TestErrorBody(t *testing.T) {
	rec := httptest.NewRecorder()
	Error(rec, http.StatusNotFound, "no such study")
	var b ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.Code != "not_found" || b.Error != "no such study" {
		t.Fatalf("%s %v", rec.Body, err)
	}
}

func TestDecode(t *testing.T) {
	type in struct {
		Name string `json:"name"`
	}
	for _, c := range []struct {
		body, ct string
		ok       bool
	}{
		{`{"name":"x"}`, "application/json", true},
		{`{"name":"x"}`, "", true},
		{`{"nmae":"x"}`, "application/json", false},
		{`{"name":"x"} {}`, "application/json", false},
		{``, "application/json", false},
		{`{"name":"x"}`, "text/plain", false},
		{`{"name":"` + strings.Repeat("x", 100) + `"}`, "application/json", false},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		var v in
		err := Decode(r, &v, 64)
		var de *DecodeError
		if (err == nil) != c.ok || (err != nil && !errors.As(err, &de)) {
			t.Errorf("%q %q: %v", c.body, c.ct, err)
		}
	}
}
