package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The reference deployment's files (deploy/) stay in step with the binary:
// every flag the image's command and the Compose file's LIGHTBOX_* settings
// name exists, and the Compose file and the HAProxy configuration parse
// (with docker compose / docker-compose and haproxy where installed; no
// image is pulled or started).
func TestDeployFiles(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	help, _, _ := run(t, "serve", "-h")
	_, helpErr, _ := run(t, "serve", "-h")
	help += helpErr
	var flags []string
	for _, m := range regexp.MustCompile(`"--([a-z0-9-]+)"`).FindAllStringSubmatch(read("Dockerfile"), -1) {
		flags = append(flags, m[1])
	}
	// Settings are YAML keys (LIGHTBOX_DB: …); ${LIGHTBOX_HTTP_PORT:-8080}
	// and the like are Compose's own variables, not the binary's.
	for _, m := range regexp.MustCompile(`(?m)^\s+LIGHTBOX_([A-Z0-9_]+):`).FindAllStringSubmatch(read("compose.yaml"), -1) {
		if !strings.HasPrefix(m[1], "S3_") { // credentials, read by the S3 store
			flags = append(flags, strings.ToLower(strings.ReplaceAll(m[1], "_", "-")))
		}
	}
	if len(flags) < 5 {
		t.Fatalf("found only %v", flags)
	}
	for _, f := range flags {
		if !strings.Contains(help, "-"+f+" ") && !strings.Contains(help, "-"+f+"\n") {
			t.Errorf("deploy/ sets --%s, which lightbox serve does not have", f)
		}
	}
	secret := filepath.Join(root, "secret.key")
	if _, err := os.Stat(secret); os.IsNotExist(err) {
		_ = os.WriteFile(secret, []byte("00\n"), 0o600)
		defer os.Remove(secret)
	}
	checked := false
	for _, c := range [][]string{{"docker", "compose"}, {"docker-compose"}} {
		if _, err := exec.LookPath(c[0]); err != nil {
			continue
		}
		args := append(c[1:], "-f", filepath.Join(root, "compose.yaml"), "config", "--quiet")
		out, err := exec.Command(c[0], args...).CombinedOutput()
		if err != nil && strings.Contains(string(out), "unknown") {
			continue // docker without the compose plugin
		}
		if err != nil {
			t.Errorf("%s config: %v\n%s", strings.Join(c, " "), err, out)
		}
		checked = true
		break
	}
	if !checked {
		t.Log("neither docker compose nor docker-compose installed: compose.yaml not parsed")
	}
	for _, script := range []string{"entrypoint.sh", "postgres-entrypoint.sh", "smoke.sh"} {
		if out, err := exec.Command("sh", "-n", filepath.Join(root, script)).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", script, err, out)
		}
	}
	if _, err := exec.LookPath("haproxy"); err == nil {
		if out, err := exec.Command("haproxy", "-c", "-f", filepath.Join(root, "haproxy.cfg")).CombinedOutput(); err != nil {
			t.Errorf("haproxy -c: %v\n%s", err, out)
		}
	}
}
