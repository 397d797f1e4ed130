package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os/user"
	"time"

	"lightbox/internal/audit"
)

// runAudit verifies the audit chain and answers "who looked at this
// patient" for privacy officers; both uses are themselves audited.
func runAudit(ctx context.Context, env *Env, args []string) error {
	c := newSubCmd(env, "audit", args, "Usage: lightbox audit verify [--data DIR]\n       lightbox audit who --issuer ISSUER --patient-id ID [--since 720h] [--data DIR]")
	issuer := c.fs.String("issuer", "", "who: the patient's issuer (assigning authority or facility)")
	pid := c.fs.String("patient-id", "", "who: the patient ID")
	since := c.fs.Duration("since", 30*24*time.Hour, "who: how far back")
	if c.sub == "who" {
		c.required = []*string{issuer, pid}
	}
	by := audit.Actor{UserID: operator(), Interface: audit.CLI}
	return c.run(ctx, env, args, map[string]action{
		"verify": func(ctx context.Context, o *opened) error {
			l := o.setup.Audit
			rep, err := audit.VerifyKeyed(ctx, o.st.DB, l.Keying)
			if err != nil {
				return err
			}
			_ = l.Record(ctx, audit.Event{EventID: audit.AuditLogUsed, Action: audit.Execute, UserID: by.UserID, Interface: audit.CLI, UserIsRequestor: true, ObjectType: "audit-log", Detail: "verify"})
			if !rep.OK {
				fmt.Fprintf(env.Stdout, "audit chain BROKEN after %d rows: %s at row %d: %s\n", rep.Rows, rep.Break.Kind, rep.Break.Seq, rep.Break.Detail)
				return fmt.Errorf("audit chain broken")
			}
			fmt.Fprintf(env.Stdout, "audit chain intact: %d rows, head %s\n", rep.Rows, rep.HeadHash)
			return nil
		},
		"who": func(ctx context.Context, o *opened) error {
			evs, err := o.setup.Audit.AccessesToPatient(ctx, by, *issuer, *pid, time.Now().Add(-*since), time.Time{})
			if err != nil {
				return err
			}
			enc := json.NewEncoder(env.Stdout)
			for _, e := range evs {
				_ = enc.Encode(map[string]any{"time": e.Time, "user": e.UserID, "role": e.UserRole, "from": e.NetworkAddr, "via": e.Interface,
					"event": e.EventID, "action": e.Action, "outcome": e.Outcome, "studies": e.StudyUIDs})
			}
			return nil
		},
	})
}

// operator names the person running a command on the server, for the audit trail.
func operator() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}
