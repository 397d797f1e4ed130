package dispatch

import (
	"sync"
)

// Change is one worklist change pushed to live subscribers.
type Change struct {
	Kind     string `json:"kind"`
	StudyUID string `json:"study_uid,omitempty"`
	ReaderID string `json:"reader_id,omitempty"`
	Code     string `json:"code,omitempty"`
	Reason   string `json:"reason,omitempty"`
	At       string `json:"at"`
}

// hub fans changes out to subscribers: a reader sees changes to their own
// queue, the board ("" reader) sees everything. A subscriber that falls
// behind is dropped (its channel closed) rather than slowing the engine.
type hub struct {
	mu   sync.Mutex
	subs map[*sub]struct{}
}

type sub struct {
	reader string
	board  bool
	ch     chan Change
}

func newHub() *hub { return &hub{subs: map[*sub]struct{}{}} }

func (h *hub) subscribe(reader string, board bool) (<-chan Change, func()) {
	s := &sub{reader: reader, board: board, ch: make(chan Change, 64)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s.ch, func() {
		h.mu.Lock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
		h.mu.Unlock()
	}
}

func (h *hub) publish(c Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.board && s.reader != c.ReaderID {
			continue
		}
		select {
		case s.ch <- c:
		default:
			delete(h.subs, s)
			close(s.ch)
		}
	}
}
