package outbox

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/hl7"
	"lightbox/internal/testwait"
)

// listener is a test MLLP endpoint answering with code.
type listener struct {
	addr string
	mu   sync.Mutex
	got  []string // control IDs in arrival order
	code hl7.AckCode
}

func listen(t *testing.T, code hl7.AckCode) *listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ls := &listener{addr: l.Addr().String(), code: code}
	srv := &hl7.Server{Handler: hl7.HandlerFunc(func(_ context.Context, r *hl7.Request) []byte {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		ls.got = append(ls.got, r.Message.ControlID())
		if ls.code == hl7.AckAA {
			return hl7.NewACK(r.Message, hl7.AckAA, hl7.AckOptions{}).Bytes()
		}
		return hl7.NewACK(r.Message, ls.code, hl7.AckOptions{}, hl7.Errorf(hl7.CodeInternalError, "", "test refusal")).Bytes()
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ls
}

func (l *listener) received() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

// deadAddr returns a loopback address nobody listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	_ = l.Close()
	return a
}

func msg(i int) []byte {
	m := hl7.NewMessage(hl7.MSH{SendingApplication: hl7.HD{NamespaceID: "LIGHTBOX"}, MessageType: hl7.MSG{Code: "ORM", Trigger: "O01", Structure: "ORM_O01"},
		ControlID: fmt.Sprintf("CTL%04d", i), Version: "2.3.1"})
	m.Add(hl7.ORC{OrderControl: "SC", OrderStatus: "SC", PlacerOrderNumber: hl7.EI{EntityID: fmt.Sprint(i)}})
	return m.Bytes()
}

func fast(d *db.DB) *Deliverer {
	return &Deliverer{DB: d, PollInterval: 20 * time.Millisecond, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		MaxAttempts: 3, AckTimeout: 2 * time.Second, DialTimeout: time.Second, ClaimTTL: 5 * time.Second}
}

func statusCount(t *testing.T, d *db.DB, status string) int {
	return dbtest.Count(t, d, "SELECT COUNT(*) FROM hl7_outbox WHERE status = ?", status)
}

func TestDelivery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		good := listen(t, hl7.AckAA)
		nak := listen(t, hl7.AckAE)
		rej := listen(t, hl7.AckAR)
		down := deadAddr(t)
		// Ordered messages to good, in a transaction, plus one each to the others.
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for i := range 5 {
				if err := Enqueue(ctx, tx, Message{FacilityID: "fac-a", Address: good.addr, Kind: "test", RelatedID: "o1", Bytes: msg(i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range []string{down, nak.addr, rej.addr} {
			if err := Enqueue(ctx, d, Message{Address: a, Kind: "test", Bytes: msg(100 + i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := Enqueue(ctx, d, Message{Address: good.addr, Kind: "test", Bytes: msg(5)}); err != nil {
			t.Fatal(err)
		}
		dl := fast(d)
		dl.Start(ctx)
		testwait.Until(t, 10*time.Second, "delivery to the good endpoint despite a down one", func() bool { return statusCount(t, d, StatusDelivered) == 6 })
		testwait.Until(t, 10*time.Second, "AE retried then failed, AR failed", func() bool { return statusCount(t, d, StatusFailed) == 2 })
		dl.Stop()
		if got := strings.Join(good.received(), ","); got != "CTL0000,CTL0001,CTL0002,CTL0003,CTL0004,CTL0005" {
			t.Fatalf("order: %s", got)
		}
		if n := len(nak.received()); n != 3 {
			t.Fatalf("AE endpoint got %d attempts, want 3", n)
		}
		if n := len(rej.received()); n != 1 {
			t.Fatalf("AR endpoint got %d attempts, want 1", n)
		}
		failed, err := List(ctx, d, StatusFailed, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range failed {
			if r.LastError == "" || (r.AckCode != "AE" && r.AckCode != "AR") {
				t.Fatalf("failed row %+v", r)
			}
		}
		pend, _ := List(ctx, d, StatusPending, 0)
		if len(pend) != 1 || pend[0].Address != down || pend[0].Attempts == 0 || pend[0].LastError == "" {
			t.Fatalf("down endpoint row %+v", pend)
		}
		var attempts int
		_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM hl7_outbox_attempt").Scan(&attempts)
		if attempts < 6+3+1+1 {
			t.Fatalf("%d attempts recorded", attempts)
		}

		// Restart: the endpoint comes up at the same address; a new Deliverer resumes.
		l, err := net.Listen("tcp", down)
		if err != nil {
			t.Skipf("cannot rebind %s: %v", down, err)
		}
		revived := &listener{addr: down, code: hl7.AckAA}
		srv := &hl7.Server{Handler: hl7.HandlerFunc(func(_ context.Context, r *hl7.Request) []byte {
			revived.mu.Lock()
			revived.got = append(revived.got, r.Message.ControlID())
			revived.mu.Unlock()
			return hl7.NewACK(r.Message, hl7.AckAA, hl7.AckOptions{}).Bytes()
		})}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		if err := Retry(ctx, d, failed[0].PK); err != nil {
			t.Fatal(err)
		}
		d2 := fast(d)
		d2.Start(ctx)
		defer d2.Stop()
		testwait.Until(t, 10*time.Second, "resumed delivery", func() bool { return len(revived.received()) == 1 })
		testwait.Until(t, 10*time.Second, "row delivered", func() bool { return statusCount(t, d, StatusPending) <= 1 && statusCount(t, d, StatusDelivered) == 7 })
	})
}

func TestClaimIsExclusive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := Enqueue(ctx, d, Message{Address: "127.0.0.1:9", Kind: "t", Bytes: msg(1)}); err != nil {
			t.Fatal(err)
		}
		a, b := fast(d), fast(d)
		a.id, b.id = "a", "b"
		_, okA, errA := a.claimHead(ctx, "127.0.0.1:9")
		_, okB, errB := b.claimHead(ctx, "127.0.0.1:9")
		if errA != nil || errB != nil || !okA || okB {
			t.Fatalf("claims: a=%v b=%v (%v %v)", okA, okB, errA, errB)
		}
	})
}

// TestPythonHL7Parses checks that an external parser (Debian python3-hl7)
// accepts what the outbox sends.
func TestPythonHL7Parses(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import hl7").Run(); err != nil {
		t.Skip("python3-hl7 not installed")
	}
	m, _ := hl7.Parse(msg(7))
	for _, b := range [][]byte{msg(7), hl7.NewACK(m, hl7.AckAE, hl7.AckOptions{}, hl7.Errorf(hl7.CodeRequiredFieldMissing, "PID-3", "x")).Bytes()} {
		cmd := exec.Command("/usr/bin/python3", "-c", "import sys,hl7; m=hl7.parse(sys.stdin.read()); print(m.segment('MSH')[9])")
		cmd.Stdin = strings.NewReader(string(b))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("python3-hl7: %v: %s", err, out)
		}
	}
}

// TestRestartAndTwoDeliverers: rows enqueued while no Deliverer runs, and a
// row claimed by a process that died, are delivered by new Deliverers; two
// Deliverers on one database keep per-address order without duplicates.
func TestRestartAndTwoDeliverers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		good := listen(t, hl7.AckAA)
		for i := range 20 {
			if err := Enqueue(ctx, d, Message{Address: good.addr, Kind: "test", Bytes: msg(i)}); err != nil {
				t.Fatal(err)
			}
		}
		// The head was claimed by a process that crashed: its claim expires soon.
		if _, err := d.Exec(ctx, "UPDATE hl7_outbox SET claimed_until = ?, claimed_by = 'dead' WHERE pk = (SELECT MIN(pk) FROM hl7_outbox)",
			db.Now(time.Now().Add(300*time.Millisecond))); err != nil {
			t.Fatal(err)
		}
		a, b := fast(d), fast(d)
		a.Start(ctx)
		b.Start(ctx)
		defer a.Stop()
		defer b.Stop()
		testwait.Until(t, 10*time.Second, "all delivered", func() bool { return statusCount(t, d, StatusDelivered) == 20 })
		got := good.received()
		if len(got) != 20 {
			t.Fatalf("received %d messages", len(got))
		}
		for i, c := range got {
			if c != fmt.Sprintf("CTL%04d", i) {
				t.Fatalf("out of order at %d: %v", i, got)
			}
		}
	})
}
