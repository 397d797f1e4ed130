package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/server"
)

func runUser(ctx context.Context, env *Env, args []string) (err error) {
	subs := map[string]bool{"add": true, "passwd": true, "disable": true, "enable": true, "totp": true}
	if len(args) == 0 || !subs[args[0]] {
		fmt.Fprintln(env.Stderr, "Usage: lightbox user add --username U --role ROLE [--facility F] [--facilities A,B] [--password-file FILE|-]\n       lightbox user passwd --username U [--password-file FILE|-]\n       lightbox user totp --username U [--confirm CODE | --reset]\n       lightbox user disable|enable --username U")
		return errUsage
	}
	sub := args[0]
	fs := newFlags(env, "user "+sub, "user "+sub+" [flags]")
	sf := addStorageFlags(fs)
	username := fs.String("username", "", "user name (one per person)")
	role := fs.String("role", "radiologist", "admin, coordinator, radiologist, technologist, clinician or integration")
	facility := fs.String("facility", "", "facility the user belongs to (required for technologist, clinician, integration)")
	facilities := fs.String("facilities", "", "comma-separated further facilities in the user's scope")
	name := fs.String("name", "", "display name")
	clinicianID := fs.String("clinician-id", "", "clinician: the ordering-clinician ID their orders carry (e.g. NPI); they see only those studies")
	pwFile := fs.String("password-file", "-", "file holding the password, or - for standard input (first line)")
	confirm := fs.String("confirm", "", "totp: confirm enrolment with the first code from the authenticator")
	reset := fs.Bool("reset", false, "totp: remove the second factor (the user must enrol again)")
	if err := parse(fs, args[1:], env); err != nil {
		return err
	}
	if *username == "" {
		fs.Usage()
		return errUsage
	}
	st, log, err := sf.open(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := server.NewAuth(sf.config(log), st.DB, nil)
	if err != nil {
		return err
	}
	// Account changes are security events (110113), made here by whoever
	// runs the command on the server.
	defer func() {
		if err == nil {
			ev := audit.SecurityAlertEvent(audit.Actor{UserID: operator(), Interface: audit.CLI}, audit.SecurityRolesChanged, "user "+sub+" "+*username)
			if l, lerr := server.AuditLogger(*sf.data, st.DB); lerr == nil {
				_ = l.Record(ctx, ev)
			}
		}
	}()
	switch sub {
	case "totp":
		switch {
		case *reset:
			return svc.ResetTOTP(ctx, *username)
		case *confirm != "":
			if err := svc.ConfirmTOTP(ctx, *username, *confirm); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "second factor active for %s\n", *username)
			return nil
		}
		en, err := svc.EnrolTOTP(ctx, *username)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "add this to the authenticator app, then run: lightbox user totp --username %s --confirm CODE\n%s\n", *username, en.URL)
		return nil
	case "add", "passwd":
		pw, err := readPassword(*pwFile, env)
		if err != nil {
			return err
		}
		if sub == "passwd" {
			return svc.SetPassword(ctx, *username, pw)
		}
		r, err := auth.ParseRole(*role)
		if err != nil {
			return err
		}
		var extra []string
		for _, f := range strings.Split(*facilities, ",") {
			if f = strings.TrimSpace(f); f != "" {
				extra = append(extra, f)
			}
		}
		if err := svc.AddUser(ctx, auth.User{Username: *username, DisplayName: *name, Role: r, FacilityID: *facility, Facilities: extra, ClinicianID: *clinicianID}, pw); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "added %s (%s)\n", *username, r)
	case "disable", "enable":
		return svc.SetDisabled(ctx, *username, sub == "disable")
	}
	return nil
}

func readPassword(path string, env *Env) (string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	} else if env.IsTerminal {
		fmt.Fprint(env.Stderr, "password: ")
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runToken(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		fmt.Fprintln(env.Stderr, "Usage: lightbox token create --username U --name NAME [--ttl 720h]\n       lightbox token revoke --username U [--name NAME]")
		return errUsage
	}
	sub := args[0]
	fs := newFlags(env, "token "+sub, "token "+sub+" [flags]")
	sf := addStorageFlags(fs)
	username := fs.String("username", "", "the token acts as this user")
	name := fs.String("name", "", "what the token is for (e.g. the viewer or PACS using it)")
	ttl := fs.Duration("ttl", 30*24*time.Hour, "lifetime")
	cidrs := fs.String("allow-cidr", "", "comma-separated networks the token may be used from (default: anywhere)")
	if err := parse(fs, args[1:], env); err != nil {
		return err
	}
	if *username == "" || (sub == "create" && *name == "") {
		fs.Usage()
		return errUsage
	}
	st, log, err := sf.open(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := server.NewAuth(sf.config(log), st.DB, nil)
	if err != nil {
		return err
	}
	if sub == "revoke" {
		return svc.RevokeTokens(ctx, *username, *name)
	}
	var allow []string
	for _, c := range strings.Split(*cidrs, ",") {
		if c = strings.TrimSpace(c); c != "" {
			allow = append(allow, c)
		}
	}
	tok, err := svc.CreateTokenWith(ctx, *username, *name, auth.TokenOptions{TTL: *ttl, AllowCIDRs: allow})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, tok)
	return nil
}
