package dispatch

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"lightbox/internal/db"
	"lightbox/internal/model"
)

// Item is a study's row on the reading worklist.
type Item struct {
	StudyUID, FacilityID, Status, ReaderID, Note string
	Doc                                          string // the study as the engine holds it (model.Study JSON)
	Lease                                        string // the lease JSON ("" when none)
	UpdatedAt                                    string
}

// Study decodes the engine's copy of the study.
func (it Item) Study() (*model.Study, error) {
	var st model.Study
	if err := json.Unmarshal([]byte(it.Doc), &st); err != nil {
		return nil, fmt.Errorf("worklist study %s: %w", it.StudyUID, err)
	}
	return &st, nil
}

const itemCols = "study_uid, facility_id, status, reader_id, note, doc, lease, updated_at"

func scanItem(sc db.Scanner) (Item, error) {
	var it Item
	err := sc.Scan(&it.StudyUID, &it.FacilityID, &it.Status, &it.ReaderID, &it.Note, &it.Doc, &it.Lease, &it.UpdatedAt)
	return it, err
}

// ItemOf returns a study's worklist row, or ErrUnknownStudy when the study
// never reached the worklist.
func ItemOf(ctx context.Context, x db.Execer, studyUID string) (Item, error) {
	it, err := scanItem(x.QueryRow(ctx, "SELECT "+itemCols+" FROM read_item WHERE study_uid = ?", studyUID))
	if err != nil {
		return Item{}, db.RowErr(err, ErrUnknownStudy, "worklist item "+studyUID)
	}
	return it, nil
}

// OpenItems lists the studies still to be read, oldest first: those leased
// to readerID when it is set, else every waiting, leased, queued or
// uncovered one.
func OpenItems(ctx context.Context, x db.Execer, readerID string) ([]Item, error) {
	q, args := "SELECT "+itemCols+" FROM read_item WHERE status IN ('waiting', 'leased', 'queued', 'uncovered')", []any{}
	if readerID != "" {
		q, args = "SELECT "+itemCols+" FROM read_item WHERE reader_id = ? AND status = 'leased'", []any{readerID}
	}
	return db.List("worklist items", db.Rows(x.Query(ctx, q+" ORDER BY created_at", args...)), scanItem)
}

// OpenItems is OpenItems over this service's database, served from memory
// on the node that runs the engine: it alone writes read_item (other nodes
// forward to it), so the rows it read last stay true until its next write
// and the board's frequent reads (every client refreshes on every change)
// cost no query. Other nodes read the persisted rows.
func (s *Service) OpenItems(ctx context.Context, readerID string) ([]Item, error) {
	if s.remote() {
		return OpenItems(ctx, s.db, readerID)
	}
	all, err := s.open.get(func() ([]Item, error) { return OpenItems(ctx, s.db, "") })
	if err != nil {
		return nil, err
	}
	if readerID == "" {
		return all, nil
	}
	mine := []Item{}
	for _, it := range all {
		if it.ReaderID == readerID && it.Status == "leased" {
			mine = append(mine, it)
		}
	}
	return mine, nil
}

// openItems keeps the open rows as last read, with the write generation
// they were read at.
type openItems struct {
	gen    atomic.Uint64 // counts writes to read_item, bumped once each has ended
	mu     sync.Mutex
	rows   []Item
	rowGen uint64
	valid  bool
}

// wrote marks the rows read so far as outdated. It is called after the
// write has ended (committed or not), so a read racing it is never kept
// under the new generation.
func (o *openItems) wrote() { o.gen.Add(1) }

// get returns a copy of the rows, reading them with read when a write came
// since they were last read.
func (o *openItems) get(read func() ([]Item, error)) ([]Item, error) {
	g := o.gen.Load()
	o.mu.Lock()
	if o.valid && o.rowGen == g {
		rows := slices.Clone(o.rows)
		o.mu.Unlock()
		return rows, nil
	}
	o.mu.Unlock()
	rows, err := read()
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	if !o.valid || g >= o.rowGen {
		o.rows, o.rowGen, o.valid = rows, g, true
	}
	o.mu.Unlock()
	return slices.Clone(rows), nil
}

// writeItems runs a write on read_item outside the decision transaction.
func (s *Service) writeItems(ctx context.Context, q string, args ...any) (sql.Result, error) {
	defer s.open.wrote()
	return s.db.Exec(ctx, q, args...)
}

// Event is one entry of a study's assignment history.
type Event struct {
	At, Kind, ReaderID, Code, Reason, By string
	Detail                               string // JSON ("" when none)
}

// History returns a study's assignment events, oldest first: why it went
// to whom.
func History(ctx context.Context, x db.Execer, studyUID string) ([]Event, error) {
	out, err := db.Collect(db.Rows(x.Query(ctx, "SELECT at, kind, reader_id, code, reason, by_user, detail FROM assignment_event WHERE study_uid = ? ORDER BY pk", studyUID)),
		func(r db.Scanner) (e Event, err error) {
			return e, r.Scan(&e.At, &e.Kind, &e.ReaderID, &e.Code, &e.Reason, &e.By, &e.Detail)
		})
	if err != nil {
		return nil, fmt.Errorf("assignment history: %w", err)
	}
	return out, nil
}
