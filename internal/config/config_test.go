package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "lightbox.conf")
	_ = os.WriteFile(cfg, []byte("# comment\nhttp = 0.0.0.0:9000\naet = FROMFILE\ndata = /file\n"), 0o600)
	env := map[string]string{"LIGHTBOX_CONFIG": cfg, "LIGHTBOX_AET": "FROMENV", "LIGHTBOX_DATA": "/env"}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	data := fs.String("data", "./data", "")
	httpAddr := fs.String("http", "127.0.0.1:8080", "")
	aet := fs.String("aet", "LIGHTBOX", "")
	dicom := fs.String("dicom", "127.0.0.1:11112", "")
	fs.String("config", "", "")
	if err := Parse(fs, []string{"--data", "/flag"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{{*data, "/flag"}, {*aet, "FROMENV"}, {*httpAddr, "0.0.0.0:9000"}, {*dicom, "127.0.0.1:11112"}} {
		if c.got != c.want {
			t.Errorf("got %q want %q", c.got, c.want)
		}
	}
}

func TestUnknownSettingInFile(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c")
	_ = os.WriteFile(cfg, []byte("nosuch = 1\n"), 0o600)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("config", "", "")
	if err := Parse(fs, []string{"--config", cfg}, func(string) string { return "" }); err == nil {
		t.Fatal("unknown setting accepted")
	}
}
