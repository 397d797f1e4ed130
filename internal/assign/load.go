package assign

import (
	"slices"
	"strings"
)

// Load is one reader's presence and queue as the engine holds them: what
// the coordinator's console shows beside the board.
type Load struct {
	ReaderID string  `json:"reader_id"`
	Name     string  `json:"name"`
	Online   bool    `json:"online"`   // available for new work (heartbeat, on shift, not away)
	OnShift  bool    `json:"on_shift"` // scheduled now
	Away     bool    `json:"away"`
	Queue    int     `json:"queue"`     // studies leased
	QueueRVU float64 `json:"queue_rvu"` // their work RVU
	ShiftRVU float64 `json:"shift_rvu"` // read this shift
	Target   float64 `json:"rvu_target_per_hour"`
}

// Loads lists every reader's load, online readers first, then by ID.
func (e *Engine) Loads() []Load {
	out := make([]Load, 0, len(e.readers))
	for _, rs := range e.readers {
		if rs.removed {
			continue
		}
		l := Load{ReaderID: rs.r.ID, Name: rs.r.Name, Online: rs.available, OnShift: rs.onShift, Away: rs.away, Queue: len(rs.queue),
			ShiftRVU: rs.shiftRVU, Target: rs.r.RVUTargetPerHour}
		for _, st := range rs.queue {
			l.QueueRVU += st.s.WorkRVU
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Load) int {
		if a.Online != b.Online {
			if a.Online {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ReaderID, b.ReaderID)
	})
	return out
}
