package dicomweb

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"syscall"

	"lightbox/internal/archive"
	"lightbox/internal/dcm"
	"lightbox/internal/query"
)

// STOW-RS failure reasons (PS3.18 Table 10.5.3-2 / PS3.4 Annex B).
const (
	failOutOfResources   = 0xA700
	failSOPClassMismatch = 0xA900
	failCannotUnderstand = 0xC000
	failProcessing       = 0x0110
	failWrongStudy       = 0xC122
	failNotAuthorized    = 0x0124 // the patient belongs to another facility
)

const (
	tagWarningReason dcm.Tag = 0x00081196
	// Error Comment (PS3.7): DIMSE's free-text reason, as dcm4chee adds it
	// to failed STOW-RS items, so a sender learns why without our logs.
	tagErrorComment dcm.Tag = 0x00000902
)

// storeFacility applies the facility rule: a caller whose scope names one
// facility stores into it; ?facility=X picks X when the scope allows it; a
// caller with several facilities must name one; an all-facility caller
// without the parameter lets the archive attribute the instance (sender,
// then Institution Name, then UNKNOWN).
func storeFacility(r *http.Request, scope query.Scope) (string, int, error) {
	if f := r.URL.Query().Get("facility"); f != "" {
		if !scope.AllowsFacility(f) {
			return "", http.StatusForbidden, errors.New("the caller may not store studies of facility " + f)
		}
		return f, 0, nil
	}
	switch {
	case len(scope.Facilities) == 1:
		return scope.Facilities[0], 0, nil
	case scope.All:
		return "", 0, nil
	case len(scope.Facilities) == 0:
		return "", http.StatusForbidden, errors.New("the caller may not store into any facility")
	}
	return "", http.StatusBadRequest, errors.New("the caller has several facilities: name one with ?facility=")
}

// parseStowType checks a STOW-RS request's Content-Type and returns the
// multipart boundary.
func parseStowType(ct string) (string, int, error) {
	typ, params, err := mime.ParseMediaType(ct)
	if err != nil {
		typ, params, err = mime.ParseMediaType(quoteParams(ct))
	}
	if err != nil || !strings.EqualFold(typ, "multipart/related") {
		return "", http.StatusUnsupportedMediaType, errors.New(`STOW-RS takes multipart/related; type="application/dicom"`)
	}
	if pt := strings.ToLower(params["type"]); pt != "" && pt != "application/dicom" {
		return "", http.StatusUnsupportedMediaType, fmt.Errorf("part type %q is not supported; send application/dicom", pt)
	}
	b := params["boundary"]
	if b == "" || len(b) > 70 {
		return "", http.StatusBadRequest, errors.New("multipart/related without a valid boundary")
	}
	return b, 0, nil
}

type stowResult struct {
	stored, failed []*dcm.Dataset
	studies        map[string]bool
}

func (s *stowResult) fail(class, uid string, reason uint16, comment string) {
	it := &dcm.Dataset{}
	if comment != "" {
		if len(comment) > 64 { // LO
			comment = comment[:64]
		}
		it.Put(dcm.StrElement(tagErrorComment, "LO", comment))
	}
	if class != "" {
		it.SetStr(dcm.TagReferencedSOPClassUID, class)
	}
	if uid != "" {
		it.SetStr(dcm.TagReferencedSOPInstanceUID, uid)
	}
	it.SetUint16(dcm.TagFailureReason, reason)
	s.failed = append(s.failed, it)
}

// failureReason maps a Store error to a STOW-RS failure reason.
// Refusals the archive's pre-index check returns: nothing is stored.
var (
	errWrongStudy = errors.New("the instance belongs to another study than the request names")
	errOutOfScope = errors.New("the instance's study belongs to a facility outside the caller's scope")
)

func failureReason(err error) (uint16, string) {
	var ie *archive.InputError
	switch {
	case errors.Is(err, errWrongStudy):
		return failWrongStudy, errWrongStudy.Error()
	case errors.Is(err, errOutOfScope):
		return failProcessing, errOutOfScope.Error()
	case errors.Is(err, archive.ErrForeignPatient):
		return failNotAuthorized, "the patient belongs to another facility's namespace"
	case errors.Is(err, archive.ErrDuplicateRejected):
		return failProcessing, "already stored with different content"
	case errors.As(err, &ie) && (ie.Code == archive.InputMissingAttribute || ie.Code == archive.InputCommandMismatch):
		return failSOPClassMismatch, ie.Reason
	case errors.As(err, &ie):
		return failCannotUnderstand, ie.Reason
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return failOutOfResources, "out of storage space; retry later"
	}
	return failProcessing, "could not store the instance; retry later"
}

// stowWindow is how many instances of one request may be committing while
// the handler reads the next parts.
const stowWindow = 8

// store serves STOW-RS: each part streams into the archive as it arrives.
func (h *Handler) store(w http.ResponseWriter, r *http.Request, scope query.Scope) {
	boundary, code, err := parseStowType(r.Header.Get("Content-Type"))
	if err != nil {
		h.fail(w, r, code, err.Error())
		return
	}
	facility, code, err := storeFacility(r, scope)
	if err != nil {
		h.fail(w, r, code, err.Error())
		return
	}
	ctx := r.Context()
	study := r.PathValue("study")
	if study != "" {
		if !dcm.ValidUID(study) {
			h.fail(w, r, http.StatusBadRequest, "invalid Study Instance UID in the path")
			return
		}
		if f, exists, err := h.q.StudyFacility(ctx, study); err != nil {
			h.internal(w, r, err)
			return
		} else if exists && !scope.AllowsFacility(f) {
			// Indistinguishable from any other refusal to write there.
			h.fail(w, r, http.StatusForbidden, "the caller may not store into this study")
			return
		}
	}
	res := &stowResult{studies: map[string]bool{}}
	failed := func(out *archive.Result, err error) {
		class, uid := "", ""
		if out != nil {
			class, uid = out.SOPClassUID, out.SOPInstanceUID
		}
		reason, comment := failureReason(err)
		h.log.Info("dicomweb: STOW-RS instance failed", "reason", fmt.Sprintf("0x%04X", reason), "error", err)
		res.fail(class, uid, reason, comment)
	}
	// settle records one instance's outcome once it is durable (or not).
	settle := func(wait func() (*archive.Result, error)) {
		out, err := wait()
		if err != nil {
			failed(out, err)
			return
		}
		stFacility := out.FacilityID
		if stFacility == "" { // duplicates do not report it
			if f, _, err := h.q.StudyFacility(ctx, out.StudyUID); err == nil {
				stFacility = f
			}
		}
		// Identical duplicates return before the archive's check runs;
		// they change nothing, but must not be acknowledged across scopes.
		switch {
		case study != "" && out.StudyUID != study:
			h.log.Warn("dicomweb: STOW-RS instance of another study", "sop_class", out.SOPClassUID)
			res.fail(out.SOPClassUID, out.SOPInstanceUID, failWrongStudy, errWrongStudy.Error())
			return
		case !scope.AllowsFacility(stFacility):
			h.log.Warn("dicomweb: STOW-RS instance belongs to a study outside the caller's scope", "sop_class", out.SOPClassUID)
			res.fail(out.SOPClassUID, out.SOPInstanceUID, failProcessing, errOutOfScope.Error())
			return
		}
		it := &dcm.Dataset{}
		it.SetStr(dcm.TagReferencedSOPClassUID, out.SOPClassUID)
		it.SetStr(dcm.TagReferencedSOPInstanceUID, out.SOPInstanceUID)
		it.Put(dcm.StrElement(query.TagRetrieveURL, "UR", h.base(r)+"/studies/"+out.StudyUID+"/series/"+out.SeriesUID+"/instances/"+out.SOPInstanceUID))
		if out.Outcome == archive.KeptFirst || out.Outcome == archive.Quarantined {
			// A different instance with this UID was kept (PS3.18: coerced/
			// not stored as sent). 0xB000: "coercion of data elements".
			it.SetUint16(tagWarningReason, 0xB000)
		}
		res.stored = append(res.stored, it)
		res.studies[out.StudyUID] = true
	}
	// Up to stowWindow instances commit while the next parts are read.
	var pending []func() (*archive.Result, error)
	mr := newPartReader(r.Body, boundary)
	parts := 0
	var bodyErr error
	cutInPart := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			bodyErr = err
			break
		}
		parts++
		if ct := p.Header.Get("Content-Type"); ct != "" {
			if pt, _, err := mime.ParseMediaType(ct); err != nil || !strings.EqualFold(pt, "application/dicom") {
				res.fail("", "", failCannotUnderstand, "part is "+ct+"; STOW-RS takes application/dicom")
				_, _ = io.Copy(io.Discard, p)
				continue
			}
		}
		wait, out, err := h.a.StoreAsync(ctx, p, archive.Source{Facility: facility, Remote: r.RemoteAddr, Check: func(studyUID, studyFacility string) error {
			if study != "" && studyUID != study {
				return errWrongStudy
			}
			if !scope.AllowsFacility(studyFacility) {
				return errOutOfScope
			}
			return nil
		}})
		if err != nil {
			failed(out, err)
			if ctx.Err() != nil {
				bodyErr = ctx.Err()
				break
			}
			// Skip the rest of a part the parser refused.
			if _, derr := io.Copy(io.Discard, p); derr != nil {
				bodyErr, cutInPart = derr, true
				break
			}
			continue
		}
		pending = append(pending, wait)
		if len(pending) >= stowWindow {
			settle(pending[0])
			pending = pending[1:]
		}
	}
	for _, wait := range pending {
		settle(wait)
	}
	if bodyErr != nil {
		if parts == 0 && len(res.stored) == 0 && len(res.failed) == 0 {
			// The parser's own text ("bufio: buffer full") means nothing to a client.
			h.fail(w, r, http.StatusBadRequest, "malformed multipart body: no part delimited by the boundary the Content-Type names")
			return
		}
		// A cut-off body: the complete parts are stored; the rest failed.
		h.log.Info("dicomweb: STOW-RS body ended early", "parts", parts, "error", bodyErr)
		if !cutInPart {
			res.fail("", "", failProcessing, "the request body ended before its closing boundary")
		}
	}
	if len(res.stored) == 0 && len(res.failed) == 0 {
		h.fail(w, r, http.StatusBadRequest, "the multipart body holds no parts")
		return
	}
	resp := &dcm.Dataset{}
	if len(res.studies) == 1 {
		for s := range res.studies {
			resp.Put(dcm.StrElement(query.TagRetrieveURL, "UR", h.base(r)+"/studies/"+s))
		}
	}
	if len(res.stored) > 0 {
		resp.SetSeq(dcm.TagReferencedSOPSequence, res.stored...)
	}
	if len(res.failed) > 0 {
		resp.SetSeq(dcm.TagFailedSOPSequence, res.failed...)
	}
	status := http.StatusOK
	switch {
	case len(res.stored) == 0:
		status = http.StatusConflict
	case len(res.failed) > 0:
		status = http.StatusAccepted
	case slices.ContainsFunc(res.stored, func(d *dcm.Dataset) bool { return d.Has(tagWarningReason) }):
		status = http.StatusAccepted
	}
	h.log.Info("dicomweb: STOW-RS", "stored", len(res.stored), "failed", len(res.failed), "status", status)
	w.Header().Set("Content-Type", "application/dicom+json")
	out, closeBody := body(w, r, false)
	w.WriteHeader(status)
	_, _ = out.Write(dcm.MarshalJSON(resp, dcm.JSONOptions{SkipMeta: true}))
	_ = closeBody()
}
