package cli

import (
	"context"
	"fmt"
	"strconv"

	"lightbox/internal/retention"
	"lightbox/internal/server"
)

// retentionService opens the retention service of a data folder, auditing
// into its keyed chain as the operator.
func retentionService(c *setupCmd, st *server.Storage) (*retention.Service, error) {
	l, err := server.AuditLogger(*c.sf.data, st.DB)
	if err != nil {
		return nil, err
	}
	return &retention.Service{DB: st.DB, Archive: st.Archive, Audit: l}, nil
}

const retentionUsage = `usage: lightbox retention run [--dry-run] [--json] | retention set --facility ID --years N
  run      delete instances older than their facility's retention period, except those on legal hold
           (--dry-run: only count what would go; no patient data is logged)
  set      set a facility's retention period in years (0: keep for ever)`

func runRetention(ctx context.Context, env *Env, args []string) error {
	c := newSetupCmd(env, "retention", args, retentionUsage)
	dry := c.fs.Bool("dry-run", false, "only report what would be deleted")
	fac := c.fs.String("facility", "", "facility ID (set)")
	years := c.fs.Int("years", -1, "retention in years, 0 = keep for ever (set)")
	return c.run(ctx, env, args, map[string]action{
		"set": func(ctx context.Context, o *opened) error {
			if *fac == "" || *years < 0 {
				fmt.Fprintln(env.Stderr, retentionUsage)
				return errUsage
			}
			return done(env, o.setup.SetRetention(ctx, cliActor(), *fac, *years), "facility %s keeps instances %s", *fac, map[bool]string{true: "for ever", false: strconv.Itoa(*years) + " years"}[*years == 0])
		},
		"run": func(ctx context.Context, o *opened) error {
			r, err := retentionService(c, o.st)
			if err != nil {
				return err
			}
			rep, err := r.Run(ctx, cliActor(), *dry)
			if err != nil {
				return err
			}
			if *c.json {
				return writeJSONTo(env.Stdout, rep)
			}
			verb := "deleted"
			if rep.DryRun {
				verb = "would delete"
			}
			for _, f := range rep.Facilities {
				fmt.Fprintf(env.Stdout, "%s  %d years (before %s): %s %d studies, %d instances, %d bytes; %d studies kept on legal hold\n",
					f.FacilityID, f.Years, f.Cutoff[:10], verb, f.Studies, f.Instances, f.Bytes, f.HeldStudies)
			}
			fmt.Fprintf(env.Stdout, "total: %s %d studies, %d instances, %d bytes; %d held; blobs deleted %d, queued %d\n",
				verb, rep.Studies, rep.Instances, rep.Bytes, rep.Held, rep.BlobsDeleted, rep.BlobsPending)
			return nil
		},
	})
}

const holdUsage = `usage: lightbox hold add (--study UID | --patient ID [--issuer ISSUER]) --reason TEXT | hold remove --id N | hold list [--json]
  legal holds exempt a study, or every study of a patient, from retention`

func runHold(ctx context.Context, env *Env, args []string) error {
	c := newSetupCmd(env, "hold", args, holdUsage)
	study := c.fs.String("study", "", "Study Instance UID to hold (add)")
	patient := c.fs.String("patient", "", "patient ID whose studies to hold (add)")
	issuer := c.fs.String("issuer", "", "issuer of the patient ID (add)")
	reason := c.fs.String("reason", "", "why: a matter or case number, no patient data (add)")
	id := c.fs.Int64("id", 0, "hold to lift (remove)")
	// Each action opens the retention service, which audits as the operator.
	held := func(do func(ctx context.Context, r *retention.Service) error) action {
		return func(ctx context.Context, o *opened) error {
			r, err := retentionService(c, o.st)
			if err != nil {
				return err
			}
			return do(ctx, r)
		}
	}
	return c.run(ctx, env, args, map[string]action{
		"add": held(func(ctx context.Context, r *retention.Service) error {
			h, err := r.AddHold(ctx, cliActor(), retention.Hold{StudyUID: *study, PatientID: *patient, Issuer: *issuer, Reason: *reason})
			if err != nil {
				return err
			}
			if *c.json {
				return writeJSONTo(env.Stdout, h)
			}
			fmt.Fprintf(env.Stdout, "legal hold %d added\n", h.ID)
			return nil
		}),
		"remove": held(func(ctx context.Context, r *retention.Service) error {
			if *id == 0 {
				fmt.Fprintln(env.Stderr, holdUsage)
				return errUsage
			}
			return done(env, r.RemoveHold(ctx, cliActor(), *id), "legal hold %d removed", *id)
		}),
		"list": held(func(ctx context.Context, r *retention.Service) error {
			hs, err := r.Holds(ctx)
			if err != nil {
				return err
			}
			if *c.json {
				return writeJSONTo(env.Stdout, hs)
			}
			for _, h := range hs {
				what := "study " + h.StudyUID
				if h.StudyUID == "" {
					what = "patient " + h.PatientID + " (" + h.Issuer + ")"
				}
				fmt.Fprintf(env.Stdout, "%d  %s  by %s at %s: %s\n", h.ID, what, h.CreatedBy, h.CreatedAt, h.Reason)
			}
			fmt.Fprintf(env.Stdout, "%d legal hold(s)\n", len(hs))
			return nil
		}),
	})
}
