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
	"testing"
	"time"

	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
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

func (o *orthanc) awaitCommitment(t *testing.T, txn string) storageCommitment {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
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

func TestStorageCommitmentWithOrthanc(t *testing.T) {
	if _, err := os.Stat(orthancBin); err != nil {
		t.Skip("Orthanc not installed (apt-get install orthanc)")
	}
	tmp := t.TempDir()
	data, study := filepath.Join(tmp, "data"), filepath.Join(tmp, "study")
	mustRun(t, "gen", "--out", study, "--modality", "CT", "--slices", "3", "--patients", "1", "--rows", "32", "--columns", "32",
		"--facility", "SGH", "--seed", "71")
	addFacility(t, data, "SGH")
	s := startServer(t, "serve", "--data", data)
	defer s.stop(t)
	lbHost, lbPort := hostPort(s.addrs["dicom"].(string))
	o := startOrthanc(t, map[string][2]string{"LIGHTBOX": {lbHost, lbPort}})
	mustRun(t, "ae", "add", "--data", data, "--aet", "ORTHANC", "--host", "127.0.0.1", "--port", o.dicomPort, "--facility", "SGH")
	id := o.upload(t, study)

	// Success: the three instances Orthanc has just stored.
	var job struct {
		StorageCommitmentTransactionUID string
	}
	o.rest(t, "POST", "/modalities/LIGHTBOX/store", []byte(`{"Resources":["`+id+`"],"Synchronous":true,"StorageCommitment":true}`), &job)
	if job.StorageCommitmentTransactionUID == "" {
		t.Fatalf("Orthanc started no storage commitment: %+v", job)
	}
	r := o.awaitCommitment(t, job.StorageCommitmentTransactionUID)
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
	r = o.awaitCommitment(t, txn.ID)
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
