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
	"lightbox/internal/netserve"
	"lightbox/internal/opt"
)

const userUsage = "Usage: lightbox user add --username U --role ROLE [--facility F] [--facilities A,B] [--password-file FILE|-]\n       lightbox user passwd --username U [--password-file FILE|-]\n       lightbox user totp --username U [--confirm CODE | --reset]\n       lightbox user disable|enable --username U"

func runUser(ctx context.Context, env *Env, args []string) error {
	c := newSubCmd(env, "user", args, userUsage)
	fs := c.fs
	username := fs.String("username", "", "user name (one per person)")
	role := fs.String("role", "radiologist", "admin, coordinator, radiologist, technologist, clinician or integration")
	facility := fs.String("facility", "", "facility the user belongs to (required for technologist, clinician, integration)")
	facilities := fs.String("facilities", "", "comma-separated further facilities in the user's scope")
	name := fs.String("name", "", "display name")
	clinicianID := fs.String("clinician-id", "", "clinician: the ordering-clinician ID their orders carry (e.g. NPI); they see only those studies")
	pwFile := fs.String("password-file", "-", "file holding the password, or - for standard input (first line)")
	confirm := fs.String("confirm", "", "totp: confirm enrolment with the first code from the authenticator")
	reset := fs.Bool("reset", false, "totp: remove the second factor (the user must enrol again)")
	c.required = []*string{username}
	// Account changes are security events (110113), made here by whoever
	// runs the command on the server.
	audited := func(do func(ctx context.Context, svc *auth.Service) error) action {
		act := c.authAction(do)
		return func(ctx context.Context, o *opened) error {
			if err := act(ctx, o); err != nil {
				return err
			}
			ev := audit.SecurityAlertEvent(audit.Actor{UserID: operator(), Interface: audit.CLI}, audit.SecurityRolesChanged, "user "+c.sub+" "+*username)
			_ = o.setup.Audit.Record(ctx, ev)
			return nil
		}
	}
	setPassword := audited(func(ctx context.Context, svc *auth.Service) error {
		pw, err := readPassword(*pwFile, env)
		if err != nil {
			return err
		}
		if c.sub == "passwd" {
			return svc.SetPassword(ctx, *username, pw)
		}
		r, err := auth.ParseRole(*role)
		if err != nil {
			return err
		}
		return done(env, svc.AddUser(ctx, auth.User{Username: *username, DisplayName: *name, Role: r, FacilityID: *facility, Facilities: opt.List(*facilities), ClinicianID: *clinicianID}, pw), "added %s (%s)", *username, r)
	})
	setDisabled := audited(func(ctx context.Context, svc *auth.Service) error {
		return svc.SetDisabled(ctx, *username, c.sub == "disable")
	})
	return c.run(ctx, env, args, map[string]action{
		"add":     setPassword,
		"passwd":  setPassword,
		"disable": setDisabled,
		"enable":  setDisabled,
		"totp": audited(func(ctx context.Context, svc *auth.Service) error {
			switch {
			case *reset:
				return svc.ResetTOTP(ctx, *username)
			case *confirm != "":
				return done(env, svc.ConfirmTOTP(ctx, *username, *confirm), "second factor active for %s", *username)
			}
			en, err := svc.EnrolTOTP(ctx, *username)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "add this to the authenticator app, then run: lightbox user totp --username %s --confirm CODE\n%s\n", *username, en.URL)
			return nil
		}),
	})
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
	c := newSubCmd(env, "token", args, "Usage: lightbox token create --username U --name NAME [--ttl 720h]\n       lightbox token revoke --username U [--name NAME]")
	fs := c.fs
	username := fs.String("username", "", "the token acts as this user")
	name := fs.String("name", "", "what the token is for (e.g. the viewer or PACS using it)")
	ttl := fs.Duration("ttl", 30*24*time.Hour, "lifetime")
	cidrs := fs.String("allow-cidr", "", "comma-separated networks the token may be used from (default: anywhere)")
	c.required = []*string{username}
	if c.sub == "create" {
		c.required = append(c.required, name)
	}
	return c.run(ctx, env, args, map[string]action{
		"revoke": c.authAction(func(ctx context.Context, svc *auth.Service) error {
			return svc.RevokeTokens(ctx, *username, *name)
		}),
		"create": c.authAction(func(ctx context.Context, svc *auth.Service) error {
			tok, err := svc.CreateTokenWith(ctx, *username, *name, auth.TokenOptions{TTL: *ttl, AllowCIDRs: netserve.SplitNetworks(*cidrs)})
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, tok)
			return nil
		}),
	})
}
