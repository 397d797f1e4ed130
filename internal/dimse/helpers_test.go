package dimse

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// elem is one data element for the hand-written test encoder.
type elem struct {
	tag   uint32
	vr    string
	value []byte
}

func strElem(tag uint32, vr, s string) elem {
	b := []byte(s)
	if len(b)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" {
			pad = 0
		}
		b = append(b, pad)
	}
	return elem{tag, vr, b}
}

func usElem(tag uint32, v uint16) elem {
	return elem{tag, "US", binary.LittleEndian.AppendUint16(nil, v)}
}

// encodeDataSet encodes elements (sorted by tag) in implicit or explicit VR
// little endian.
func encodeDataSet(els []elem, explicit bool) []byte {
	sort.Slice(els, func(i, j int) bool { return els[i].tag < els[j].tag })
	var b []byte
	for _, e := range els {
		b = binary.LittleEndian.AppendUint16(b, uint16(e.tag>>16))
		b = binary.LittleEndian.AppendUint16(b, uint16(e.tag))
		if !explicit {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(e.value)))
		} else {
			b = append(b, e.vr...)
			switch e.vr {
			case "OB", "OW", "OF", "SQ", "UT", "UN":
				b = append(b, 0, 0)
				b = binary.LittleEndian.AppendUint32(b, uint32(len(e.value)))
			default:
				b = binary.LittleEndian.AppendUint16(b, uint16(len(e.value)))
			}
		}
		b = append(b, e.value...)
	}
	return b
}

const scImageStorage = "1.2.840.10008.5.1.4.1.1.7"

// testInstance returns a small secondary capture data set.
func testInstance(sopInstance string, explicit bool, pixelBytes int) []byte {
	px := make([]byte, pixelBytes)
	for i := range px {
		px[i] = byte(i * 7)
	}
	els := []elem{
		strElem(0x00080016, "UI", scImageStorage),
		strElem(0x00080018, "UI", sopInstance),
		strElem(0x00080060, "CS", "OT"),
		strElem(0x00100010, "PN", "Test^Patient"),
		strElem(0x00100020, "LO", "PID123"),
		strElem(0x0020000D, "UI", "2.25.14259.1"),
		strElem(0x0020000E, "UI", "2.25.14259.1.1"),
		usElem(0x00280002, 1),
		strElem(0x00280004, "CS", "MONOCHROME2"),
		usElem(0x00280010, uint16(pixelBytes/16)),
		usElem(0x00280011, 16),
		usElem(0x00280100, 8),
		usElem(0x00280101, 8),
		usElem(0x00280102, 7),
		usElem(0x00280103, 0),
		{0x7FE00010, "OB", px},
	}
	return encodeDataSet(els, explicit)
}

// part10 wraps a data set into a Part 10 file.
func part10(sopClass, sopInstance, ts string, dataset []byte) []byte {
	meta := encodeDataSet([]elem{
		{0x00020001, "OB", []byte{0, 1}},
		strElem(0x00020002, "UI", sopClass),
		strElem(0x00020003, "UI", sopInstance),
		strElem(0x00020010, "UI", ts),
		strElem(0x00020012, "UI", DefaultImplementationClassUID),
	}, true)
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	hdr := []byte{0x02, 0x00, 0x00, 0x00, 'U', 'L', 4, 0}
	b.Write(hdr)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(meta))))
	b.Write(meta)
	b.Write(dataset)
	return b.Bytes()
}

// datasetOfPart10 returns the data set part of a Part 10 file.
func datasetOfPart10(t testing.TB, f []byte) []byte {
	t.Helper()
	if len(f) < 144 || string(f[128:132]) != "DICM" {
		t.Fatalf("not a Part 10 file")
	}
	n := binary.LittleEndian.Uint32(f[140:144])
	return f[144+n:]
}

func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

// runTool runs a DCMTK tool with a timeout and returns combined output.
func runTool(t testing.TB, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	p := needTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p, args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type testLogWriter struct {
	t  testing.TB
	mu sync.Mutex
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(&testLogWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startServer starts s on a free loopback port and returns host:port.
func startServer(t testing.TB, s *Server) string {
	t.Helper()
	if s.Logger == nil {
		s.Logger = testLogger(t)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	t.Cleanup(func() {
		_ = s.Close()
		<-done
	})
	return l.Addr().String()
}

func hostPort(t testing.TB, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startStoreSCP runs DCMTK storescp on a free port writing into dir.
func startStoreSCP(t testing.TB, aet, dir string) string {
	t.Helper()
	p := needTool(t, "storescp")
	// freePort's port can be taken by another process before storescp
	// binds it (tests and benchmarks run side by side): storescp then
	// exits at once, and a new port is tried rather than waiting for it.
	var out bytes.Buffer
	for try := 0; try < 3; try++ {
		port := freePort(t)
		out.Reset()
		cmd := exec.Command(p, "-aet", aet, "-od", dir, fmt.Sprint(port))
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			select {
			case <-exited:
				deadline = time.Time{}
				continue
			default:
			}
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				return addr
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatalf("storescp did not start:\n%s", out.String())
	return ""
}

// recorder is a StoreHandler that keeps what it receives.
type recorder struct {
	mu   sync.Mutex
	got  map[string][]byte // SOP instance UID -> data set
	ts   map[string]string
	seen []*StoreRequest
	// spread, when set, holds the first association's stores (up to 5 s)
	// until that many associations have stored: a test of work shared
	// among sub-associations must not depend on how fast the first one is.
	spread int
	first  *AssociationInfo
	assocs map[*AssociationInfo]bool
}

func newRecorder() *recorder {
	return &recorder{got: map[string][]byte{}, ts: map[string]string{}}
}

func (r *recorder) Store(ctx context.Context, req *StoreRequest) (uint16, string) {
	b, err := io.ReadAll(req.Data)
	if err != nil {
		return StatusOutOfResources, "read failed"
	}
	if r.spread > 0 {
		r.mu.Lock()
		if r.first == nil {
			r.first, r.assocs = req.Assoc, map[*AssociationInfo]bool{}
		}
		r.assocs[req.Assoc] = true
		held := req.Assoc == r.first
		r.mu.Unlock()
		for deadline := time.Now().Add(5 * time.Second); held && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			r.mu.Lock()
			n := len(r.assocs)
			r.mu.Unlock()
			if n >= r.spread {
				break
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[req.SOPInstanceUID] = b
	r.ts[req.SOPInstanceUID] = req.TransferSyntaxUID
	cp := *req
	cp.Data = nil
	r.seen = append(r.seen, &cp)
	return StatusSuccess, ""
}

func (r *recorder) get(uid string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[uid]
}

func (r *recorder) tsOf(uid string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ts[uid]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func uidN(i int) string { return fmt.Sprintf("2.25.14258.%d", i) }

// settleGoroutines waits until the goroutine count drops to at most want.
func settleGoroutines(want int) int {
	var n int
	for i := 0; i < 200; i++ {
		n = runtime.NumGoroutine()
		if n <= want {
			return n
		}
		time.Sleep(25 * time.Millisecond)
	}
	return n
}

func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// dialTest dials addr with our SCU and registers cleanup.
func dialTest(t testing.TB, addr, calledAE string, pcs []ContextProposal, opts *DialOptions) *Association {
	t.Helper()
	if opts == nil {
		opts = &DialOptions{}
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Dial(ctx, addr, "TESTSCU", calledAE, pcs, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}
