package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Secrets given by file stay out of the command line; the file's trailing
// newline is not part of the secret, and a missing file names its flag.
func TestServeSecretFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "turn.secret")
	if err := os.WriteFile(secret, []byte("s3cr3t-shared-with-coturn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	for _, c := range []struct {
		name    string
		args    []string
		secret  string
		wantErr string
	}{
		{"flag", []string{"--turn-secret", "on-the-command-line"}, "on-the-command-line", ""},
		{"file", []string{"--turn-secret-file", secret}, "s3cr3t-shared-with-coturn", ""},
		{"missing file", []string{"--turn-secret-file", filepath.Join(dir, "nope")}, "", "--turn-secret-file"},
		{"smtp password file", []string{"--smtp-password-file", filepath.Join(dir, "nope")}, "", "--smtp-password-file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := newFlags(env, "serve", "serve")
			f := addServeFlags(fs)
			if err := parse(fs, append([]string{"--data", dir}, c.args...), env); err != nil {
				t.Fatal(err)
			}
			cfg, err := f.serverConfig(env)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.TURNSecret != c.secret {
				t.Fatalf("TURN secret %q, want %q", cfg.TURNSecret, c.secret)
			}
		})
	}
}
