package dimse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Handler is anything registered in a Mux for a SOP class. It must
// implement at least one of StoreHandler, FindHandler, RetrieveHandler or
// NHandler; the operation received selects which one is used.
type Handler any

// StoreRequest is one incoming C-STORE.
type StoreRequest struct {
	Assoc                   *AssociationInfo
	MessageID               uint16
	Priority                uint16
	SOPClassUID             string
	SOPInstanceUID          string
	TransferSyntaxUID       string // negotiated for the presentation context
	MoveOriginatorAETitle   string // set when the store is a C-MOVE sub-operation
	MoveOriginatorMessageID uint16
	// Data streams the data set (no Part 10 meta information) straight
	// from the P-DATA PDVs: each Read is filled from the connection (read
	// into large buffers: a PDV's bytes go straight into them). A read
	// error means the association failed and the instance must not be
	// kept. Whatever the handler leaves unread is drained by the stack
	// before the response is sent.
	Data io.Reader
}

// StoreHandler handles C-STORE. It returns the response status (see the
// Status* constants) and an optional error comment (no patient data).
type StoreHandler interface {
	Store(ctx context.Context, req *StoreRequest) (status uint16, errorComment string)
}

// StoreFunc adapts a function to StoreHandler.
type StoreFunc func(ctx context.Context, req *StoreRequest) (uint16, string)

// Store calls f.
func (f StoreFunc) Store(ctx context.Context, req *StoreRequest) (uint16, string) { return f(ctx, req) }

// FindRequest is one incoming C-FIND.
type FindRequest struct {
	Assoc             *AssociationInfo
	MessageID         uint16
	Priority          uint16
	SOPClassUID       string // information model (Patient Root, Study Root, MWL, ...)
	TransferSyntaxUID string // of Identifier and of the identifiers to return
	Identifier        []byte // encoded data set, not interpreted by dimse
	// OptionalKeysUnsupported makes the following pending responses use
	// status 0xFF01 instead of 0xFF00.
	OptionalKeysUnsupported bool
}

// FindHandler handles C-FIND. For each match it calls send with the encoded
// identifier (in req.TransferSyntaxUID); each call becomes a pending
// response. send returns an error once the peer cancelled (C-CANCEL) or
// the association failed; the handler should then return. ctx is cancelled
// on C-CANCEL too. The returned error selects the final status: nil gives
// Success (Cancel when cancelled), a *StatusError gives its status (e.g.
// 0xA900, 0xA700), any other error gives 0xC000.
type FindHandler interface {
	Find(ctx context.Context, req *FindRequest, send func(identifier []byte) error) error
}

// FindFunc adapts a function to FindHandler.
type FindFunc func(ctx context.Context, req *FindRequest, send func(identifier []byte) error) error

// Find calls f.
func (f FindFunc) Find(ctx context.Context, req *FindRequest, send func([]byte) error) error {
	return f(ctx, req, send)
}

// RetrieveRequest is one incoming C-MOVE or C-GET.
type RetrieveRequest struct {
	Assoc             *AssociationInfo
	Command           CommandField // CMoveRQ or CGetRQ
	MessageID         uint16
	Priority          uint16
	SOPClassUID       string
	TransferSyntaxUID string
	Identifier        []byte
	MoveDestination   string // C-MOVE only
}

// Instance is one SOP instance to send in a C-MOVE/C-GET sub-operation.
type Instance struct {
	SOPClassUID       string
	SOPInstanceUID    string
	TransferSyntaxUID string // of the bytes Open returns
	// Open returns the data set (no Part 10 meta information).
	Open func() (io.ReadCloser, error)
}

// RetrieveHandler resolves the identifier of a C-MOVE/C-GET into the
// instances to send. A *StatusError selects the failure status (0xA900
// identifier does not match SOP class, 0xA701 out of resources, ...); any
// other error gives 0xC000.
type RetrieveHandler interface {
	Retrieve(ctx context.Context, req *RetrieveRequest) ([]Instance, error)
}

// RetrieveFunc adapts a function to RetrieveHandler.
type RetrieveFunc func(ctx context.Context, req *RetrieveRequest) ([]Instance, error)

// Retrieve calls f.
func (f RetrieveFunc) Retrieve(ctx context.Context, req *RetrieveRequest) ([]Instance, error) {
	return f(ctx, req)
}

// NRequest is one incoming N-CREATE, N-SET, N-ACTION or N-EVENT-REPORT.
type NRequest struct {
	Assoc                   *AssociationInfo
	Command                 CommandField // NCreateRQ, NSetRQ, NActionRQ, NEventReportRQ
	MessageID               uint16
	SOPClassUID             string
	SOPInstanceUID          string // may be empty for N-CREATE (the SCP assigns)
	TransferSyntaxUID       string
	ActionTypeID            uint16 // N-ACTION
	EventTypeID             uint16 // N-EVENT-REPORT
	AttributeIdentifierList []uint32
	Data                    []byte // encoded data set, nil when absent
}

// NResponse is the answer to an NRequest.
type NResponse struct {
	Status       uint16
	ErrorComment string
	// SOPInstanceUID is returned as Affected SOP Instance UID (required
	// for N-CREATE when the request had none).
	SOPInstanceUID string
	// Data is an optional response data set in the request's transfer
	// syntax.
	Data []byte
	// After, when set, runs in its own goroutine once the response has
	// been sent (or could not be), with the association the request came
	// on, which may since have ended. The Storage Commitment SCP sends its
	// N-EVENT-REPORT from here (PS3.4 J.3.3).
	After func(a *Association)
}

// NHandler handles the normalized operations (MPPS N-CREATE/N-SET,
// Storage Commitment N-ACTION/N-EVENT-REPORT).
type NHandler interface {
	HandleN(ctx context.Context, req *NRequest) NResponse
}

// NFunc adapts a function to NHandler.
type NFunc func(ctx context.Context, req *NRequest) NResponse

// HandleN calls f.
func (f NFunc) HandleN(ctx context.Context, req *NRequest) NResponse { return f(ctx, req) }

// Destination is where an AE title can be reached.
type Destination struct {
	Addr      string      // host:port
	TLSConfig *tls.Config // nil: plain TCP
}

// AEResolver resolves a C-MOVE destination AE title. It returns
// ErrUnknownAE (or an error wrapping it) for titles it does not know.
type AEResolver interface {
	ResolveAE(ctx context.Context, aeTitle string) (Destination, error)
}

// AEResolverFunc adapts a function to AEResolver.
type AEResolverFunc func(ctx context.Context, aeTitle string) (Destination, error)

// ResolveAE calls f.
func (f AEResolverFunc) ResolveAE(ctx context.Context, ae string) (Destination, error) {
	return f(ctx, ae)
}

// ErrUnknownAE is returned by an AEResolver for an unknown AE title.
var ErrUnknownAE = errors.New("dimse: unknown AE title")

// TranscodeFunc converts a data set from one transfer syntax to another.
// It is supplied by the caller (dimse does not interpret data sets).
type TranscodeFunc func(ctx context.Context, data io.Reader, fromTS, toTS string) (io.Reader, error)

// AcceptPolicy decides whether to accept an association. It returns nil to
// accept or a *RejectError to reject with that result/source/reason; any
// other error rejects permanently with "no reason given". It may set
// info.Principal.
type AcceptPolicy func(ctx context.Context, info *AssociationInfo) error

// Mux routes DIMSE requests to handlers by SOP class UID, like
// http.ServeMux. Verification (C-ECHO) is always supported.
type Mux struct {
	mu sync.RWMutex
	m  map[string]Handler
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{m: map[string]Handler{}} }

// Handle registers h for sopClassUID. It panics when h implements none of
// the handler interfaces.
func (m *Mux) Handle(sopClassUID string, h Handler) {
	switch h.(type) {
	case StoreHandler, FindHandler, RetrieveHandler, NHandler:
	default:
		panic(fmt.Sprintf("dimse: Mux.Handle(%q): handler %T implements no handler interface", sopClassUID, h))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]Handler{}
	}
	m.m[sopClassUID] = h
}

// HandleStorage registers h for every storage SOP class of PS3.4.
func (m *Mux) HandleStorage(h StoreHandler) {
	for _, e := range storageSOPClassTable {
		m.Handle(e.uid, h)
	}
}

func (m *Mux) lookup(uid string) Handler {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.m[uid]
}

func (m *Mux) hasGet() bool {
	if m == nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for uid, h := range m.m {
		if _, ok := h.(RetrieveHandler); ok && isGetSOPClass(uid) {
			return true
		}
	}
	return false
}

func isGetSOPClass(uid string) bool {
	switch uid {
	case PatientRootQRGet, StudyRootQRGet, PatientStudyOnlyQRGet, CompositeInstanceRootGet:
		return true
	}
	return false
}
