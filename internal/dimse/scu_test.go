package dimse

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lightbox/internal/dcm"
)

func storageProposals(ts ...string) []ContextProposal {
	return []ContextProposal{
		{AbstractSyntax: VerificationSOPClass},
		{AbstractSyntax: scImageStorage, TransferSyntaxes: ts},
	}
}

func TestSCUEchoStoreRelease(t *testing.T) {
	rec := newRecorder()
	mux := NewMux()
	mux.HandleStorage(rec)
	// A small maximum PDU forces fragmentation in both directions.
	s := &Server{AETitle: "LIGHTBOX", Handler: mux, MaxPDULength: 4096}
	addr := startServer(t, s)
	a := dialTest(t, addr, "LIGHTBOX", storageProposals(dcm.ExplicitVRLittleEndian), &DialOptions{MaxPDULength: 4096})
	ctx := context.Background()
	if err := a.Echo(ctx); err != nil {
		t.Fatal(err)
	}
	storeSizes(t, a, rec, 100, 0, 1, 4090-6, 4096, 100_000)
	// Empty data set (zero bytes) is delivered as empty.
	st, err := a.Store(ctx, scImageStorage, uidN(199), dcm.ExplicitVRLittleEndian, bytes.NewReader(nil))
	if err != nil || st != StatusSuccess || len(rec.get(uidN(199))) != 0 {
		t.Fatalf("empty store: 0x%04X %v", st, err)
	}
	// Transfer syntax not negotiated and no Transcode function.
	_, err = a.Store(ctx, scImageStorage, uidN(200), dcm.JPEGBaseline8Bit, bytes.NewReader([]byte{1, 2}))
	var nce *NoContextError
	if !errors.As(err, &nce) || nce.TransferSyntaxUID != dcm.JPEGBaseline8Bit {
		t.Fatalf("want NoContextError, got %v", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(a.Err(), ErrReleased) {
		t.Fatalf("Err after release: %v", a.Err())
	}
}

func TestSCUTranscodeFallback(t *testing.T) {
	rec := newRecorder()
	mux := NewMux()
	mux.Handle(scImageStorage, rec)
	addr := startServer(t, &Server{Handler: mux})
	var called atomic.Bool
	a := dialTest(t, addr, "ANY", storageProposals(dcm.ImplicitVRLittleEndian), &DialOptions{
		Transcode: func(ctx context.Context, r io.Reader, from, to string) (io.Reader, error) {
			called.Store(true)
			if from != dcm.ExplicitVRLittleEndian || to != dcm.ImplicitVRLittleEndian {
				return nil, errors.New("unexpected syntaxes")
			}
			return strings.NewReader("transcoded"), nil
		},
	})
	st, err := a.Store(context.Background(), scImageStorage, uidN(1), dcm.ExplicitVRLittleEndian, strings.NewReader("original"))
	if err != nil || st != StatusSuccess || !called.Load() {
		t.Fatalf("status 0x%04X err %v called %v", st, err, called.Load())
	}
	if string(rec.get(uidN(1))) != "transcoded" || rec.tsOf(uidN(1)) != dcm.ImplicitVRLittleEndian {
		t.Fatalf("handler got %q in %s", rec.get(uidN(1)), rec.tsOf(uidN(1)))
	}
}

func TestStoreHandlerPartialReadAndStatus(t *testing.T) {
	var calls atomic.Int32
	mux := NewMux()
	mux.Handle(scImageStorage, StoreFunc(func(ctx context.Context, req *StoreRequest) (uint16, string) {
		calls.Add(1)
		var b [10]byte
		_, _ = io.ReadFull(req.Data, b[:]) // read only a little; the stack drains
		return StatusOutOfResources, "disk full"
	}))
	addr := startServer(t, &Server{Handler: mux, MaxPDULength: 4096})
	a := dialTest(t, addr, "X", storageProposals(dcm.ExplicitVRLittleEndian), nil)
	for i := 0; i < 3; i++ {
		st, err := a.Store(context.Background(), scImageStorage, uidN(i), dcm.ExplicitVRLittleEndian, bytes.NewReader(make([]byte, 50_000)))
		if err != nil || st != StatusOutOfResources {
			t.Fatalf("status 0x%04X err %v", st, err)
		}
	}
	if err := a.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("calls %d", calls.Load())
	}
}

func TestSCUStoreToDCMTKStoreSCP(t *testing.T) {
	dir := t.TempDir()
	addr := startStoreSCP(t, "STORESCP", dir)
	a := dialTest(t, addr, "STORESCP", storageProposals(dcm.ExplicitVRLittleEndian), nil)
	arc := newArchive(3)
	for _, uid := range arc.order {
		st, err := a.Store(context.Background(), scImageStorage, uid, dcm.ExplicitVRLittleEndian, bytes.NewReader(arc.insts[uid]))
		if err != nil || st != StatusSuccess {
			t.Fatalf("status 0x%04X err %v", st, err)
		}
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkReceivedFiles(t, dir, arc)
}

func TestSCUFindAndCancel(t *testing.T) {
	f := &cannedFind{ids: cannedIdentifiers(20), delay: 5 * time.Millisecond}
	mux := NewMux()
	mux.Handle(StudyRootQRFind, f)
	mux.Handle(PatientRootQRFind, FindFunc(func(ctx context.Context, req *FindRequest, send func([]byte) error) error {
		return &StatusError{Status: StatusDataSetDoesNotMatchSOPClass, Comment: "bad level"}
	}))
	addr := startServer(t, &Server{Handler: mux})
	a := dialTest(t, addr, "X", []ContextProposal{{AbstractSyntax: StudyRootQRFind}, {AbstractSyntax: PatientRootQRFind}}, nil)
	ident := encodeDataSet([]elem{strElem(0x00080052, "CS", "STUDY")}, true)
	var got [][]byte
	st, err := a.Find(context.Background(), StudyRootQRFind, ident, func(id []byte) error {
		got = append(got, id)
		return nil
	})
	if err != nil || st != StatusSuccess || len(got) != 20 || !bytes.Equal(got[3], f.ids[3]) {
		t.Fatalf("find: status 0x%04X err %v matches %d", st, err, len(got))
	}
	// Cancel from the callback.
	stop := errors.New("enough")
	n := 0
	st, err = a.Find(context.Background(), StudyRootQRFind, ident, func(id []byte) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || st != StatusCancel {
		t.Fatalf("cancel: status 0x%04X err %v", st, err)
	}
	// Cancel through the context.
	ctx, cancel := context.WithCancel(context.Background())
	st, err = a.Find(ctx, StudyRootQRFind, ident, func(id []byte) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || st != StatusCancel {
		t.Fatalf("ctx cancel: status 0x%04X err %v", st, err)
	}
	// Failure status from the handler.
	st, err = a.Find(context.Background(), PatientRootQRFind, ident, func([]byte) error { return nil })
	if err != nil || st != StatusDataSetDoesNotMatchSOPClass {
		t.Fatalf("failure: status 0x%04X err %v", st, err)
	}
	// The association is still healthy.
	if _, err := a.Find(context.Background(), StudyRootQRFind, ident, func([]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// startDest starts the C-MOVE destination AE "DEST", which keeps what it
// receives.
func startDest(t *testing.T) (*recorder, string) {
	rec := newRecorder()
	mux := NewMux()
	mux.HandleStorage(rec)
	return rec, startServer(t, &Server{AETitle: "DEST", Handler: mux})
}

func TestSCUMoveBetweenOwnServers(t *testing.T) {
	rec, destAddr := startDest(t)

	arc := newArchive(5)
	arc.fail[arc.order[2]] = true
	s := moveSCP(arc, StudyRootQRMove, "DEST", destAddr)
	addr := startServer(t, s)
	a := dialTest(t, addr, "LIGHTBOX", []ContextProposal{{AbstractSyntax: StudyRootQRMove}}, nil)
	var progress []RetrieveProgress
	res, err := a.Move(context.Background(), StudyRootQRMove, "DEST", []byte{}, func(p RetrieveProgress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusSubOperationsWarning || res.Completed != 4 || res.Failed != 1 {
		t.Fatalf("result %+v", res)
	}
	if !bytes.Contains(res.Data, []byte(arc.order[2])) {
		t.Fatalf("failed SOP instance UID list missing: %q", res.Data)
	}
	// The first pending response leaves when the sub-association connects
	// (before any sub-operation); later ones at most every PendingInterval.
	if len(progress) == 0 || progress[0] != (RetrieveProgress{Status: StatusPending, Remaining: 5}) {
		t.Fatalf("progress %+v", progress)
	}
	for i, p := range progress {
		if p.Remaining+p.Completed+p.Failed+p.Warning != 5 || i > 0 && p.Remaining > progress[i-1].Remaining {
			t.Fatalf("progress %+v", progress)
		}
	}
	if rec.count() != 4 {
		t.Fatalf("destination got %d", rec.count())
	}
	for _, r := range rec.seen {
		if r.MoveOriginatorAETitle != "TESTSCU" || r.MoveOriginatorMessageID == 0 || r.Assoc.CallingAE != "LIGHTBOX" {
			t.Fatalf("move originator not set: %+v", r)
		}
	}
	res, err = a.Move(context.Background(), StudyRootQRMove, "NOWHERE", []byte{}, nil)
	if err != nil || res.Status != StatusMoveDestinationUnknown {
		t.Fatalf("unknown destination: %+v %v", res, err)
	}
}

// TestSCUMoveExtraDialAbandoned: a destination that takes one association
// and leaves the others unanswered (a firewall, a PACS at its limit that
// never replies) does not hold the C-MOVE's final response: once the first
// sub-association has sent everything, the dials still waiting are
// abandoned instead of running into ARTIM (10 s here).
func TestSCUMoveExtraDialAbandoned(t *testing.T) {
	rec, destAddr := startDest(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for first := true; ; first = false {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			if !first {
				continue // accepted, never answered
			}
			d, err := net.Dial("tcp", destAddr)
			if err != nil {
				c.Close()
				return
			}
			mu.Lock()
			held = append(held, d)
			mu.Unlock()
			go func() { _, _ = io.Copy(d, c) }()
			go func() { _, _ = io.Copy(c, d) }()
		}
	}()
	arc := newArchive(40)
	s := moveSCP(arc, StudyRootQRMove, "DEST", ln.Addr().String())
	s.MoveAssociations = 3
	addr := startServer(t, s)
	a := dialTest(t, addr, "LIGHTBOX", []ContextProposal{{AbstractSyntax: StudyRootQRMove}}, nil)
	start := time.Now()
	res, err := a.Move(context.Background(), StudyRootQRMove, "DEST", []byte{}, nil)
	elapsed := time.Since(start)
	if err != nil || res.Status != StatusSuccess || res.Completed != 40 || rec.count() != 40 {
		t.Fatalf("result %+v %v, destination got %d", res, err, rec.count())
	}
	if elapsed > 3*time.Second {
		t.Fatalf("final response after %v: held by the unanswered sub-associations", elapsed)
	}
}

// TestSCUMoveParallel: a C-MOVE of many instances shares them among
// several sub-associations and still counts each one once.
func TestSCUMoveParallel(t *testing.T) {
	rec, destAddr := startDest(t)
	rec.spread = 2
	arc := newArchive(60)
	arc.fail[arc.order[7]] = true
	arc.fail[arc.order[41]] = true
	s := moveSCP(arc, StudyRootQRMove, "DEST", destAddr)
	s.MoveAssociations = 3
	s.PendingInterval = -1
	addr := startServer(t, s)
	a := dialTest(t, addr, "LIGHTBOX", []ContextProposal{{AbstractSyntax: StudyRootQRMove}}, nil)
	res, err := a.Move(context.Background(), StudyRootQRMove, "DEST", []byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusSubOperationsWarning || res.Completed != 58 || res.Failed != 2 || res.Warning != 0 {
		t.Fatalf("result %+v", res)
	}
	for _, i := range []int{7, 41} {
		if !bytes.Contains(res.Data, []byte(arc.order[i])) {
			t.Fatalf("failed SOP instance UID list misses %s: %q", arc.order[i], res.Data)
		}
	}
	assocs := map[*AssociationInfo]bool{}
	rec.mu.Lock()
	for _, r := range rec.seen {
		assocs[r.Assoc] = true
	}
	rec.mu.Unlock()
	if rec.count() != 58 || len(assocs) < 2 {
		t.Fatalf("destination got %d instances over %d associations", rec.count(), len(assocs))
	}
	for i, uid := range arc.order {
		if i != 7 && i != 41 && !bytes.Equal(rec.get(uid), arc.insts[uid]) {
			t.Fatalf("instance %d not received intact", i)
		}
	}
}

func TestSCUMoveCancel(t *testing.T) {
	_, destAddr := startDest(t)
	arc := newArchive(30)
	arc.delay = 5 * time.Millisecond
	s := moveSCP(arc, PatientRootQRMove, "DEST", destAddr)
	addr := startServer(t, s)
	a := dialTest(t, addr, "LIGHTBOX", []ContextProposal{{AbstractSyntax: PatientRootQRMove}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := a.Move(ctx, PatientRootQRMove, "DEST", []byte{}, func(p RetrieveProgress) {
		if p.Completed >= 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || res.Status != StatusCancel {
		t.Fatalf("res %+v err %v", res, err)
	}
	if res.Remaining == 0 || int(res.Completed)+int(res.Remaining) != 30 {
		t.Fatalf("counts %+v", res)
	}
	if err := a.Echo(context.Background()); err == nil {
		t.Fatalf("echo should fail: no verification context")
	}
}

func TestSCUGet(t *testing.T) {
	arc := newArchive(4)
	mux := NewMux()
	mux.Handle(StudyRootQRGet, arc)
	addr := startServer(t, &Server{Handler: mux, MaxPDULength: 8192})
	a := dialTest(t, addr, "X", []ContextProposal{
		{AbstractSyntax: StudyRootQRGet},
		{AbstractSyntax: scImageStorage, TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian}, SCPRole: true},
	}, &DialOptions{MaxPDULength: 4096})
	rec := newRecorder()
	res, err := a.Get(context.Background(), StudyRootQRGet, []byte{}, rec, nil)
	if err != nil || res.Status != StatusSuccess || res.Completed != 4 {
		t.Fatalf("res %+v err %v", res, err)
	}
	for uid, want := range arc.insts {
		if !bytes.Equal(rec.get(uid), want) {
			t.Fatalf("instance %s differs", uid)
		}
	}
	// Without role selection the SCP may not send: every sub-op fails.
	b := dialTest(t, addr, "X", []ContextProposal{
		{AbstractSyntax: StudyRootQRGet},
		{AbstractSyntax: scImageStorage, TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian}},
	}, nil)
	res, err = b.Get(context.Background(), StudyRootQRGet, []byte{}, rec, nil)
	if err != nil || res.Status != StatusOutOfResourcesSubOperations || res.Failed != 4 {
		t.Fatalf("no role: res %+v err %v", res, err)
	}
}

func TestSCUNormalized(t *testing.T) {
	var got atomic.Value
	mux := NewMux()
	mux.Handle(ModalityPerformedProcedure, NFunc(func(ctx context.Context, req *NRequest) NResponse {
		got.Store(*req)
		switch req.Command {
		case NCreateRQ:
			return NResponse{Status: StatusSuccess, SOPInstanceUID: "1.2.3.4", Data: []byte("created")}
		case NSetRQ:
			if req.SOPInstanceUID != "1.2.3.4" {
				return NResponse{Status: StatusNoSuchSOPInstance}
			}
			return NResponse{Status: StatusSuccess}
		}
		return NResponse{Status: StatusUnrecognizedOperation}
	}))
	addr := startServer(t, &Server{Handler: mux})
	a := dialTest(t, addr, "MOD", []ContextProposal{{AbstractSyntax: ModalityPerformedProcedure}}, nil)
	ctx := context.Background()
	rsp, data, err := a.SendN(ctx, NewNCreateRQ(ModalityPerformedProcedure, "", true), []byte("attrs"))
	if err != nil || rsp.Status != StatusSuccess || rsp.AffectedSOPInstanceUID != "1.2.3.4" || string(data) != "created" {
		t.Fatalf("N-CREATE: %+v %q %v", rsp, data, err)
	}
	if r := got.Load().(NRequest); string(r.Data) != "attrs" || r.Assoc.CallingAE != "TESTSCU" {
		t.Fatalf("handler got %+v", r)
	}
	rsp, _, err = a.SendN(ctx, NewNSetRQ(ModalityPerformedProcedure, "1.2.3.4"), []byte("mods"))
	if err != nil || rsp.Status != StatusSuccess || rsp.CommandField != NSetRSP {
		t.Fatalf("N-SET: %+v %v", rsp, err)
	}
	rsp, _, err = a.SendN(ctx, NewNSetRQ(ModalityPerformedProcedure, "9.9"), []byte("mods"))
	if err != nil || rsp.Status != StatusNoSuchSOPInstance {
		t.Fatalf("N-SET unknown: %+v %v", rsp, err)
	}
}

func TestUserIdentityAndPolicy(t *testing.T) {
	policy := func(ctx context.Context, info *AssociationInfo) error {
		id := info.Identity
		if id == nil || id.Type != IdentityUsernamePasscode || id.Username != "alice" || id.Passcode != "s3cret" {
			return RejectNoReason()
		}
		info.Principal = "user:alice"
		return nil
	}
	var principal atomic.Value
	mux := NewMux()
	mux.Handle(scImageStorage, StoreFunc(func(ctx context.Context, req *StoreRequest) (uint16, string) {
		principal.Store(req.Assoc.Principal)
		return StatusSuccess, ""
	}))
	addr := startServer(t, &Server{Handler: mux, AcceptPolicy: policy})
	ctx := context.Background()
	a := dialTest(t, addr, "X", storageProposals(dcm.ExplicitVRLittleEndian), &DialOptions{UserIdentity: &UserIdentity{
		Type: IdentityUsernamePasscode, Username: "alice", Passcode: "s3cret", PositiveResponseRequested: true}})
	if a.UserIdentityResponse() == nil {
		t.Errorf("no positive identity response")
	}
	if _, err := a.Store(ctx, scImageStorage, "1.2", dcm.ExplicitVRLittleEndian, strings.NewReader("xx")); err != nil {
		t.Fatal(err)
	}
	if principal.Load() != "user:alice" {
		t.Fatalf("principal %v", principal.Load())
	}
	_, err := Dial(ctx, addr, "X", "Y", storageProposals(), &DialOptions{UserIdentity: &UserIdentity{Type: IdentityUsernamePasscode, Username: "alice", Passcode: "wrong"}})
	var rj *RejectError
	if !errors.As(err, &rj) || rj.Result != RejectPermanent || rj.Source != RejectSourceServiceUser || rj.Reason != ReasonNoReasonGiven {
		t.Fatalf("want rejection, got %v", err)
	}
}

func TestNegotiationResults(t *testing.T) {
	mux := NewMux()
	mux.HandleStorage(newRecorder())
	mux.Handle(StudyRootQRFind, &cannedFind{})
	addr := startServer(t, &Server{Handler: mux})
	a := dialTest(t, addr, "X", []ContextProposal{
		{AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{dcm.ImplicitVRLittleEndian}},
		{AbstractSyntax: "1.2.3.4.5"}, // unknown abstract syntax
		{AbstractSyntax: StudyRootQRFind, TransferSyntaxes: []string{dcm.JPEGBaseline8Bit}},                                   // unsupported TS
		{AbstractSyntax: scImageStorage, TransferSyntaxes: []string{dcm.JPEG2000, dcm.ExplicitVRBigEndian}},                   // compressed accepted as offered
		{AbstractSyntax: "1.2.840.10008.5.1.4.1.1.13.1.3", TransferSyntaxes: []string{dcm.HTJ2K, dcm.ImplicitVRLittleEndian}}, // prefers uncompressed
		{AbstractSyntax: "1.2.840.10008.5.1.4.1.1.2", TransferSyntaxes: []string{dcm.RLELossless, dcm.DeflatedExplicitVRLittleEndian}},
	}, nil)
	got := map[string]string{}
	for _, pc := range a.Contexts() {
		got[pc.AbstractSyntax] = pc.TransferSyntax
	}
	want := map[string]string{
		VerificationSOPClass:             dcm.ImplicitVRLittleEndian,
		scImageStorage:                   dcm.JPEG2000,
		"1.2.840.10008.5.1.4.1.1.13.1.3": dcm.ImplicitVRLittleEndian,
		"1.2.840.10008.5.1.4.1.1.2":      dcm.RLELossless,
	}
	if len(got) != len(want) {
		t.Fatalf("accepted %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
}

func TestPeerAbortAndServerAbort(t *testing.T) {
	block := make(chan struct{})
	mux := NewMux()
	mux.Handle(scImageStorage, StoreFunc(func(ctx context.Context, req *StoreRequest) (uint16, string) {
		_, err := io.Copy(io.Discard, req.Data)
		if err == nil {
			t.Errorf("data should fail after abort")
		}
		close(block)
		return StatusOutOfResources, ""
	}))
	addr := startServer(t, &Server{Handler: mux})
	a := dialTest(t, addr, "X", storageProposals(dcm.ExplicitVRLittleEndian), nil)
	// Start a store whose data never finishes, then abort from the client.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(make([]byte, 100_000))
		time.Sleep(50 * time.Millisecond)
		go a.Abort()
		time.Sleep(50 * time.Millisecond)
		pw.Close()
	}()
	_, err := a.Store(context.Background(), scImageStorage, "1.2", dcm.ExplicitVRLittleEndian, pr)
	if err == nil {
		t.Fatal("store after abort succeeded")
	}
	<-block
	var ae *AbortError
	if !errors.As(a.Err(), &ae) || !ae.Local {
		t.Fatalf("Err %v", a.Err())
	}
}

func TestServerShutdownAbortsClients(t *testing.T) {
	s := &Server{}
	addr := startServer(t, s)
	a := dialTest(t, addr, "X", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
	if err := a.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = s.Shutdown(ctx)
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client not notified")
	}
	var ae *AbortError
	if !errors.As(a.Err(), &ae) || ae.Local {
		t.Fatalf("want peer abort, got %v", a.Err())
	}
	_ = os.Stderr
}

// The server asks for a quick acknowledgement once per PDU it reads after
// sending one (its reply is what brings delayed acknowledgements back),
// not once per PDU: a data set of many PDUs costs one system call.
func TestQuickAckOncePerExchange(t *testing.T) {
	var calls atomic.Int32
	// Atomic: the server's goroutine reads it, ordered after the write by
	// the TCP connection only, which the race detector does not see.
	var serverAddr atomic.Value
	serverAddr.Store("")
	defer func(f func(net.Conn) func()) { newQuickAcker = f }(newQuickAcker)
	newQuickAcker = func(c net.Conn) func() {
		ack := quickAcker(c)
		if c.LocalAddr().String() != serverAddr.Load().(string) {
			return ack // the client's side
		}
		return func() {
			calls.Add(1)
			if ack != nil {
				ack()
			}
		}
	}
	mux := NewMux()
	mux.HandleStorage(newRecorder())
	s := &Server{AETitle: "LIGHTBOX", Handler: mux, MaxPDULength: 4096}
	serverAddr.Store(startServer(t, s))
	a := dialTest(t, serverAddr.Load().(string), "LIGHTBOX", storageProposals(dcm.ExplicitVRLittleEndian), &DialOptions{MaxPDULength: 4096})
	ctx := context.Background()
	const stores = 5
	for i := range stores {
		uid := uidN(300 + i)
		// ≈ 25 PDUs each.
		if st, err := a.Store(ctx, scImageStorage, uid, dcm.ExplicitVRLittleEndian, bytes.NewReader(testInstance(uid, true, 100_000))); err != nil || st != StatusSuccess {
			t.Fatalf("store: 0x%04X %v", st, err)
		}
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// Each C-STORE request and the release request (the association
	// request is read before the association runs), and at most one more
	// per exchange when a reply's write ends after the next read began;
	// not one per PDU.
	if n := calls.Load(); n < stores+1 || n > 2*(stores+1) {
		t.Fatalf("%d quick acknowledgements for %d exchanges", n, stores+1)
	}
}
