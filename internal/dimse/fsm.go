package dimse

import (
	"fmt"
	"sync"
)

// The DICOM upper layer state machine of PS3.8 9.2, kept as a table.
// The Association performs the side effects of the returned action (sending
// PDUs, closing the transport, signalling the local user); the machine
// itself only validates events and tracks the state.

type state uint8

const (
	sta1      state = iota + 1 // Idle
	sta2                       // Transport open, awaiting A-ASSOCIATE-RQ
	sta3                       // Awaiting local A-ASSOCIATE response
	sta4                       // Awaiting transport connection to complete
	sta5                       // Awaiting A-ASSOCIATE-AC or -RJ
	sta6                       // Association established
	sta7                       // Awaiting A-RELEASE-RP
	sta8                       // Awaiting local A-RELEASE response
	sta9                       // Release collision requestor: awaiting local A-RELEASE response
	sta10                      // Release collision acceptor: awaiting A-RELEASE-RP
	sta11                      // Release collision requestor: awaiting A-RELEASE-RP
	sta12                      // Release collision acceptor: awaiting local A-RELEASE response
	sta13                      // Awaiting transport close
	numStates       = 13

	staCollision state = 0xFE // resolved: sta9 for the requestor, sta10 for the acceptor
)

func (s state) String() string { return fmt.Sprintf("Sta%d", s) }

type event uint8

const (
	evt1      event = iota + 1 // A-ASSOCIATE request (local)
	evt2                       // Transport connect confirm
	evt3                       // A-ASSOCIATE-AC received
	evt4                       // A-ASSOCIATE-RJ received
	evt5                       // Transport connection indication
	evt6                       // A-ASSOCIATE-RQ received
	evt7                       // A-ASSOCIATE response accept (local)
	evt8                       // A-ASSOCIATE response reject (local)
	evt9                       // P-DATA request (local)
	evt10                      // P-DATA-TF received
	evt11                      // A-RELEASE request (local)
	evt12                      // A-RELEASE-RQ received
	evt13                      // A-RELEASE-RP received
	evt14                      // A-RELEASE response (local)
	evt15                      // A-ABORT request (local)
	evt16                      // A-ABORT received
	evt17                      // Transport connection closed
	evt18                      // ARTIM timer expired
	evt19                      // Unrecognized or invalid PDU received
	numEvents = 19
)

func (e event) String() string { return fmt.Sprintf("Evt%d", e) }

type action uint8

const (
	actNone action = iota
	ae1            // issue transport connect
	ae2            // send A-ASSOCIATE-RQ
	ae3            // A-ASSOCIATE confirmation (accept)
	ae4            // A-ASSOCIATE confirmation (reject), close transport
	ae5            // transport connection response, start ARTIM
	ae6            // stop ARTIM, A-ASSOCIATE indication
	ae7            // send A-ASSOCIATE-AC
	ae8            // send A-ASSOCIATE-RJ, start ARTIM
	dt1            // send P-DATA-TF
	dt2            // P-DATA indication
	ar1            // send A-RELEASE-RQ
	ar2            // A-RELEASE indication
	ar3            // A-RELEASE confirmation, close transport
	ar4            // send A-RELEASE-RP, start ARTIM
	ar5            // stop ARTIM
	ar6            // P-DATA indication (awaiting release RP)
	ar7            // send P-DATA-TF (after release indication)
	ar8            // A-RELEASE indication (collision)
	ar9            // send A-RELEASE-RP (collision, requestor)
	ar10           // A-RELEASE confirmation (collision, acceptor)
	aa1            // send A-ABORT (service-user), start ARTIM
	aa2            // stop ARTIM, close transport
	aa3            // A-ABORT / A-P-ABORT indication, close transport
	aa4            // A-P-ABORT indication
	aa5            // stop ARTIM
	aa6            // ignore PDU
	aa7            // send A-ABORT
	aa8            // send A-ABORT (service-provider), A-P-ABORT indication, start ARTIM
)

var actionNames = [...]string{"none", "AE-1", "AE-2", "AE-3", "AE-4", "AE-5", "AE-6", "AE-7", "AE-8",
	"DT-1", "DT-2", "AR-1", "AR-2", "AR-3", "AR-4", "AR-5", "AR-6", "AR-7", "AR-8", "AR-9", "AR-10",
	"AA-1", "AA-2", "AA-3", "AA-4", "AA-5", "AA-6", "AA-7", "AA-8"}

func (a action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

type transition struct {
	act  action
	next state
}

// fsmTable is PS3.8 Table 9-10; zero entries are invalid (event not
// applicable in that state). It is never modified.
var fsmTable = func() (t [numEvents + 1][numStates + 1]transition) {
	set := func(e event, act action, next state, states ...state) {
		for _, s := range states {
			t[e][s] = transition{act, next}
		}
	}
	midAssoc := []state{sta5, sta6, sta7, sta8, sta9, sta10, sta11, sta12}
	// unexpected fills the rows of a PDU that arrives out of place:
	// AA-1 while awaiting the A-ASSOCIATE-RQ (Sta2), AA-8 in the states
	// listed and AA-6 once the association is closing (Sta13).
	unexpected := func(e event, aa8In ...state) {
		set(e, aa1, sta13, sta2)
		set(e, aa8, sta13, aa8In...)
		set(e, aa6, sta13, sta13)
	}
	// Association establishment.
	set(evt1, ae1, sta4, sta1)
	set(evt2, ae2, sta5, sta4)
	unexpected(evt3, sta3, sta6, sta7, sta8, sta9, sta10, sta11, sta12)
	set(evt3, ae3, sta6, sta5)
	unexpected(evt4, sta3, sta6, sta7, sta8, sta9, sta10, sta11, sta12)
	set(evt4, ae4, sta1, sta5)
	set(evt5, ae5, sta2, sta1)
	set(evt6, ae6, sta3, sta2)
	set(evt6, aa8, sta13, append([]state{sta3}, midAssoc...)...)
	set(evt6, aa7, sta13, sta13)
	set(evt7, ae7, sta6, sta3)
	set(evt8, ae8, sta13, sta3)
	// Data transfer.
	set(evt9, dt1, sta6, sta6)
	set(evt9, ar7, sta8, sta8)
	unexpected(evt10, sta3, sta5, sta8, sta9, sta10, sta11, sta12)
	set(evt10, dt2, sta6, sta6)
	set(evt10, ar6, sta7, sta7)
	// Release.
	set(evt11, ar1, sta7, sta6)
	unexpected(evt12, sta3, sta5, sta8, sta9, sta10, sta11, sta12)
	set(evt12, ar2, sta8, sta6)
	set(evt12, ar8, staCollision, sta7)
	unexpected(evt13, sta3, sta5, sta6, sta8, sta9, sta12)
	set(evt13, ar3, sta1, sta7, sta11)
	set(evt13, ar10, sta12, sta10)
	set(evt14, ar4, sta13, sta8, sta12)
	set(evt14, ar9, sta11, sta9)
	// Abort.
	set(evt15, aa1, sta13, append([]state{sta3}, midAssoc...)...)
	set(evt15, aa2, sta1, sta4)
	set(evt16, aa2, sta1, sta2, sta13)
	set(evt16, aa3, sta1, append([]state{sta3}, midAssoc...)...)
	set(evt17, aa5, sta1, sta2)
	set(evt17, aa4, sta1, append([]state{sta3, sta4}, midAssoc...)...)
	set(evt17, ar5, sta1, sta13)
	set(evt18, aa2, sta1, sta2, sta13)
	set(evt19, aa1, sta13, sta2)
	set(evt19, aa8, sta13, append([]state{sta3}, midAssoc...)...)
	set(evt19, aa7, sta13, sta13)
	return t
}()

// fsm is one association's state machine.
type fsm struct {
	mu        sync.Mutex
	st        state
	requestor bool
}

func newFSM(requestor bool) *fsm { return &fsm{st: sta1, requestor: requestor} }

// step applies event e and returns the action to perform. An event that is
// not applicable in the current state is an error and changes nothing.
func (m *fsm) step(e event) (action, state, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e < 1 || e > numEvents {
		return actNone, m.st, fmt.Errorf("dimse: fsm: unknown event %d", e)
	}
	tr := fsmTable[e][m.st]
	if tr.act == actNone {
		return actNone, m.st, fmt.Errorf("dimse: fsm: %v not valid in %v", e, m.st)
	}
	next := tr.next
	if next == staCollision {
		next = sta10
		if m.requestor {
			next = sta9
		}
	}
	m.st = next
	return tr.act, next, nil
}

func (m *fsm) state() state {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st
}
