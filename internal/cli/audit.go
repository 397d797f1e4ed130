package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os/user"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/server"
)

// runAudit verifies the audit chain and answers "who looked at this
// patient" for privacy officers; both uses are themselves audited.
func runAudit(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "who") {
		fmt.Fprintln(env.Stderr, "Usage: lightbox audit verify [--data DIR]\n       lightbox audit who --issuer ISSUER --patient-id ID [--since 720h] [--data DIR]")
		return errUsage
	}
	sub := args[0]
	fs := newFlags(env, "audit "+sub, "audit "+sub+" [flags]")
	sf := addStorageFlags(fs)
	issuer := fs.String("issuer", "", "who: the patient's issuer (assigning authority or facility)")
	pid := fs.String("patient-id", "", "who: the patient ID")
	since := fs.Duration("since", 30*24*time.Hour, "who: how far back")
	if err := parse(fs, args[1:], env); err != nil {
		return err
	}
	st, _, err := sf.open(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	by := audit.Actor{UserID: operator(), Interface: audit.CLI}
	l, err := server.AuditLogger(*sf.data, st.DB)
	if err != nil {
		return err
	}
	if sub == "verify" {
		rep, err := audit.VerifyKeyed(ctx, st.DB, l.Keying)
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
	}
	if *issuer == "" || *pid == "" {
		fs.Usage()
		return errUsage
	}
	evs, err := l.AccessesToPatient(ctx, by, *issuer, *pid, time.Now().Add(-*since), time.Time{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	for _, e := range evs {
		_ = enc.Encode(map[string]any{"time": e.Time, "user": e.UserID, "role": e.UserRole, "from": e.NetworkAddr, "via": e.Interface,
			"event": e.EventID, "action": e.Action, "outcome": e.Outcome, "studies": e.StudyUIDs})
	}
	return nil
}

// operator names the person running a command on the server, for the audit trail.
func operator() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}
