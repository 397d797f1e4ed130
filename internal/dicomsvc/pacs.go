package dicomsvc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
	"lightbox/internal/priors"
)

// PACS runs the priors' DICOM operations on a facility's PACS (it is
// internal/priors' Remote): STUDY- and SERIES-level C-FIND (Study Root),
// and retrieval of a study with C-MOVE to Lightbox's own AE title (the
// PACS must know it; its C-STOREs arrive as the PACS's registered AE, so
// in the facility's patient namespace) or with C-GET on the same
// association.
type PACS struct{ s *Service }

// PACS returns the priors' Remote.
func (s *Service) PACS() PACS { return PACS{s} }

var _ priors.Remote = PACS{}

func (p PACS) dial(ctx context.Context, src priors.Source, contexts []dimse.ContextProposal) (*dimse.Association, error) {
	var cfg *tls.Config
	if src.TLS {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		if p.s.opt.OutboundTLS != nil {
			cfg = p.s.opt.OutboundTLS.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = src.Host
		}
	}
	a, err := dimse.Dial(ctx, net.JoinHostPort(src.Host, strconv.Itoa(src.Port)), p.s.opt.AETitle, src.AETitle, contexts,
		&dimse.DialOptions{TLSConfig: cfg, Logger: p.s.log})
	if err != nil {
		return nil, fmt.Errorf("association to the facility PACS %s: %w", src.AETitle, err)
	}
	return a, nil
}

func release(a *dimse.Association) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = a.Release(ctx)
}

// find runs one Study Root C-FIND and decodes each match.
func (p PACS) find(ctx context.Context, src priors.Source, ident *dcm.Dataset, fn func(*dcm.Dataset)) error {
	a, err := p.dial(ctx, src, []dimse.ContextProposal{{AbstractSyntax: dimse.StudyRootQRFind}})
	if err != nil {
		return err
	}
	defer release(a)
	ts, ok := a.TransferSyntax(dimse.StudyRootQRFind)
	if !ok {
		return &dimse.NoContextError{SOPClassUID: dimse.StudyRootQRFind}
	}
	var b bytes.Buffer
	if err := dcm.WriteDataset(&b, ident, ts); err != nil {
		return err
	}
	status, err := a.Find(ctx, dimse.StudyRootQRFind, b.Bytes(), func(id []byte) error {
		m, err := dcm.ReadDataset(bytes.NewReader(id), ts, dcm.ReadOptions{})
		if err != nil {
			return err
		}
		fn(m)
		return nil
	})
	if err != nil {
		return err
	}
	if dimse.ClassifyStatus(status) != dimse.KindSuccess {
		return &dimse.StatusError{Status: status}
	}
	return nil
}

// FindStudies asks the PACS for a patient's studies.
func (p PACS) FindStudies(ctx context.Context, src priors.Source, q priors.Query) ([]priors.Found, error) {
	ident := &dcm.Dataset{}
	ident.SetStr(dcm.TagQueryRetrieveLevel, "STUDY")
	for _, kv := range []struct {
		tag dcm.Tag
		v   string
	}{
		{dcm.TagPatientID, q.PatientID}, {dcm.TagIssuerOfPatientID, q.Issuer}, {dcm.TagPatientName, q.Name}, {dcm.TagPatientBirthDate, q.BirthDate},
		{dcm.TagStudyInstanceUID, ""}, {dcm.TagStudyDate, ""}, {dcm.TagStudyTime, ""}, {dcm.TagModalitiesInStudy, ""}, {dcm.TagStudyDescription, ""},
	} {
		ident.SetStr(kv.tag, kv.v)
	}
	var out []priors.Found
	err := p.find(ctx, src, ident, func(m *dcm.Dataset) {
		out = append(out, priors.Found{
			StudyUID: m.Str(dcm.TagStudyInstanceUID), StudyDate: m.Str(dcm.TagStudyDate), StudyTime: m.Str(dcm.TagStudyTime),
			Modalities: m.Strs(dcm.TagModalitiesInStudy), Description: m.Str(dcm.TagStudyDescription),
			Issuer: m.Str(dcm.TagIssuerOfPatientID), PatientID: m.Str(dcm.TagPatientID),
			PatientName: m.Str(dcm.TagPatientName), BirthDate: m.Str(dcm.TagPatientBirthDate),
		})
	})
	return out, err
}

// BodyParts returns the Body Part Examined of each series of a study.
func (p PACS) BodyParts(ctx context.Context, src priors.Source, studyUID string) ([]string, error) {
	ident := studyIdentifier("SERIES", studyUID, dcm.TagSeriesInstanceUID, dcm.TagBodyPartExamined)
	var out []string
	err := p.find(ctx, src, ident, func(m *dcm.Dataset) {
		if b := strings.TrimSpace(m.Str(dcm.TagBodyPartExamined)); b != "" {
			out = append(out, b)
		}
	})
	return out, err
}

// Retrieve brings one study from the PACS into the archive.
func (p PACS) Retrieve(ctx context.Context, src priors.Source, studyUID string) (int, error) {
	class := dimse.StudyRootQRMove
	props := []dimse.ContextProposal{{AbstractSyntax: class}}
	if src.Retrieve == priors.Get {
		// The PACS stores on this association, so its SOP classes must be
		// proposed with us as SCP: those of the study (an IMAGE-level
		// C-FIND), each with the syntaxes Lightbox stores as received.
		class = dimse.StudyRootQRGet
		props = []dimse.ContextProposal{{AbstractSyntax: class}}
		classes, err := p.sopClasses(ctx, src, studyUID)
		if err != nil {
			return 0, err
		}
		for _, uid := range classes {
			if len(props) < 128 {
				props = append(props, dimse.ContextProposal{AbstractSyntax: uid, SCPRole: true, TransferSyntaxes: getSyntaxes})
			}
		}
	}
	a, err := p.dial(ctx, src, props)
	if err != nil {
		return 0, err
	}
	defer release(a)
	ts, ok := a.TransferSyntax(class)
	if !ok {
		return 0, &dimse.NoContextError{SOPClassUID: class}
	}
	ident := studyIdentifier("STUDY", studyUID)
	var b bytes.Buffer
	if err := dcm.WriteDataset(&b, ident, ts); err != nil {
		return 0, err
	}
	var res dimse.RetrieveResult
	if src.Retrieve == priors.Get {
		from := archive.Source{AETitle: src.AETitle, Facility: src.FacilityID}
		res, err = a.Get(ctx, class, b.Bytes(), dimse.StoreFunc(func(ctx context.Context, req *dimse.StoreRequest) (uint16, string) {
			_, err := p.s.opt.Archive.StoreDataset(ctx, req.Data, req.SOPClassUID, req.SOPInstanceUID, req.TransferSyntaxUID, from)
			return storeStatus(err)
		}), nil)
	} else {
		res, err = a.Move(ctx, class, p.s.opt.AETitle, b.Bytes(), nil)
	}
	n := int(res.Completed) + int(res.Warning)
	if err != nil {
		return n, err
	}
	if dimse.IsFailure(res.Status) || (res.Failed > 0 && n == 0) {
		return n, errors.Join(&dimse.StatusError{Status: res.Status, Comment: res.ErrorComment}, fmt.Errorf("%d sub-operations failed", res.Failed))
	}
	return n, nil
}

// getSyntaxes are proposed for the storage contexts of a C-GET: the
// instances come as the PACS holds them when it can (Lightbox stores them
// as received), else uncompressed.
var getSyntaxes = []string{dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian, dcm.JPEGLosslessSV1, dcm.JPEGLossless,
	dcm.JPEGBaseline8Bit, dcm.JPEGExtended12Bit, dcm.JPEGLSLossless, dcm.JPEGLSNearLossless, dcm.JPEG2000Lossless, dcm.JPEG2000,
	dcm.RLELossless, dcm.DeflatedExplicitVRLittleEndian}

// sopClasses lists the SOP classes of a study's instances in the PACS.
func (p PACS) sopClasses(ctx context.Context, src priors.Source, studyUID string) ([]string, error) {
	ident := studyIdentifier("IMAGE", studyUID, dcm.TagSeriesInstanceUID, dcm.TagSOPInstanceUID, dcm.TagSOPClassUID)
	seen := map[string]bool{}
	var out []string
	err := p.find(ctx, src, ident, func(m *dcm.Dataset) {
		if c := m.Str(dcm.TagSOPClassUID); c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	})
	if err == nil && len(out) == 0 {
		err = errors.New("the PACS lists no instances of the study")
	}
	return out, err
}

// studyIdentifier is a C-FIND/C-MOVE/C-GET identifier at level within one
// study, asking for the return keys given (empty, PS3.4 C.2.2.1.3).
func studyIdentifier(level, studyUID string, keys ...dcm.Tag) *dcm.Dataset {
	ident := &dcm.Dataset{}
	ident.SetStr(dcm.TagQueryRetrieveLevel, level)
	ident.SetStr(dcm.TagStudyInstanceUID, studyUID)
	for _, k := range keys {
		ident.SetStr(k)
	}
	return ident
}
