package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"lightbox/internal/hl7sender"
	"lightbox/internal/netserve"
)

func runHL7Sender(ctx context.Context, env *Env, args []string) error {
	c := newSetupCmd(env, "hl7-sender", args,
		"Usage: lightbox hl7-sender add --sending-facility MSH4 [--sending-app MSH3] --facility F (--allow-cidr NETS | --tls-subject CN)\n"+
			"       lightbox hl7-sender list\n       lightbox hl7-sender remove --sending-facility MSH4 [--sending-app MSH3]")
	fs := c.fs
	sending := fs.String("sending-facility", "", "MSH-4 the sender puts in its messages")
	app := fs.String("sending-app", "", "MSH-3 the sender puts in its messages (default: any application)")
	facility := fs.String("facility", "", "the facility its messages speak for")
	allow := fs.String("allow-cidr", "", "comma-separated networks it may connect from")
	subject := fs.String("tls-subject", "", "subject CN of its TLS client certificate (verified against --hl7-client-ca)")
	desc := fs.String("description", "", "free text")
	return c.run(ctx, env, args, map[string]action{
		"add": func(ctx context.Context, o *opened) error {
			s := hl7sender.Sender{SendingFacility: *sending, SendingApplication: *app, FacilityID: *facility, TLSSubject: *subject, Description: *desc,
				AllowCIDRs: netserve.SplitNetworks(*allow)}
			return done(env, o.setup.PutHL7Sender(ctx, cliActor(), s), "saved HL7 sender %s for facility %s", s.SendingFacility, s.FacilityID)
		},
		"remove": func(ctx context.Context, o *opened) error {
			return o.setup.DeleteHL7Sender(ctx, cliActor(), *sending, *app)
		},
		"list": lister(c, env, "MSH-4\tMSH-3\tFACILITY\tNETWORKS\tTLS SUBJECT\tDESCRIPTION",
			func(ctx context.Context, o *opened) ([]hl7sender.Sender, error) {
				return (hl7sender.Store{DB: o.st.DB}).List(ctx)
			},
			func(w io.Writer, s hl7sender.Sender) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.SendingFacility, s.SendingApplication, s.FacilityID, strings.Join(s.AllowCIDRs, ","), s.TLSSubject, s.Description)
			}),
	})
}
