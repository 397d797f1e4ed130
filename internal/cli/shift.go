package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"time"

	"lightbox/internal/model"
	"lightbox/internal/roster"
	"lightbox/internal/setup"
)

const shiftUsage = `Usage: lightbox shift add --reader R --type nighthawk|dayhawk|swing [--days mon-fri] --start HH:MM --end HH:MM
       lightbox shift add --reader R --from 2026-12-24T22:00:00Z --to 2026-12-25T08:00:00Z   (one-off extra shift)
       lightbox shift list [--reader R]
       lightbox shift import FILE.csv      (reader_id,type,days,start,end: replaces those readers' weekly patterns)
       lightbox shift export`

// runShift manages readers' shifts: weekly patterns on each reader's own
// clock, and one-off shifts in absolute time.
func runShift(ctx context.Context, env *Env, args []string) error {
	c := newSetupCmd(env, "shift", args, shiftUsage)
	reader := c.fs.String("reader", "", "reader ID")
	typ := c.fs.String("type", "swing", "nighthawk, dayhawk or swing")
	days := c.fs.String("days", "", "days the shift starts on: mon-fri, \"sat sun\" ... (default every day)")
	start := c.fs.String("start", "", "start HH:MM on the reader's clock")
	end := c.fs.String("end", "", "end HH:MM (≤ start: the next day)")
	from := c.fs.String("from", "", "one-off shift start (RFC 3339)")
	to := c.fs.String("to", "", "one-off shift end (RFC 3339)")
	return c.run(ctx, env, args, map[string]action{
		"add": func(ctx context.Context, o *opened) error {
			if *from != "" {
				b := model.Block{Type: model.ShiftType(*typ)}
				var e1, e2 error
				b.Start, e1 = time.Parse(time.RFC3339, *from)
				b.End, e2 = time.Parse(time.RFC3339, *to)
				if e1 != nil || e2 != nil {
					return fmt.Errorf("--from and --to are RFC 3339 times")
				}
				return o.setup.AddBlock(ctx, cliActor(), *reader, b)
			}
			sh := model.Shift{Type: model.ShiftType(*typ)}
			var e1, e2, e3 error
			sh.Days, e1 = setup.ParseDays(*days)
			sh.Start, e2 = model.ParseClock(*start)
			sh.End, e3 = model.ParseClock(*end)
			if e1 != nil || e2 != nil || e3 != nil {
				return fmt.Errorf("--days, --start and --end: %v", firstErr(e1, e2, e3))
			}
			return o.setup.AddShift(ctx, cliActor(), *reader, sh)
		},
		"list": func(ctx context.Context, o *opened) error {
			rs, err := (roster.Store{DB: o.st.DB}).Readers(ctx)
			if err != nil {
				return err
			}
			return c.printList(env, rs, "READER\tTYPE\tDAYS\tSTART\tEND\tTIME ZONE", func(w io.Writer) {
				for _, r := range rs {
					if *reader != "" && r.ID != *reader {
						continue
					}
					for _, sh := range r.Shifts {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, sh.Type, cmp.Or(setup.FormatDays(sh.Days), "daily"), sh.Start, sh.End, r.TimeZone)
					}
					for _, b := range r.Blocks {
						fmt.Fprintf(w, "%s\t%s\tonce\t%s\t%s\tUTC\n", r.ID, b.Type, b.Start.UTC().Format(time.RFC3339), b.End.UTC().Format(time.RFC3339))
					}
				}
			})
		},
		"import": c.importer(env, func(s *setup.Service, ctx context.Context, by setup.Actor, f io.Reader, _ string) (*setup.Report, error) {
			return s.ImportShifts(ctx, by, f)
		}),
		"export": func(ctx context.Context, o *opened) error {
			return o.setup.ExportShifts(ctx, env.Stdout)
		},
	})
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
