package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/cluster"
	"lightbox/internal/model"
)

// Several nodes (Options.Cluster): the engine holds the whole worklist in
// memory and decides in one order, so exactly one node runs it — the
// cluster's leader. Any other node forwards each engine call to it and
// returns its answer (errors included), except Holder, which the
// persisted lease answers; worklist changes reach every node's live
// subscribers over the cluster's events. A new method that feeds or reads
// the engine needs the same: "if s.remote() { return s.forward(…) }" at its
// top and a case in serveCall.

// remote reports whether engine calls must go to another node.
func (s *Service) remote() bool {
	return s.opt.Cluster != nil && !s.opt.Cluster.Leader()
}

// lead runs the engine while this node leads: rebuilt from the database
// each time, since another node decided in between.
func (s *Service) lead(ctx context.Context, ready func()) {
	s.mu.Lock()
	s.eng = assign.NewSafe(assign.New(s.opt.Engine))
	s.open.wrote() // other nodes wrote while this one followed
	s.mu.Unlock()
	for {
		err := s.load(ctx)
		if err == nil {
			break
		}
		s.log.Error("dispatch: load engine", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	ready()
	s.loop(ctx)
}

// call carries the arguments of every forwarded method.
type call struct {
	Study    string          `json:"study,omitempty"`
	Reader   string          `json:"reader,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	By       string          `json:"by,omitempty"`
	Source   string          `json:"source,omitempty"`
	Away     bool            `json:"away,omitempty"`
	At       time.Time       `json:"at,omitzero"`
	Passed   bool            `json:"passed,omitempty"`
	Kind     model.ReadKind  `json:"kind,omitempty"`
	Priority *model.Priority `json:"priority,omitempty"`
	Stroke   bool            `json:"stroke,omitempty"`
	Trauma   bool            `json:"trauma,omitempty"`
	Flags    []string        `json:"flags,omitempty"`
	Doc      *model.Study    `json:"doc,omitempty"`
}

// serveCall runs a forwarded call on the leader.
func (s *Service) serveCall(ctx context.Context, method string, raw json.RawMessage) (any, error) {
	var c call
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("forwarded %s: %w", method, err)
	}
	switch method {
	case "Complete":
		return nil, s.Complete(ctx, c.Study)
	case "Admit":
		if c.Doc == nil {
			return nil, errors.New("forwarded Admit without a study")
		}
		return nil, s.Admit(ctx, c.Doc)
	case "Heartbeat":
		return nil, s.Heartbeat(ctx, c.Reader, c.Away)
	case "DisplayChecked":
		return nil, s.DisplayChecked(ctx, c.Reader, c.At, c.Passed)
	case "Offline":
		return nil, s.Offline(ctx, c.Reader)
	case "Open":
		return nil, s.Open(ctx, c.Study, c.Reader)
	case "Release":
		return nil, s.Release(ctx, c.Study, c.Reader, c.Reason)
	case "Signed":
		return nil, s.Signed(ctx, c.Study, c.Reader, c.Kind)
	case "Reassign":
		return nil, s.Reassign(ctx, c.Study, c.Reader, c.Reason, c.By)
	case "Triage":
		return nil, s.Triage(ctx, c.Study, c.Priority, c.Stroke, c.Trauma, c.Flags, c.Source)
	case "ReaderChanged":
		return nil, s.ReaderChanged(ctx, c.Reader)
	case "ReloadAll":
		return nil, s.ReloadAll(ctx)
	case "FacilitiesChanged":
		return nil, s.FacilitiesChanged(ctx)
	case "Queue":
		return s.Queue(c.Reader), nil
	case "Explain":
		return s.Explain(c.Study)
	case "Stats":
		return s.Stats(), nil
	case "Loads":
		return s.Loads(), nil
	case "ShiftStates":
		return s.ShiftStates(), nil
	}
	return nil, fmt.Errorf("forwarded call: unknown method %q", method)
}

var errCodes = map[string]error{"not_holder": ErrNotHolder, "unknown_study": ErrUnknownStudy, "reason": ErrReason}

func errCode(err error) string {
	for code, e := range errCodes {
		if errors.Is(err, e) {
			return code
		}
	}
	return ""
}

// forward runs method on the leader; its typed errors come back as ours.
func (s *Service) forward(ctx context.Context, method string, c call, out any) error {
	err := s.opt.Cluster.Call(ctx, method, c, out)
	var re *cluster.RemoteError
	if errors.As(err, &re) {
		if e, ok := errCodes[re.Code]; ok {
			return e
		}
	}
	return err
}

// persistedHolder answers Holder from read_item (what the leader persisted
// with each decision).
func (s *Service) persistedHolder(studyUID string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var status, reader string
	if err := s.db.QueryRow(ctx, "SELECT status, reader_id FROM read_item WHERE study_uid = ?", studyUID).Scan(&status, &reader); err != nil {
		return "", false
	}
	switch status {
	case "leased":
		return reader, true
	case "waiting", "queued", "uncovered":
		return "", true
	}
	return "", false
}

// publish sends a change to this node's subscribers and, in a cluster, to
// the other nodes' (identifiers and codes only: reasons stay on the node
// that decided, and the API shows them).
func (s *Service) publish(c Change) {
	s.hub.publish(c)
	if s.opt.Cluster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.opt.Cluster.Publish(ctx, map[string]string{"kind": c.Kind, "study_uid": c.StudyUID, "reader_id": c.ReaderID, "code": c.Code, "at": c.At}); err != nil {
		s.log.Warn("dispatch: publish to other nodes", "err", err)
	}
}

// remoteChange delivers another node's change to local subscribers.
func (s *Service) remoteChange(payload []byte) {
	var c Change
	if err := json.Unmarshal(payload, &c); err != nil || c.Kind == "" {
		return
	}
	s.hub.publish(c)
}
