package dicomsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"lightbox/internal/audit"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
	"lightbox/internal/query"
)

func decodeIdentifier(b []byte, ts string) (*dcm.Dataset, error) {
	ds, err := dcm.ReadDataset(bytes.NewReader(b), ts, dcm.ReadOptions{})
	if err != nil {
		return nil, &dimse.StatusError{Status: dimse.StatusDataSetDoesNotMatchSOPClass, Comment: clip("identifier: " + err.Error())}
	}
	return ds, nil
}

// Find answers C-FIND for Patient Root and Study Root (and Modality
// Worklist, see mwl.go).
func (s *Service) Find(ctx context.Context, req *dimse.FindRequest, send func([]byte) error) error {
	if req.SOPClassUID == dimse.ModalityWorklistFind {
		return s.worklistFind(ctx, req, send)
	}
	c := callerOf(req.Assoc)
	ds, err := decodeIdentifier(req.Identifier, req.TransferSyntaxUID)
	if err != nil {
		return err
	}
	q, err := query.FromIdentifier(ds)
	if err != nil {
		return &dimse.StatusError{Status: dimse.StatusDataSetDoesNotMatchSOPClass, Comment: clip(err.Error())}
	}
	if req.SOPClassUID == dimse.StudyRootQRFind && q.Level == query.Patient {
		return &dimse.StatusError{Status: dimse.StatusDataSetDoesNotMatchSOPClass, Comment: "Study Root has no PATIENT level"}
	}
	q.ReturnOnly = true
	q.Scope = c.scope
	if q.Scope.Empty() {
		return nil // nothing visible: zero matches
	}
	res, err := s.opt.Query.Find(ctx, q)
	var ke *query.KeyError
	if errors.As(err, &ke) {
		return &dimse.StatusError{Status: dimse.StatusDataSetDoesNotMatchSOPClass, Comment: clip(ke.Error())}
	}
	if err != nil {
		return err
	}
	req.OptionalKeysUnsupported = len(res.Unsupported) > 0
	s.auditRead(ctx, audit.QueryEvent(c.actor(), "", "", "C-FIND "+q.Level.String()))
	for _, m := range res.Datasets {
		m.SetStr(dcm.TagQueryRetrieveLevel, q.Level.String())
		m.SetStr(dcm.TagRetrieveAETitle, s.opt.AETitle)
		if err := sendDataset(m, req.TransferSyntaxUID, send); err != nil {
			return err
		}
	}
	return nil
}

// sendDataset encodes a response identifier, declaring UTF-8 when any value
// needs it.
func sendDataset(ds *dcm.Dataset, ts string, send func([]byte) error) error {
	ds.Delete(dcm.TagSpecificCharacterSet)
	for _, e := range ds.Elements {
		if e.Value != nil && !isASCII(e.Value) {
			ds.SetStr(dcm.TagSpecificCharacterSet, "ISO_IR 192")
			break
		}
	}
	var b bytes.Buffer
	if err := dcm.WriteDataset(&b, ds, ts); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return send(b.Bytes())
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return utf8.Valid(b)
}

// Retrieve resolves a C-MOVE or C-GET identifier to instances within the
// caller's scope; the dimse stack sends them.
func (s *Service) Retrieve(ctx context.Context, req *dimse.RetrieveRequest) ([]dimse.Instance, error) {
	c := callerOf(req.Assoc)
	ds, err := decodeIdentifier(req.Identifier, req.TransferSyntaxUID)
	if err != nil {
		return nil, err
	}
	if c.scope.Empty() {
		return nil, nil
	}
	level, err := query.ParseLevel(ds.Str(dcm.TagQueryRetrieveLevel))
	if err != nil {
		return nil, &dimse.StatusError{Status: dimse.StatusDataSetDoesNotMatchSOPClass, Comment: clip(err.Error())}
	}
	t := query.Target{StudyUID: strings.Join(ds.Strs(dcm.TagStudyInstanceUID), `\`)}
	if level >= query.Series {
		t.SeriesUID = strings.Join(ds.Strs(dcm.TagSeriesInstanceUID), `\`)
	}
	if level >= query.Image {
		t.SOPInstanceUID = strings.Join(ds.Strs(dcm.TagSOPInstanceUID), `\`)
	}
	if level == query.Patient {
		pid := ds.Str(dcm.TagPatientID)
		if pid == "" {
			return nil, &dimse.StatusError{Status: dimse.StatusDataSetDoesNotMatchSOPClass, Comment: "PATIENT level needs a Patient ID"}
		}
		res, err := s.opt.Query.Find(ctx, query.Query{Level: query.Study, Match: map[dcm.Tag]string{dcm.TagPatientID: pid}, ReturnOnly: true, Scope: c.scope})
		if err != nil {
			return nil, err
		}
		var uids []string
		for _, st := range res.Datasets {
			uids = append(uids, st.Str(dcm.TagStudyInstanceUID))
		}
		if len(uids) == 0 {
			return nil, nil
		}
		t.StudyUID = strings.Join(uids, `\`)
	}
	if t.StudyUID == "" && t.SeriesUID == "" && t.SOPInstanceUID == "" {
		return nil, &dimse.StatusError{Status: dimse.StatusDataSetDoesNotMatchSOPClass, Comment: "no unique key to retrieve"}
	}
	insts, err := s.opt.Query.Instances(ctx, c.scope, t)
	if err != nil {
		return nil, err
	}
	out := make([]dimse.Instance, len(insts))
	for i := range insts {
		in := insts[i]
		out[i] = dimse.Instance{SOPClassUID: in.SOPClassUID, SOPInstanceUID: in.SOPInstanceUID, TransferSyntaxUID: in.TransferSyntax,
			Open: func() (io.ReadCloser, error) { return s.openDataset(ctx, &in) }}
	}
	s.log.Info("retrieve", "calling", c.ae, "level", level.String(), "instances", len(out), "destination", req.MoveDestination)
	studies := map[string]bool{}
	var uids []string
	for _, in := range insts {
		if !studies[in.StudyUID] {
			studies[in.StudyUID] = true
			uids = append(uids, in.StudyUID)
		}
	}
	peer := req.MoveDestination
	if peer == "" {
		peer = c.ae // C-GET: back to the requester
	}
	s.auditRead(ctx, audit.SendEvent(c.actor(), peer, "", "", uids...))
	if c.principal != nil && s.opt.GrantUse != nil && len(c.scope.Studies) > 0 {
		for _, uid := range uids {
			// Every retrieve under a grant is recorded as such, as over HTTP.
			if how := s.opt.GrantUse(ctx, c.principal, uid); how != "" {
				ev := audit.SendEvent(c.actor(), peer, "", "", uid)
				ev.EventType, ev.Detail = audit.UseOfRestrictedFunction, how+": DIMSE retrieve"
				s.auditRead(ctx, ev)
			}
		}
	}
	return out, nil
}

// openDataset opens a stored Part 10 file positioned at its data set: DIMSE
// carries data sets without the meta header.
func (s *Service) openDataset(ctx context.Context, in *query.Instance) (io.ReadCloser, error) {
	o, err := s.opt.Archive.Open(ctx, in.Ref())
	if err != nil {
		return nil, err
	}
	_, off, err := dcm.ReadHeader(o)
	if err == nil {
		_, err = o.Seek(off, io.SeekStart)
	}
	if err != nil {
		o.Close()
		return nil, fmt.Errorf("open instance: %w", err)
	}
	if in.TransferSyntax == dcm.DeflatedExplicitVRLittleEndian && (o.Size()-off)%2 == 1 {
		// PS3.5 A.5: a deflated data set is padded to even length with a
		// NUL on the wire; some writers store it unpadded.
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(o, bytes.NewReader([]byte{0})), o}, nil
	}
	return o, nil
}
