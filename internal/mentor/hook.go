package mentor

import (
	"context"
	"fmt"

	"lightbox/internal/notify"
	"lightbox/internal/roster"
)

// OnSigned is the mentored-reading step of report signing (the composition
// root calls it in report.Options.OnSigned): a new reader's signed report
// may be assigned to a senior for over-reading, who is told through n (nil:
// nobody is told). It is idempotent like the event it handles.
func (s Store) OnSigned(ctx context.Context, n *notify.Service, studyUID, readerID string, final bool) error {
	rs, err := roster.Store{DB: s.DB}.Readers(ctx)
	if err != nil {
		return err
	}
	readers := make([]Reader, len(rs))
	for i, r := range rs {
		readers[i] = Reader{ID: r.ID, Subspecialties: r.Subspecialties}
	}
	o, ok, err := s.Signed(ctx, studyUID, readerID, final, readers)
	if err != nil || !ok || n == nil {
		return err
	}
	return n.Send(context.WithoutCancel(ctx), notify.Message{Event: notify.Mentoring, Key: fmt.Sprintf("overread/%d", o.ID),
		Subject: "A mentored over-read was assigned to you",
		Text:    "A new colleague's report awaits your over-read and comments.", Link: "/mentoring"}, notify.Recipient{ID: o.Mentor})
}
