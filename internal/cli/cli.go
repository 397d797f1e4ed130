package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"lightbox/internal/config"
	"lightbox/internal/server"
)

// Version is the release version of this build.
const Version = "0.1.0-dev"

// Env is what a subcommand may touch of the outside world.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// IsTerminal reports whether stderr is a terminal (progress bars).
	IsTerminal bool
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (HTTP, DICOM) on the configured storage", runServe},
		{"demo", "run the server with a demo group and demo studies loaded (idempotent)", runDemo},
		{"gen", "write synthetic DICOM studies to a folder", runGen},
		{"import", "store DICOM files from folders and zip files (works beside a running server)", runImport},
		{"simulate", "simulate a teleradiology day and compare assignment policies", runSimulate},
		{"user", "manage accounts: user add|passwd|disable|enable", runUser},
		{"token", "issue or revoke API bearer tokens: token create|revoke", runToken},
		{"facility", "set up facilities: facility add|list|import|export|pacs", runFacility},
		{"endpoint", "where a facility's reports go (HL7 MLLP, FHIR): endpoint add|list|remove|test", runEndpoint},
		{"reader", "set up readers and their credentials: reader add|list|import|export", runReader},
		{"shift", "readers' weekly shifts and one-off shifts: shift add|list|import|export", runShift},
		{"dicom", "DICOM SCU: dicom echo|send|find|move to a remote AE", runDicom},
		{"audit", "verify the hash-chained audit trail, or list who accessed a patient: audit verify|who", runAudit},
		{"ae", "manage known remote DICOM AEs: ae add|list|remove", runAE},
		{"hl7-sender", "registered HL7 senders per facility: hl7-sender add|list|remove", runHL7Sender},
		{"warnings", "list what was odd about accepted instances (meta/data set mismatch, no preamble, ...): warnings [--study UID] [--json]", runWarnings},
		{"backup", "copy the index while the node runs (SQLite; PostgreSQL: pg_dump)", runBackup},
		{"restore", "put an index backup in place (node stopped)", runRestore},
		{"retention", "apply facilities' retention periods (legal holds exempt): retention run [--dry-run] | set", runRetention},
		{"hold", "legal holds that exempt a study or a patient from retention: hold add|remove|list", runHold},
		{"check", "verify that every indexed instance has its bytes (and, with --rehash, that they are intact)", runCheck},
		{"version", "print the version", runVersion},
		{"help", "list subcommands, or describe one: lightbox help COMMAND", nil},
	}
}

// Main runs the lightbox command and returns its exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 {
		usage(env.Stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	if name == "help" || name == "-h" || name == "--help" {
		if len(rest) > 0 {
			return Main(ctx, []string{rest[0], "-h"}, env)
		}
		usage(env.Stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			err := c.run(ctx, env, rest)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(env.Stderr, "lightbox %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "lightbox: unknown command %q\n\n", name)
	usage(env.Stderr)
	return 2
}

var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintf(w, "Lightbox %s — teleradiology platform\n\nUsage: lightbox COMMAND [flags]\n\nCommands:\n", Version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nEvery flag can also be set as LIGHTBOX_<FLAG> in the environment or in a config file\n(--config FILE); a flag on the command line wins, then the environment, then the file.\n")
}

func newFlags(env *Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: lightbox %s\n\nFlags (each also LIGHTBOX_<FLAG>):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// storageFlags are the flags of every command that opens the data folder.
type storageFlags struct {
	data, db, blobs, duplicates, foreign, logLevel, logFormat *string
	journal, directIO                                         *bool
}

func addStorageFlags(fs *flag.FlagSet) *storageFlags {
	fs.String("config", "", "config file of `name = value` lines")
	return &storageFlags{
		data:       fs.String("data", "./data", "data folder (index database and blobs unless --db/--blobs say otherwise)"),
		db:         fs.String("db", "", "index database: sqlite:PATH or postgres://... (default sqlite:DATA/index.db)"),
		blobs:      fs.String("blobs", "", "blob store: a folder, or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R (credentials from LIGHTBOX_S3_ACCESS_KEY_ID/LIGHTBOX_S3_SECRET_ACCESS_KEY or credentials=FILE) (default DATA/blobs)"),
		duplicates: fs.String("duplicates", "keep-first", "same SOP Instance UID with different bytes: keep-first, replace or reject"),
		foreign:    fs.String("foreign-patients", "reject", "an instance naming another facility's patient (its issuer): reject or quarantine"),
		journal:    fs.Bool("ingest-journal", true, "on a folder blob store, make instances durable through a group-committed journal (one shared fdatasync) rather than an fsync per file"),
		directIO:   fs.Bool("ingest-direct-io", true, "write the ingest journal's segments with direct I/O (O_DIRECT) where the file system has it, not through the page cache"),
		logLevel:   fs.String("log-level", "info", "debug, info, warn or error"),
		logFormat:  fs.String("log-format", "text", "text or json"),
	}
}

func (s *storageFlags) logger(env *Env) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*s.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch *s.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", *s.logFormat)
}

func (s *storageFlags) config(log *slog.Logger) server.Config {
	return server.Config{Data: *s.data, DB: *s.db, Blobs: *s.blobs, Duplicates: *s.duplicates, ForeignPatients: *s.foreign, NoIngestJournal: !*s.journal, NoIngestDirectIO: !*s.directIO, Logger: log}
}

// open opens the storage the flags name, for commands that work on a data
// folder; the caller closes it.
func (s *storageFlags) open(ctx context.Context, env *Env) (*server.Storage, *slog.Logger, error) {
	log, err := s.logger(env)
	if err != nil {
		return nil, nil, err
	}
	st, err := server.OpenStorage(ctx, s.config(log))
	if err != nil {
		return nil, nil, err
	}
	return st, log, nil
}

func parse(fs *flag.FlagSet, args []string, env *Env) error {
	return config.Parse(fs, args, env.Getenv)
}

// parseWant parses a command's flags and, when ok (asked after parsing)
// says the command line lacks what the command needs, prints the usage
// and returns errUsage.
func parseWant(fs *flag.FlagSet, args []string, env *Env, ok func() bool) error {
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if !ok() {
		fs.Usage()
		return errUsage
	}
	return nil
}

// parseOpen parses a command's flags and opens the data folder they name.
func (s *storageFlags) parseOpen(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) (*server.Storage, *slog.Logger, error) {
	if err := parse(fs, args, env); err != nil {
		return nil, nil, err
	}
	return s.open(ctx, env)
}

func runVersion(_ context.Context, env *Env, args []string) error {
	fmt.Fprintf(env.Stdout, "lightbox %s (%s %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// DefaultEnv is the process environment.
func DefaultEnv() *Env {
	isTerm := false
	if fi, err := os.Stderr.Stat(); err == nil {
		isTerm = fi.Mode()&os.ModeCharDevice != 0
	}
	return &Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, IsTerminal: isTerm && !strings.EqualFold(os.Getenv("TERM"), "dumb")}
}
