package main

// Storage Commitment Push Model (PS3.4 Annex J) with a real SCU: Orthanc
// (DCMTK 3.6.7's storescu has no storage commitment). Orthanc sends a study
// with "StorageCommitment": true, asks again for an instance Lightbox never
// received, and reports what Lightbox's N-EVENT-REPORTs said. Orthanc
// releases the association after the N-ACTION, so the reports come on new
// associations to the requester's registered AE.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/dicomsvc"
	"lightbox/internal/dimse"
	"lightbox/internal/event"
)

// storageCommitment is Orthanc's record of one transaction.
type storageCommitment struct {
	Status   string
	Success  []map[string]string
	Failures []struct {
		FailureReason  int
		SOPClassUID    string
		SOPInstanceUID string
	}
}

func (o *orthanc) awaitCommitment(t *testing.T, txn string, within time.Duration) storageCommitment {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var r storageCommitment
		o.rest(t, "GET", "/storage-commitment/"+txn, nil, &r)
		if r.Status != "Pending" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("storage commitment %s still pending", txn)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// commitSetup starts Lightbox (with env) and Orthanc, each knowing the
// other, and uploads a three-instance study to Orthanc: its Orthanc ID.
func commitSetup(t *testing.T, env ...string) (data string, s *server, o *orthanc, id string) {
	t.Helper()
	if _, err := os.Stat(orthancBin); err != nil {
		t.Skip("Orthanc not installed (apt-get install orthanc)")
	}
	tmp := t.TempDir()
	data, study := filepath.Join(tmp, "data"), filepath.Join(tmp, "study")
	mustRun(t, "gen", "--out", study, "--modality", "CT", "--slices", "3", "--patients", "1", "--rows", "32", "--columns", "32",
		"--facility", "SGH", "--seed", "71")
	addFacility(t, data, "SGH")
	s = startServerEnv(t, env, "serve", "--data", data)
	lbHost, lbPort := hostPort(s.addrs["dicom"].(string))
	o = startOrthanc(t, map[string][2]string{"LIGHTBOX": {lbHost, lbPort}})
	mustRun(t, "ae", "add", "--data", data, "--aet", "ORTHANC", "--host", "127.0.0.1", "--port", o.dicomPort, "--facility", "SGH")
	return data, s, o, o.upload(t, study)
}

func TestStorageCommitmentWithOrthanc(t *testing.T) {
	_, s, o, id := commitSetup(t)
	defer s.stop(t)
	lbHost, lbPort := hostPort(s.addrs["dicom"].(string))

	// Success: the three instances Orthanc has just stored.
	var job struct {
		StorageCommitmentTransactionUID string
	}
	o.rest(t, "POST", "/modalities/LIGHTBOX/store", []byte(`{"Resources":["`+id+`"],"Synchronous":true,"StorageCommitment":true}`), &job)
	if job.StorageCommitmentTransactionUID == "" {
		t.Fatalf("Orthanc started no storage commitment: %+v", job)
	}
	r := o.awaitCommitment(t, job.StorageCommitmentTransactionUID, 15*time.Second)
	if r.Status != "Success" || len(r.Success) != 3 || len(r.Failures) != 0 {
		t.Fatalf("storage commitment of a stored study: %+v", r)
	}

	// Failure: one stored instance and one Lightbox never received.
	var inst []struct{ ID string }
	o.rest(t, "GET", "/studies/"+id+"/instances", nil, &inst)
	if len(inst) == 0 {
		t.Fatal("Orthanc study has no instances")
	}
	var tags map[string]any
	o.rest(t, "GET", "/instances/"+inst[0].ID+"/simplified-tags", nil, &tags)
	const unknown = "1.2.826.0.1.3680043.10.1234.404"
	body := fmt.Sprintf(`{"DicomInstances":[{"SOPClassUID":%q,"SOPInstanceUID":%q},{"SOPClassUID":%q,"SOPInstanceUID":%q}]}`,
		tags["SOPClassUID"], tags["SOPInstanceUID"], tags["SOPClassUID"], unknown)
	var txn struct{ ID string }
	o.rest(t, "POST", "/modalities/LIGHTBOX/storage-commitment", []byte(body), &txn)
	r = o.awaitCommitment(t, txn.ID, 15*time.Second)
	if r.Status != "Failure" || len(r.Success) != 1 || len(r.Failures) != 1 {
		t.Fatalf("storage commitment with an unknown instance: %+v", r)
	}
	if f := r.Failures[0]; f.SOPInstanceUID != unknown || f.FailureReason != 0x0112 {
		t.Errorf("failure: %+v, want %s with reason 0x0112 (no such object instance)", f, unknown)
	}

	// A requester that keeps its association open gets the report on it
	// (PS3.4 J.3.3): here Lightbox's own DIMSE client, as ORTHANC.
	class, sop := fmt.Sprint(tags["SOPClassUID"]), fmt.Sprint(tags["SOPInstanceUID"])
	events := make(chan *dimse.NRequest, 1)
	mux := dimse.NewMux()
	mux.Handle(dimse.StorageCommitmentPushModel, dimse.NFunc(func(ctx context.Context, req *dimse.NRequest) dimse.NResponse {
		events <- req
		return dimse.NResponse{Status: dimse.StatusSuccess}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := dimse.Dial(ctx, net.JoinHostPort(lbHost, lbPort), "ORTHANC", "LIGHTBOX",
		[]dimse.ContextProposal{{AbstractSyntax: dimse.StorageCommitmentPushModel}}, &dimse.DialOptions{Handler: mux})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release(ctx)
	req := &dcm.Dataset{}
	req.Put(dcm.StrElement(0x00081195, "UI", "1.2.826.0.1.3680043.10.1234.77"))
	item := func(uid string) *dcm.Dataset {
		it := &dcm.Dataset{}
		it.Put(dcm.StrElement(0x00081150, "UI", class))
		it.Put(dcm.StrElement(0x00081155, "UI", uid))
		return it
	}
	req.SetSeq(dcm.TagReferencedSOPSequence, item(sop), item(unknown))
	var b bytes.Buffer
	ts, _ := a.TransferSyntax(dimse.StorageCommitmentPushModel)
	if err := dcm.WriteDataset(&b, req, ts); err != nil {
		t.Fatal(err)
	}
	rsp, _, err := a.SendN(ctx, dimse.NewNActionRQ(dimse.StorageCommitmentPushModel, dimse.StorageCommitmentPushModelID, 1, true), b.Bytes())
	if err != nil || rsp.Status != dimse.StatusSuccess {
		t.Fatalf("N-ACTION: %v %+v", err, rsp)
	}
	select {
	case ev := <-events:
		ds, err := dcm.ReadDataset(bytes.NewReader(ev.Data), ev.TransferSyntaxUID, dcm.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ok, failed := ds.Seq(dcm.TagReferencedSOPSequence), ds.Seq(0x00081198)
		if ev.EventTypeID != 2 || len(ok) != 1 || len(failed) != 1 || failed[0].Str(0x00081155) != unknown {
			t.Errorf("N-EVENT-REPORT on the same association: event type %d, %d committed, %d failed", ev.EventTypeID, len(ok), len(failed))
		}
	case <-ctx.Done():
		t.Fatal("no N-EVENT-REPORT on the open association")
	}
}

// A commitment acknowledged before a crash is reported after the restart,
// once: Lightbox is SIGKILLed right after answering Orthanc's N-ACTION
// (crash point dicomsvc.CrashCommitAcknowledged), before any report;
// Orthanc's transaction stays pending until the restarted Lightbox
// delivers the N-EVENT-REPORT on a new association.
func TestStorageCommitmentSurvivesKill(t *testing.T) {
	data, s, o, id := commitSetup(t, event.CrashEnv+"="+dicomsvc.CrashCommitAcknowledged)
	// The store itself does not reach the crash point; its commitment does.
	o.rest(t, "POST", "/modalities/LIGHTBOX/store", []byte(`{"Resources":["`+id+`"],"Synchronous":true}`), nil)
	var inst []struct{ ID string }
	o.rest(t, "GET", "/studies/"+id+"/instances", nil, &inst)
	var items []string
	for _, in := range inst {
		var tags map[string]any
		o.rest(t, "GET", "/instances/"+in.ID+"/simplified-tags", nil, &tags)
		items = append(items, fmt.Sprintf(`{"SOPClassUID":%q,"SOPInstanceUID":%q}`, tags["SOPClassUID"], tags["SOPInstanceUID"]))
	}
	var txn struct{ ID string }
	o.rest(t, "POST", "/modalities/LIGHTBOX/storage-commitment", []byte(`{"DicomInstances":[`+strings.Join(items, ",")+`]}`), &txn)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatal("Lightbox did not die at the crash point")
	}
	var r storageCommitment
	o.rest(t, "GET", "/storage-commitment/"+txn.ID, nil, &r)
	if r.Status != "Pending" {
		t.Fatalf("before the restart Orthanc has %+v, want Pending (the report came before the crash)", r)
	}

	s = startServer(t, "serve", "--data", data)
	r = o.awaitCommitment(t, txn.ID, 90*time.Second)
	if r.Status != "Success" || len(r.Success) != len(inst) || len(r.Failures) != 0 {
		t.Fatalf("storage commitment after the restart: %+v", r)
	}
	reports := func() int {
		s.logMu.Lock()
		defer s.logMu.Unlock()
		return strings.Count(s.stderr.String(), `"msg":"storage commitment reported"`)
	}
	// Orthanc has the report; Lightbox records it once Orthanc answered.
	for deadline := time.Now().Add(30 * time.Second); reports() == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // two poll periods: a second report would show
	s.stop(t)
	if reports := reports(); reports != 1 {
		t.Errorf("the restarted Lightbox logged %d reports, want 1", reports)
	}
	d, err := db.Open(context.Background(), "sqlite:"+filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var status string
	var attempts int
	if err := d.QueryRow(context.Background(), "SELECT status, attempts FROM stgcmt_request WHERE transaction_uid = ?", txn.ID).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != "sent" || attempts != 1 {
		t.Errorf("request row: %s after %d attempts, want sent after 1", status, attempts)
	}
}
