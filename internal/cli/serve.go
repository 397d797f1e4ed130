package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"lightbox/internal/notify"
	"lightbox/internal/server"
	"lightbox/internal/tlsutil"
)

type serveFlags struct {
	*storageFlags
	http, dicom, aet  *string
	quiet, idle       *time.Duration
	routineAhead      *int
	mammoDisplay      *bool
	reauth            *time.Duration
	dicomTLS, hl7     *string
	hl7TLS, open      *bool
	hl7Open           *bool
	httpPerClient     *int
	moveAssocs        *int
	hl7ClientCA       *string
	cert, key         *string
	blobKey           *string
	atna, atnaCA      *string
	atnaCert, atnaKey *string
	smtp, smtpFrom    *string
	smtpUser, smtpPW  *string
	smtpInsecure      *bool
	smtpCA            *string
	publicURL         *string
	breakGlass        *time.Duration
	retention         *time.Duration
	consultRVU        *float64
	ice               *string
	turnSecret        *string
	turnSecretFile    *string
	turnTTL           *time.Duration
	visitTTL          *time.Duration
}

func addServeFlags(fs *flag.FlagSet) *serveFlags {
	return &serveFlags{
		storageFlags:   addStorageFlags(fs),
		http:           fs.String("http", "127.0.0.1:8080", "HTTP listen address (UI, DICOMweb, FHIR, API)"),
		dicom:          fs.String("dicom", "127.0.0.1:11112", "DICOM listen address"),
		aet:            fs.String("aet", "LIGHTBOX", "this node's DICOM AE title"),
		mammoDisplay:   fs.Bool("mammo-display-check", false, "assign mammography only to readers who passed the browser display check in the last 24 h"),
		quiet:          fs.Duration("quiet", time.Minute, "a study that receives nothing for this long is complete and goes on the worklist"),
		routineAhead:   fs.Int("routine-ahead", 1, "routine cases a reader holds assigned but unopened; the rest wait in the shared list for whoever frees up first, which keeps readers free for urgent work (0 = no limit)"),
		dicomTLS:       fs.String("dicom-tls", "", "DICOM TLS listen address (needs --tls-cert/--tls-key; demo: 127.0.0.1:2762 with a self-signed pair)"),
		hl7:            fs.String("hl7", "127.0.0.1:2575", "HL7 v2 MLLP listen address (orders in); empty to disable"),
		hl7TLS:         fs.Bool("hl7-tls", false, "serve MLLP over TLS (needs --tls-cert/--tls-key)"),
		open:           fs.Bool("dicom-open", false, "accept associations from unregistered calling AE titles"),
		moveAssocs:     fs.Int("dicom-move-associations", 2, "sub-associations a C-MOVE of 16 or more instances opens to its destination, sharing the instances (1: one)"),
		httpPerClient:  fs.Int("http-conns-per-client", 256, "concurrent HTTP connections one address may hold (0 = unlimited; raise behind a reverse proxy)"),
		hl7Open:        fs.Bool("hl7-open", false, "accept HL7 messages from unregistered senders (MSH-4 names the facility); registered senders stay bound to their networks"),
		hl7ClientCA:    fs.String("hl7-client-ca", "", "CA bundle verifying MLLP TLS client certificates (for hl7-sender --tls-subject)"),
		cert:           fs.String("tls-cert", "", "certificate file: enables HTTPS, and DICOM/MLLP TLS"),
		key:            fs.String("tls-key", "", "private key file for --tls-cert"),
		blobKey:        fs.String("blob-key", "", "key file (32 bytes, or 64 hex characters) to encrypt blobs at rest"),
		idle:           fs.Duration("idle-timeout", 15*time.Minute, "sessions end after this long without activity (HIPAA automatic logoff)"),
		consultRVU:     fs.Float64("consult-rvu", 0.5, "work-RVU credit a consultant earns for a second opinion (stored on each consult)"),
		ice:            fs.String("ice-servers", "", "comma-separated STUN/TURN URLs for browser video calls (none by default: enough on one network)"),
		turnSecret:     fs.String("turn-secret", "", "secret shared with the TURN server (coturn use-auth-secret): browsers get time-limited TURN credentials for the turn: URLs of --ice-servers; prefer --turn-secret-file or LIGHTBOX_TURN_SECRET, which stay out of the process list"),
		turnSecretFile: fs.String("turn-secret-file", "", "file holding the TURN secret (instead of --turn-secret)"),
		turnTTL:        fs.Duration("turn-ttl", 12*time.Hour, "how long the TURN credentials handed to a browser stay valid"),
		visitTTL:       fs.Duration("visit-link-ttl", 30*time.Minute, "how long a patient's single-use clinic-visit link stays valid"),
		breakGlass:     fs.Duration("break-glass-ttl", 2*time.Hour, "how long a reader's emergency (break-glass) access to a study outside their scope lasts"),
		reauth:         fs.Duration("reauth-window", 5*time.Minute, "signing needs a password and code again when the last login or re-authentication is older than this"),
		atna:           fs.String("audit-syslog", "", "ATNA audit repository host:port: ship the audit trail as RFC 5425 syslog over TLS"),
		atnaCA:         fs.String("audit-syslog-ca", "", "CA bundle trusted for the audit repository (default: system roots)"),
		atnaCert:       fs.String("audit-syslog-cert", "", "client certificate for the audit repository (ATNA node authentication)"),
		atnaKey:        fs.String("audit-syslog-key", "", "private key for --audit-syslog-cert"),
		smtp:           fs.String("smtp", "", "SMTP relay host:port for e-mail notifications (STARTTLS required)"),
		smtpFrom:       fs.String("smtp-from", "lightbox@localhost", "sender address of e-mail notifications"),
		smtpUser:       fs.String("smtp-username", "", "SMTP AUTH user name"),
		smtpPW:         fs.String("smtp-password-file", "", "file holding the SMTP AUTH password"),
		smtpInsecure:   fs.Bool("smtp-insecure", false, "allow a relay without STARTTLS (a local MTA only)"),
		smtpCA:         fs.String("smtp-ca", "", "CA bundle trusted for the SMTP relay's certificate (default: system roots)"),
		retention:      fs.Duration("retention-every", 24*time.Hour, "how often retention runs (once cluster-wide per period; 0 = only on demand with lightbox retention run)"),
		publicURL:      fs.String("public-url", "", "this node's URL as users reach it (links in notifications), e.g. https://lightbox.example.org"),
	}
}

func (f *serveFlags) serverConfig(env *Env) (server.Config, error) {
	log, err := f.logger(env)
	if err != nil {
		return server.Config{}, err
	}
	c := f.config(log)
	c.HTTP, c.DICOM, c.AETitle, c.Quiet = *f.http, *f.dicom, *f.aet, *f.quiet
	c.DICOMTLS, c.HL7, c.HL7TLS, c.DICOMOpen = *f.dicomTLS, *f.hl7, *f.hl7TLS, *f.open
	c.MoveAssociations = *f.moveAssocs
	c.TLSCert, c.TLSKey, c.BlobKeyFile = *f.cert, *f.key, *f.blobKey
	c.HTTPS = c.TLSCert != ""
	c.IdleTimeout = *f.idle
	c.RoutineAhead = *f.routineAhead
	if c.RoutineAhead == 0 {
		c.RoutineAhead = -1
	}
	c.HL7Open, c.HL7ClientCA = *f.hl7Open, *f.hl7ClientCA
	c.MammoDisplayCheck = *f.mammoDisplay
	c.ReauthWindow = *f.reauth
	c.HTTPConnsPerClient = *f.httpPerClient
	c.BreakGlassTTL = *f.breakGlass
	if c.RetentionEvery = *f.retention; c.RetentionEvery == 0 {
		c.RetentionEvery = -1
	}
	c.ConsultRVU, c.VisitTTL = *f.consultRVU, *f.visitTTL
	c.TURNSecret, c.TURNTTL = *f.turnSecret, *f.turnTTL
	if *f.turnSecretFile != "" {
		if c.TURNSecret, err = secretFile("--turn-secret-file", *f.turnSecretFile); err != nil {
			return server.Config{}, err
		}
	}
	for _, u := range strings.Split(*f.ice, ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.ICEServers = append(c.ICEServers, u)
		}
	}
	c.AuditSyslog, c.AuditSyslogCA, c.AuditSyslogCert, c.AuditSyslogKey = *f.atna, *f.atnaCA, *f.atnaCert, *f.atnaKey
	c.SMTP = notify.SMTP{Addr: *f.smtp, From: *f.smtpFrom, Username: *f.smtpUser, Insecure: *f.smtpInsecure}
	if *f.smtpPW != "" {
		if c.SMTP.Password, err = secretFile("--smtp-password-file", *f.smtpPW); err != nil {
			return server.Config{}, err
		}
	}
	if *f.smtpCA != "" {
		if c.SMTP.TLSConfig, err = tlsutil.Client(tlsutil.ClientOptions{CAFile: *f.smtpCA}); err != nil {
			return server.Config{}, fmt.Errorf("--smtp-ca: %w", err)
		}
	}
	c.PublicURL = *f.publicURL
	if c.PublicURL == "" {
		scheme := "http://"
		if c.HTTPS {
			scheme = "https://"
		}
		c.PublicURL = scheme + c.HTTP
	}
	return c, nil
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "serve", "serve [--data DIR] [--http ADDR] [--dicom ADDR] [--aet TITLE] [--db URL] [--blobs URL]")
	f := addServeFlags(fs)
	if err := parse(fs, args, env); err != nil {
		return err
	}
	c, err := f.serverConfig(env)
	if err != nil {
		return err
	}
	s, err := server.New(ctx, c)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// secretFile reads a secret given by a -file flag (surrounding white space
// dropped), so it stays out of the command line and the process list.
func secretFile(flag, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	return strings.TrimSpace(string(b)), nil
}
