package retention

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/audit"
	"lightbox/internal/blob"
	"lightbox/internal/blob/blobtest"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
	"lightbox/internal/facility"
	"lightbox/internal/testwait"
)

// clock is a settable time source shared by the archive and the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fixture struct {
	svc   *Service
	arch  *archive.Archive
	blobs blob.Store
	clock *clock
	db    *db.DB
	keys  map[string]string // SOP Instance UID -> blob key
}

// stores are the blob stores retention runs against: the folder, and a
// real S3-compatible server when versitygw is installed.
func stores(t *testing.T) map[string]func(t *testing.T) blob.Store {
	out := map[string]func(t *testing.T) blob.Store{
		"folder": func(t *testing.T) blob.Store {
			d, err := blob.OpenDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			return d
		},
	}
	if blobtest.Binary() != "" {
		out["s3"] = func(t *testing.T) blob.Store {
			srv := blobtest.Start(t)
			srv.SetEnv(t)
			s, err := blob.Open(srv.URL(srv.Bucket(t), t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}
	return out
}

// each runs fn on every blob store and every database (a fresh one each).
func each(t *testing.T, fn func(t *testing.T, f *fixture)) { eachWrapped(t, nil, fn) }

// eachWrapped is each with the archive's blob store wrapped (f.blobs is the
// store itself).
func eachWrapped(t *testing.T, wrap func(blob.Store) blob.Store, fn func(t *testing.T, f *fixture)) {
	for storeName, open := range stores(t) {
		t.Run(storeName, func(t *testing.T) {
			for dbName, d := range dbtest.Databases(t) {
				t.Run(dbName, func(t *testing.T) {
					c := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
					b := open(t)
					ab := b
					if wrap != nil {
						ab = wrap(b)
					}
					a := archive.New(d, ab, archive.Options{Now: c.Now})
					t.Cleanup(func() { a.Close() })
					svc := &Service{DB: d, Archive: a, Audit: &audit.Logger{DB: d, Now: c.Now}, Now: c.Now, Batch: 2}
					fn(t, &fixture{svc: svc, arch: a, blobs: b, clock: c, db: d, keys: map[string]string{}})
				})
			}
		})
	}
}

var uidSeq atomic.Int64

func uid(prefix string) string {
	return prefix + "." + time.Now().Format("150405") + "." + itoa(uidSeq.Add(1))
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// store adds one instance of study (a new series each call) for patient
// pid at facility fac, with study date date ("" for none), received now.
func (f *fixture) store(t *testing.T, fac, study, pid, date string) string {
	t.Helper()
	ds := &dcm.Dataset{}
	sop := uid("2.25.9")
	ds.SetStr(dcm.TagSOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
	ds.SetStr(dcm.TagSOPInstanceUID, sop)
	ds.SetStr(dcm.TagStudyInstanceUID, study)
	ds.SetStr(dcm.TagSeriesInstanceUID, uid("2.25.8"))
	ds.SetStr(dcm.TagPatientID, pid)
	ds.SetStr(dcm.TagIssuerOfPatientID, "ISS-"+fac)
	ds.SetStr(dcm.TagModality, "OT")
	if date != "" {
		ds.SetStr(dcm.TagStudyDate, date)
	}
	ds.SetBytes(dcm.TagPixelData, "OB", bytes.Repeat([]byte(sop), 64))
	var b bytes.Buffer
	if err := dcm.WriteFile(&b, ds, dcm.ExplicitVRLittleEndian, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.arch.Store(context.Background(), &b, archive.Source{Facility: fac}); err != nil {
		t.Fatal(err)
	}
	ref, err := f.arch.Instance(context.Background(), sop)
	if err != nil {
		t.Fatal(err)
	}
	f.keys[sop] = ref.BlobKey
	// A small instance on the folder is acknowledged once in the ingest
	// journal and copied to the store in the background: the tests look at
	// the store itself, so wait for the copy.
	testwait.Until(t, time.Minute, "blob published", func() bool {
		ok, err := f.blobs.Exists(context.Background(), ref.BlobKey)
		return ok && err == nil
	})
	return sop
}

// present reports whether sop is indexed, and whether its blob exists.
func (f *fixture) present(t *testing.T, sop string) (indexed, bytes bool) {
	t.Helper()
	ok, err := f.blobs.Exists(context.Background(), f.keys[sop])
	if err != nil {
		t.Fatal(err)
	}
	return f.indexed(sop), ok
}

func (f *fixture) indexed(sop string) bool {
	_, err := f.arch.Instance(context.Background(), sop)
	return err == nil
}

var admin = audit.Actor{UserID: "admin", Role: "admin", Interface: audit.CLI}

func (f *fixture) facilities(t *testing.T, years map[string]int) {
	t.Helper()
	ctx := context.Background()
	for id, y := range years {
		if err := facility.Upsert(ctx, f.db, facility.Facility{ID: id, Name: id, TimeZone: "UTC", IssuerOfPatientID: "ISS-" + id}); err != nil {
			t.Fatal(err)
		}
		if err := facility.SetRetentionYears(ctx, f.db, id, y); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRetentionRun(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		fa, fb := uid("FA"), uid("FB") // facility IDs unique per database
		f.facilities(t, map[string]int{fa: 7, fb: 0})
		now := f.clock.Now()
		old, recent := "20150101", "20250101"
		gone := []string{}
		studyA, studyB, studyC, studyD, studyE, studyF := uid("2.25.1"), uid("2.25.2"), uid("2.25.3"), uid("2.25.4"), uid("2.25.5"), uid("2.25.6")
		gone = append(gone, f.store(t, fa, studyA, "P1", old), f.store(t, fa, studyA, "P1", old)) // expired
		heldPatient := f.store(t, fa, studyB, "P2", old)                                          // patient on hold
		heldStudy := f.store(t, fa, studyC, "P3", old)                                            // study on hold
		kept := []string{f.store(t, fa, studyD, "P4", recent), f.store(t, fb, studyF, "P6", "20000101")}
		// No study date: by receipt. One instance received 10 years ago, one today.
		f.clock.Set(now.AddDate(-10, 0, 0))
		gone = append(gone, f.store(t, fa, studyE, "P5", ""))
		f.clock.Set(now)
		kept = append(kept, f.store(t, fa, studyE, "P5", ""))

		if _, err := f.svc.AddHold(ctx, admin, Hold{Issuer: "ISS-" + fa, PatientID: "P2", Reason: "litigation 42"}); err != nil {
			t.Fatal(err)
		}
		h, err := f.svc.AddHold(ctx, admin, Hold{StudyUID: studyC, Reason: "litigation 43"})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []Hold{{Reason: "x"}, {StudyUID: studyC}, {StudyUID: studyC, PatientID: "P3", Reason: "x"}} {
			if _, err := f.svc.AddHold(ctx, admin, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddHold(%+v) = %v, want ErrInvalid", bad, err)
			}
		}

		dry, err := f.svc.Run(ctx, admin, true)
		if err != nil {
			t.Fatal(err)
		}
		if dry.Studies != 2 || dry.Instances != 3 || dry.Held != 2 || dry.Bytes <= 0 || len(dry.Items) != 2 {
			t.Fatalf("dry run = %+v, want 2 studies, 3 instances, 2 held", dry)
		}
		for _, sop := range append(gone, heldPatient, heldStudy) {
			if ix, ok := f.present(t, sop); !ix || !ok {
				t.Fatalf("dry run removed %s (indexed %t, bytes %t)", sop, ix, ok)
			}
		}

		rep, err := f.svc.Run(ctx, admin, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Studies != 2 || rep.Instances != 3 || rep.Bytes != dry.Bytes || rep.BlobsDeleted != 3 || rep.BlobsPending != 0 {
			t.Fatalf("run = %+v, want the dry run's 2 studies, 3 instances, 3 blobs deleted", rep)
		}
		for _, sop := range gone {
			if ix, ok := f.present(t, sop); ix || ok {
				t.Errorf("expired %s still there (indexed %t, bytes %t)", sop, ix, ok)
			}
		}
		for _, sop := range append(kept, heldPatient, heldStudy) {
			if ix, ok := f.present(t, sop); !ix || !ok {
				t.Errorf("kept %s lost (indexed %t, bytes %t)", sop, ix, ok)
			}
		}
		// Audited: the run, and each purged study with who and how much.
		page, err := f.svc.Audit.Search(ctx, admin, audit.Filter{EventIDs: []audit.EventID{audit.StudyDeleted}})
		if err != nil {
			t.Fatal(err)
		}
		deleted := map[string]bool{}
		for _, e := range page.Events {
			if e.UserID == "admin" && len(e.StudyUIDs) == 1 {
				deleted[e.StudyUIDs[0]] = true
			}
		}
		if !deleted[studyA] || !deleted[studyE] || len(deleted) != 2 {
			t.Errorf("study-deleted audit events for %v, want %s and %s", deleted, studyA, studyE)
		}

		// The hold lifted, the next run takes the study.
		if err := f.svc.RemoveHold(ctx, admin, h.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveHold(ctx, admin, h.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second remove = %v, want ErrNotFound", err)
		}
		rep, err = f.svc.Run(ctx, admin, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Studies != 1 || rep.Held != 1 {
			t.Errorf("after lifting the study hold: %+v, want 1 study purged, 1 held", rep)
		}
		if ix, ok := f.present(t, heldStudy); ix || ok {
			t.Errorf("released study still there")
		}
		holds, err := f.svc.Holds(ctx)
		if err != nil || len(holds) != 1 || holds[0].PatientID != "P2" {
			t.Errorf("holds = %+v, %v", holds, err)
		}
	})
}

// A crash after the index rows are gone and before the blobs are: the queue
// holds the keys, and the next drain deletes them; a key whose bytes were
// stored again meanwhile is referenced and kept.
func TestRetentionQueueSurvivesCrash(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		fa := uid("FA")
		f.facilities(t, map[string]int{fa: 1})
		study := uid("2.25.1")
		a, b := f.store(t, fa, study, "P1", "20100101"), f.store(t, fa, study, "P1", "20100101")
		// "Crash": the purge transaction commits, nothing drains.
		cutoff := f.clock.Now().AddDate(-1, 0, 0)
		err := f.db.InTx(ctx, func(tx *db.Tx) error {
			_, err := archive.PurgeTx(ctx, tx, study, cutoff, f.clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if f.indexed(a) || f.indexed(b) {
			t.Fatal("rows survived the purge")
		}
		if _, ok := f.present(t, a); !ok {
			t.Fatal("blob deleted before the queue drained")
		}
		// The same bytes of b arrive again before the drain.
		ref := f.keys[b]
		obj, err := f.blobs.Open(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(obj); err != nil {
			t.Fatal(err)
		}
		obj.Close()
		if _, err := f.arch.Store(ctx, &buf, archive.Source{Facility: fa}); err != nil {
			t.Fatal(err)
		}
		n, err := f.svc.Drain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("drained %d blobs, want 1 (the re-stored one kept)", n)
		}
		if _, ok := f.present(t, a); ok {
			t.Error("queued blob not deleted by the drain")
		}
		if ix, ok := f.present(t, b); !ix || !ok {
			t.Errorf("re-stored instance lost (indexed %t, bytes %t)", ix, ok)
		}
		if q, _ := f.arch.QueuedBlobs(ctx); q != 0 {
			t.Errorf("%d entries left in the queue", q)
		}
	})
}

// Nodes ticking together: each period runs on exactly one of them.
func TestRetentionTimerOncePerPeriod(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		const nodes = 4
		if ok, err := f.svc.Tick(ctx, "node0", 24*time.Hour); ok || err != nil {
			t.Fatalf("ran with no facility under a retention period: %t %v", ok, err)
		}
		f.facilities(t, map[string]int{uid("FA"): 5})
		ran := func() int {
			var wg sync.WaitGroup
			var n atomic.Int32
			for i := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := f.svc.Tick(ctx, "node"+itoa(int64(i)), 24*time.Hour)
					if err != nil {
						t.Error(err)
					}
					if ok {
						n.Add(1)
					}
				}()
			}
			wg.Wait()
			return int(n.Load())
		}
		start := f.clock.Now()
		if n := ran(); n != 1 {
			t.Fatalf("first period ran on %d nodes, want 1", n)
		}
		if n := ran(); n != 0 {
			t.Errorf("same period ran again on %d nodes", n)
		}
		f.clock.Set(start.Add(25 * time.Hour))
		if n := ran(); n != 1 {
			t.Errorf("next period ran on %d nodes, want 1", n)
		}
	})
}

// racing is a blob store on which another node stores the same bytes again
// at the worst moments of a deletion (archive.DeleteQueued): beforeMove runs
// just before Delete or Retire touches the object; with stale set, Commit
// publishes nothing, as a store does that found the key published an
// instant before the object went.
type racing struct {
	blob.Store
	mu         sync.Mutex
	beforeMove func(key string)
	stale      atomic.Bool
}

func (r *racing) hook(key string) {
	r.mu.Lock()
	fn := r.beforeMove
	r.beforeMove = nil
	r.mu.Unlock()
	if fn != nil {
		fn(key)
	}
}

func (r *racing) on(fn func(key string)) { r.mu.Lock(); r.beforeMove = fn; r.mu.Unlock() }

func (r *racing) Create(ctx context.Context) (blob.Writer, error) {
	w, err := r.Store.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &racingWriter{Writer: w, r: r}, nil
}

type racingWriter struct {
	blob.Writer
	r *racing
}

func (w *racingWriter) Commit(ctx context.Context, key string) error {
	if w.r.stale.Load() {
		return w.Abort()
	}
	return w.Writer.Commit(ctx, key)
}

func (r *racing) Delete(ctx context.Context, key string) error {
	r.hook(key)
	return r.Store.Delete(ctx, key)
}

func (r *racing) Retire(ctx context.Context, key string) error {
	r.hook(key)
	return r.Store.(blob.Retirer).Retire(ctx, key)
}

func (r *racing) Restore(ctx context.Context, key string) error {
	return r.Store.(blob.Retirer).Restore(ctx, key)
}

func (r *racing) Purge(ctx context.Context, key string) error {
	return r.Store.(blob.Retirer).Purge(ctx, key)
}

// Retention deletes a content-addressed blob while another node stores the
// same bytes again (a prior fetched anew, a sender re-sending): whether the
// new row commits before the drain looks again or after, the instance keeps
// its bytes, on the folder and on S3. Deleting outright after a reference
// check, as the drain did before, loses them in the first case.
func TestRetentionBlobDeleteRace(t *testing.T) {
	var r *racing
	eachWrapped(t, func(s blob.Store) blob.Store { r = &racing{Store: s}; return r }, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		fa := uid("FA")
		f.facilities(t, map[string]int{fa: 1})
		bytesOf := func(sop string) []byte {
			t.Helper()
			ref, err := f.arch.Instance(ctx, sop)
			if err != nil {
				t.Fatal(err)
			}
			o, err := f.arch.Open(ctx, ref)
			if err != nil {
				t.Fatalf("read %s: %v", sop, err)
			}
			defer o.Close()
			var b bytes.Buffer
			if _, err := b.ReadFrom(o); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}
		storeAgain := func(data []byte) {
			t.Helper()
			if _, err := f.arch.Store(ctx, bytes.NewReader(data), archive.Source{Facility: fa}); err != nil {
				t.Error(err)
			}
		}
		run := func() {
			t.Helper()
			if _, err := f.svc.Run(ctx, admin, false); err != nil {
				t.Fatal(err)
			}
		}
		// expired stores an expired instance and returns it with its bytes.
		expired := func() (study, sop string, data []byte) {
			study = uid("2.25.1")
			sop = f.store(t, fa, study, "P1", "20100101")
			return study, sop, bytesOf(sop)
		}
		hold := func(study string) {
			if _, err := f.svc.AddHold(ctx, admin, Hold{StudyUID: study, Reason: "kept for the next case"}); err != nil {
				t.Fatal(err)
			}
		}
		intact := func(what, sop string, data []byte) {
			t.Helper()
			if !f.indexed(sop) {
				t.Fatalf("%s: the instance stored again is not indexed", what)
			}
			if got := bytesOf(sop); !bytes.Equal(got, data) {
				t.Fatalf("%s: read %d bytes, want the %d stored", what, len(got), len(data))
			}
			if _, ok := f.present(t, sop); !ok {
				t.Fatalf("%s: the blob is not published", what)
			}
		}

		// 1. Stored again (the store finds the key and keeps it, the row
		// commits) just before the drain moves the blob.
		study, sop, data := expired()
		r.on(func(string) { storeAgain(data) })
		run()
		intact("stored again before the move", sop, data)
		hold(study)

		// rowAfterCheck: the store found the key an instant before the move
		// and its row commits after the drain's second look, so the blob is
		// retired while a row names it.
		rowAfterCheck := func() (study, sop string, data []byte) {
			study, sop, data = expired()
			r.on(func(string) { r.stale.Store(true) })
			run()
			storeAgain(data)
			r.stale.Store(false)
			return study, sop, data
		}

		// 2. That, and the first read restores it.
		study, sop, data = rowAfterCheck()
		if _, ok := f.present(t, sop); ok {
			t.Fatal("case 2 did not race: the blob was never retired")
		}
		intact("row committed after the drain's check, then read", sop, data)
		hold(study)

		// 3. That, nobody reads: the end of the grace period restores it.
		study, sop, data = rowAfterCheck()
		hold(study)
		f.clock.Set(f.clock.Now().Add(archive.RetireGrace + time.Minute))
		if _, err := f.svc.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.present(t, sop); !ok {
			t.Fatal("grace period over: the retired blob a row names was not restored")
		}
		intact("row committed after the drain's check, restored by the next drain", sop, data)

		// 4. Nobody stores it again: purged for good after the grace period.
		_, sop, _ = expired()
		key := f.keys[sop]
		run()
		if _, ok := f.present(t, sop); ok {
			t.Fatal("expired blob still published after the run")
		}
		f.clock.Set(f.clock.Now().Add(archive.RetireGrace + time.Minute))
		if _, err := f.svc.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Restore(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("retired copy after the grace period: Restore = %v, want ErrNotFound (purged)", err)
		}
		if n, _, err := f.arch.DeleteQueued(ctx, 100); n != 0 || err != nil {
			t.Errorf("queue after the grace period: %d deleted, %v", n, err)
		}
		if q, _ := f.arch.QueuedBlobs(ctx); q != 0 {
			t.Errorf("%d entries left in the queue", q)
		}
	})
}
