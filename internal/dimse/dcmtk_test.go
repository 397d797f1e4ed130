package dimse

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lightbox/internal/dcm"
)

func TestDCMTKEcho(t *testing.T) {
	needTool(t, "echoscu")
	s := &Server{AETitle: "LIGHTBOX"}
	h, p := hostPort(t, startServer(t, s))
	out, err := runTool(t, 20*time.Second, "echoscu", "-aet", "TESTSCU", "-aec", "LIGHTBOX", h, p)
	if err != nil {
		t.Fatalf("echoscu failed: %v\n%s", err, out)
	}
}

func TestDCMTKEchoRejections(t *testing.T) {
	needTool(t, "echoscu")
	policy := func(ctx context.Context, info *AssociationInfo) error {
		if info.CalledAE != "LIGHTBOX" {
			return RejectCalledAE()
		}
		if info.CallingAE != "KNOWN" {
			return RejectCallingAE()
		}
		if info.RemoteAddr == nil {
			return errors.New("no remote address")
		}
		return nil
	}
	s := &Server{AETitle: "LIGHTBOX", AcceptPolicy: policy}
	h, p := hostPort(t, startServer(t, s))
	cases := []struct {
		calling, called, want string
	}{
		{"KNOWN", "LIGHTBOX", ""},
		{"KNOWN", "OTHER", "Called AE Title Not Recognized"},
		{"STRANGER", "LIGHTBOX", "Calling AE Title Not Recognized"},
	}
	for _, c := range cases {
		out, err := runTool(t, 20*time.Second, "echoscu", "-aet", c.calling, "-aec", c.called, h, p)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s->%s: echoscu failed: %v\n%s", c.calling, c.called, err, out)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s->%s: echoscu succeeded, want rejection", c.calling, c.called)
		}
		if !strings.Contains(out, c.want) || !strings.Contains(out, "Rejected Permanent") {
			t.Errorf("%s->%s: output lacks %q:\n%s", c.calling, c.called, c.want, out)
		}
	}
}

func TestDCMTKEchoLimitExceeded(t *testing.T) {
	needTool(t, "echoscu")
	s := &Server{AETitle: "LIGHTBOX", MaxAssociations: 1}
	addr := startServer(t, s)
	held := dialTest(t, addr, "LIGHTBOX", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
	if err := held.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, p := hostPort(t, addr)
	out, err := runTool(t, 20*time.Second, "echoscu", "-aec", "LIGHTBOX", h, p)
	if err == nil || !strings.Contains(out, "Local Limit Exceeded") || !strings.Contains(out, "Rejected Transient") {
		t.Errorf("want transient rejection (local limit exceeded), got err=%v\n%s", err, out)
	}
	if err := held.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The slot is free again.
	deadline := time.Now().Add(5 * time.Second)
	for s.ActiveAssociations() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := runTool(t, 20*time.Second, "echoscu", "-aec", "LIGHTBOX", h, p); err != nil {
		t.Errorf("echoscu after release: %v\n%s", err, out)
	}
}

func TestDCMTKStoreSCU(t *testing.T) {
	needTool(t, "storescu")
	rec := newRecorder()
	mux := NewMux()
	mux.HandleStorage(rec)
	s := &Server{AETitle: "LIGHTBOX", Handler: mux}
	h, p := hostPort(t, startServer(t, s))
	dir := t.TempDir()

	type variant struct {
		name     string
		flag     string
		explicit bool
		wantTS   string
	}
	variants := []variant{
		{"implicit", "-xi", false, dcm.ImplicitVRLittleEndian},
		{"explicit", "-xe", true, dcm.ExplicitVRLittleEndian},
		{"deflated", "-xd", true, dcm.DeflatedExplicitVRLittleEndian},
	}
	want := map[string][]byte{}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for vi, v := range variants {
		for assoc := 0; assoc < 2; assoc++ {
			var files []string
			for i := 0; i < 3; i++ {
				n := vi*100 + assoc*10 + i
				uid := uidN(n)
				fileTS := dcm.ImplicitVRLittleEndian
				if v.explicit {
					fileTS = dcm.ExplicitVRLittleEndian
				}
				ds := testInstance(uid, v.explicit, 4096+n*64)
				want[uid] = ds
				files = append(files, writeFile(t, dir, fmt.Sprintf("f%d.dcm", n), part10(scImageStorage, uid, fileTS, ds)))
			}
			wg.Add(1)
			go func(v variant, files []string) {
				defer wg.Done()
				args := append([]string{"-aet", "TESTSCU", "-aec", "LIGHTBOX", "-R", v.flag, h, p}, files...)
				out, err := runTool(t, 30*time.Second, "storescu", args...)
				if err != nil {
					errs <- fmt.Sprintf("storescu %s: %v\n%s", v.flag, err, out)
				}
			}(v, files)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if t.Failed() {
		return
	}
	for vi, v := range variants {
		for assoc := 0; assoc < 2; assoc++ {
			for i := 0; i < 3; i++ {
				uid := uidN(vi*100 + assoc*10 + i)
				rec.mu.Lock()
				got, ok := rec.got[uid]
				ts := rec.ts[uid]
				rec.mu.Unlock()
				if !ok {
					t.Errorf("%s: instance %s not received", v.name, uid)
					continue
				}
				if ts != v.wantTS {
					t.Errorf("%s: transfer syntax %s, want %s", v.name, ts, v.wantTS)
				}
				if ts == dcm.DeflatedExplicitVRLittleEndian {
					inf, err := io.ReadAll(flate.NewReader(bytes.NewReader(got)))
					if err != nil {
						t.Errorf("%s: inflate: %v", v.name, err)
						continue
					}
					got = inf
				}
				if !bytes.Equal(got, want[uid]) {
					t.Errorf("%s: instance %s: received %d bytes differ from the %d sent", v.name, uid, len(got), len(want[uid]))
				}
			}
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, r := range rec.seen {
		if r.Assoc == nil || r.Assoc.CallingAE != "TESTSCU" || r.Assoc.CalledAE != "LIGHTBOX" || r.SOPClassUID != scImageStorage {
			t.Errorf("bad request metadata: %+v", r)
			break
		}
	}
}

// canned identifiers for C-FIND tests.
func cannedIdentifiers(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		out = append(out, encodeDataSet([]elem{
			strElem(0x00080052, "CS", "STUDY"),
			strElem(0x00100010, "PN", fmt.Sprintf("Doe^Patient%d", i)),
			strElem(0x0020000D, "UI", uidN(9000+i)),
		}, true))
	}
	return out
}

type cannedFind struct {
	ids       [][]byte
	delay     time.Duration
	cancelled atomic.Bool
	gotTS     atomic.Value
	gotIdent  atomic.Value
}

func (f *cannedFind) Find(ctx context.Context, req *FindRequest, send func([]byte) error) error {
	f.gotTS.Store(req.TransferSyntaxUID)
	f.gotIdent.Store(req.Identifier)
	for _, id := range f.ids {
		if f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-ctx.Done():
				f.cancelled.Store(true)
				return ctx.Err()
			}
		}
		if err := send(id); err != nil {
			f.cancelled.Store(true)
			return err
		}
	}
	return nil
}

func TestDCMTKFind(t *testing.T) {
	needTool(t, "findscu")
	f := &cannedFind{ids: cannedIdentifiers(3)}
	h, p := startFind(t, f)
	out, err := runTool(t, 20*time.Second, "findscu", "-v", "-S", "-aec", "LIGHTBOX", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName=Doe*", "-k", "StudyInstanceUID", h, p)
	if err != nil {
		t.Fatalf("findscu: %v\n%s", err, out)
	}
	for i := 0; i < 3; i++ {
		if !strings.Contains(out, fmt.Sprintf("Doe^Patient%d", i)) {
			t.Errorf("findscu output lacks match %d:\n%s", i, out)
		}
	}
	if ts, _ := f.gotTS.Load().(string); ts != dcm.ExplicitVRLittleEndian {
		t.Errorf("identifier transfer syntax %q", ts)
	}
	if id, _ := f.gotIdent.Load().([]byte); !bytes.Contains(id, []byte("Doe*")) {
		t.Errorf("identifier does not carry the query key")
	}
}

func TestDCMTKFindCancel(t *testing.T) {
	needTool(t, "findscu")
	f := &cannedFind{ids: cannedIdentifiers(50), delay: 20 * time.Millisecond}
	h, p := startFind(t, f)
	out, err := runTool(t, 30*time.Second, "findscu", "-v", "-S", "--cancel", "2", "-aec", "LIGHTBOX", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientName", h, p)
	if err != nil {
		t.Fatalf("findscu: %v\n%s", err, out)
	}
	if !f.cancelled.Load() {
		t.Errorf("handler was not cancelled")
	}
	if strings.Contains(out, "Doe^Patient40") {
		t.Errorf("responses continued after C-CANCEL")
	}
	if !strings.Contains(out, "Cancel") {
		t.Errorf("no cancel status in output:\n%s", out)
	}
}

// archive is a RetrieveHandler over in-memory explicit VR LE instances.
type archive struct {
	insts map[string][]byte // SOP instance UID -> data set
	order []string
	delay time.Duration
	fail  map[string]bool
}

func newArchive(n int) *archive {
	a := &archive{insts: map[string][]byte{}, fail: map[string]bool{}}
	for i := 0; i < n; i++ {
		uid := uidN(5000 + i)
		a.insts[uid] = testInstance(uid, true, 2048+i*16)
		a.order = append(a.order, uid)
	}
	return a
}

// moveSCP is the "LIGHTBOX" SCP answering C-MOVE for sopClass from arc,
// knowing one destination AE, destAE at destAddr.
func moveSCP(arc *archive, sopClass, destAE, destAddr string) *Server {
	mux := NewMux()
	mux.Handle(sopClass, arc)
	return &Server{AETitle: "LIGHTBOX", Handler: mux, AEResolver: AEResolverFunc(func(ctx context.Context, ae string) (Destination, error) {
		if ae == destAE {
			return Destination{Addr: destAddr}, nil
		}
		return Destination{}, ErrUnknownAE
	})}
}

type slowReader struct {
	r     io.Reader
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.r.Read(p)
}

func (a *archive) Retrieve(ctx context.Context, req *RetrieveRequest) ([]Instance, error) {
	var out []Instance
	for _, uid := range a.order {
		data := a.insts[uid]
		fail := a.fail[uid]
		out = append(out, Instance{
			SOPClassUID: scImageStorage, SOPInstanceUID: uid, TransferSyntaxUID: dcm.ExplicitVRLittleEndian,
			Open: func() (io.ReadCloser, error) {
				if fail {
					return nil, errors.New("gone")
				}
				var r io.Reader = bytes.NewReader(data)
				if a.delay > 0 {
					r = &slowReader{r, a.delay}
				}
				return io.NopCloser(r), nil
			},
		})
	}
	return out, nil
}

func TestDCMTKMoveToStoreSCP(t *testing.T) {
	needTool(t, "movescu")
	dir := t.TempDir()
	scpAddr := startStoreSCP(t, "STORESCP", dir)
	// Enough for a second sub-association, which storescp (one association
	// at a time) accepts only once the first is released.
	arc := newArchive(2 * moveLaneMin)
	s := moveSCP(arc, StudyRootQRMove, "STORESCP", scpAddr)
	h, p := hostPort(t, startServer(t, s))
	out, err := runTool(t, 30*time.Second, "movescu", "-v", "-S", "-aec", "LIGHTBOX", "-aem", "STORESCP", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=1.2.3", h, p)
	if err != nil {
		t.Fatalf("movescu: %v\n%s", err, out)
	}
	checkReceivedFiles(t, dir, arc)

	// Unknown destination.
	out, _ = runTool(t, 30*time.Second, "movescu", "-v", "-S", "-aec", "LIGHTBOX", "-aem", "NOWHERE", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=1.2.3", h, p)
	if !strings.Contains(out, "a801") && !strings.Contains(out, "A801") && !strings.Contains(out, "MoveDestinationUnknown") {
		t.Errorf("unknown destination not reported as 0xA801:\n%s", out)
	}
}

func checkReceivedFiles(t *testing.T, dir string, arc *archive) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || len(b) < 144 || string(b[128:132]) != "DICM" {
			continue
		}
		ds := datasetOfPart10(t, b)
		for _, want := range arc.insts {
			if bytes.Equal(ds, want) {
				found++
				break
			}
		}
	}
	if found != len(arc.insts) {
		t.Errorf("%d of %d instances received intact (%d files)", found, len(arc.insts), len(ents))
	}
}

func TestDCMTKGet(t *testing.T) {
	needTool(t, "getscu")
	dir := t.TempDir()
	arc := newArchive(3)
	mux := NewMux()
	mux.Handle(StudyRootQRGet, arc)
	s := &Server{AETitle: "LIGHTBOX", Handler: mux}
	h, p := hostPort(t, startServer(t, s))
	out, err := runTool(t, 30*time.Second, "getscu", "-v", "-S", "-aec", "LIGHTBOX", "-od", dir, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=1.2.3", h, p)
	if err != nil {
		t.Fatalf("getscu: %v\n%s", err, out)
	}
	checkReceivedFiles(t, dir, arc)
}

// startFind serves f as the Study Root C-FIND SCP of AE LIGHTBOX.
func startFind(t *testing.T, f *cannedFind) (host, port string) {
	mux := NewMux()
	mux.Handle(StudyRootQRFind, f)
	return hostPort(t, startServer(t, &Server{AETitle: "LIGHTBOX", Handler: mux}))
}
