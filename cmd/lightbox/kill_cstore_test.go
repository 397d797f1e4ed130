package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/dcm"
)

// TestKillDuringCStore is the durability proof of the ingest journal
// (internal/archive/doc.go): SIGKILL `lightbox serve` while three DCMTK
// storescu associations send at once, restart it, and check that every
// instance storescu logged as acknowledged (Success) is indexed with bytes
// that match their digest (`check --rehash`), and that every study's counts
// equal its indexed instances (no half-written study). Then the rest go in.
// Small instances (64×64, 8 KB: under 16 KiB) are journaled and published
// as files, larger ones (512 KB CT slices) packed: their journal record is their blob, so a
// kill leaves them in a segment that recovery keeps as a pack.
func TestKillDuringCStore(t *testing.T) {
	needTools(t, "storescu")
	for _, size := range []string{"64", "512"} {
		t.Run(size, func(t *testing.T) { killDuringCStore(t, size) })
	}
}

func killDuringCStore(t *testing.T, size string) {
	_, studies, data := genData(t, "--modality", "CT", "--slices", "100", "--patients", "2", "--rows", size, "--columns", size)
	if _, e, code := run(t, "ae", "add", "--data", data, "--aet", "KILLSCU", "--host", "127.0.0.1", "--port", "1", "--facility", "*"); code != 0 {
		t.Fatal(e)
	}
	var files []string
	_ = filepath.WalkDir(studies, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".dcm") {
			files = append(files, p)
		}
		return nil
	})
	const assocs = 3
	for round := range 2 {
		s := startServer(t, "serve", "--data", data)
		host, port := hostPort(s.addrs["dicom"].(string))
		var (
			mu      sync.Mutex
			acked   = map[string]bool{} // files storescu saw acknowledged
			killed  bool
			wg      sync.WaitGroup
			killAt  = 40 + 50*round
			killNow = func() {
				if !killed {
					killed = true
					_ = s.cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		)
		for i := range assocs {
			var group []string
			for j := i; j < len(files); j += assocs {
				group = append(group, files[j])
			}
			cmd := exec.Command("storescu", append([]string{"-v", "-aet", "KILLSCU", "-aec", "LIGHTBOX", host, port}, group...)...)
			cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
			out, _ := cmd.StdoutPipe()
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				defer func() { _ = cmd.Wait() }()
				sc := bufio.NewScanner(out)
				sending := ""
				for sc.Scan() {
					line := sc.Text()
					if f, ok := strings.CutPrefix(line, "I: Sending file: "); ok {
						sending = f
					} else if strings.HasPrefix(line, "I: Received Store Response (Success)") && sending != "" {
						mu.Lock()
						acked[sending] = true
						if len(acked) >= killAt {
							killNow()
						}
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		mu.Lock()
		wasKilled := killed
		killNow()
		t.Logf("round %d: killed after %d acknowledged stores", round, len(acked))
		mu.Unlock()
		<-s.done
		if !wasKilled {
			t.Fatalf("round %d: storescu finished before the kill", round)
		}
		// Restart (check opens the storage: journal recovery runs first).
		if out, e, code := run(t, "check", "--rehash", "--data", data); code != 0 {
			t.Fatalf("check after kill: %s %s", out, e)
		}
		d, err := db.Open(context.Background(), "sqlite:"+filepath.Join(data, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		for path := range acked {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			df, err := dcm.ReadFile(f, dcm.ReadOptions{})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			uid := df.Dataset.Str(dcm.TagSOPInstanceUID)
			var n int
			if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM instance WHERE sop_uid = ?", uid).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%s acknowledged but not indexed (%d, %v)", path, n, err)
			}
		}
		var packed int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM instance WHERE blob_key LIKE 'pack:%'").Scan(&packed); err != nil ||
			(packed > 0) != (size == "512") {
			t.Fatalf("%d packed instances of %s×%s (%v)", packed, size, size, err)
		}
		var bad int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM study s WHERE s.num_instances <>
			(SELECT COUNT(*) FROM instance i JOIN series r ON i.series_pk = r.pk WHERE r.study_pk = s.pk)`).Scan(&bad); err != nil || bad != 0 {
			t.Fatalf("%d studies whose counts disagree with their instances (%v)", bad, err)
		}
		d.Close()
	}
	// Finally everything goes in, once each.
	s := startServer(t, "serve", "--data", data)
	host, port := hostPort(s.addrs["dicom"].(string))
	if out, err := exec.Command("storescu", append([]string{"-aet", "KILLSCU", "-aec", "LIGHTBOX", host, port}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%.2000s", err, out)
	}
	s.stop(t)
	out, _, _ := run(t, "check", "--rehash", "--data", data)
	if !strings.Contains(out, "instances: 200 ") {
		t.Errorf("final check: %s", out)
	}
}
