package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/dcm"
	"lightbox/internal/dicomsvc"
	"lightbox/internal/dimse"
	"lightbox/internal/tlsutil"
)

const dicomUsage = `Usage: lightbox dicom echo --host H --port P [--aet CALLING] [--aec CALLED]
       lightbox dicom send --host H --port P [--aec CALLED] FILE_OR_DIR...
       lightbox dicom find --host H --port P [--level STUDY|SERIES|IMAGE|PATIENT] [--root study|patient] [-k Keyword[=value]]... [--json]
       lightbox dicom move --host H --port P --dest AE [--level ...] [--root ...] -k Keyword=value...

Every subcommand also takes --tls [--tls-ca F] [--tls-cert F --tls-key F] [--tls-insecure],
--user U --password-file F (user identity negotiation) and --timeout D.
Run "lightbox dicom SUBCOMMAND -h" for its flags.`

// scuFlags are the connection flags every dicom subcommand shares.
type scuFlags struct {
	host                   *string
	port                   *int
	aet, aec               *string
	useTLS, tlsInsecure    *bool
	tlsCA, tlsCert, tlsKey *string
	user, passwordFile     *string
	timeout                *time.Duration
}

func addSCUFlags(fs *flag.FlagSet) *scuFlags {
	fs.String("config", "", "config file of `name = value` lines")
	return &scuFlags{
		host:         fs.String("host", "127.0.0.1", "remote host name or address"),
		port:         fs.Int("port", 11112, "remote DICOM port"),
		aet:          fs.String("aet", "LIGHTBOX", "our (calling) AE title"),
		aec:          fs.String("aec", "ANY-SCP", "the remote (called) AE title"),
		useTLS:       fs.Bool("tls", false, "connect with DICOM TLS"),
		tlsCA:        fs.String("tls-ca", "", "PEM bundle of CAs trusted for the remote certificate (default: system pool)"),
		tlsCert:      fs.String("tls-cert", "", "client certificate (PEM) for mutual TLS"),
		tlsKey:       fs.String("tls-key", "", "private key for --tls-cert"),
		tlsInsecure:  fs.Bool("tls-insecure", false, "do not verify the remote certificate (self-signed test peers only)"),
		user:         fs.String("user", "", "user name sent in user identity negotiation (with --password-file)"),
		passwordFile: fs.String("password-file", "", "file holding the password for --user (first line)"),
		timeout:      fs.Duration("timeout", 30*time.Second, "bound on connecting and on each network read/write"),
	}
}

func (f *scuFlags) addr() string { return net.JoinHostPort(*f.host, strconv.Itoa(*f.port)) }

func (f *scuFlags) dialOptions() (*dimse.DialOptions, error) {
	o := &dimse.DialOptions{
		Timeouts:  dimse.Timeouts{ARTIM: *f.timeout, Read: *f.timeout, Write: *f.timeout},
		Transcode: dicomsvc.Transcode,
	}
	if *f.useTLS {
		cfg, err := tlsutil.Client(tlsutil.ClientOptions{CAFile: *f.tlsCA, CertFile: *f.tlsCert, KeyFile: *f.tlsKey, ServerName: *f.host})
		if err != nil {
			return nil, err
		}
		cfg.InsecureSkipVerify = *f.tlsInsecure
		o.TLSConfig = cfg
	} else if *f.tlsCA != "" || *f.tlsCert != "" || *f.tlsInsecure {
		return nil, errors.New("--tls-ca, --tls-cert and --tls-insecure need --tls")
	}
	switch {
	case *f.user != "" && *f.passwordFile != "":
		b, err := os.ReadFile(*f.passwordFile)
		if err != nil {
			return nil, err
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		o.UserIdentity = &dimse.UserIdentity{Type: dimse.IdentityUsernamePasscode, Username: *f.user, Passcode: strings.TrimRight(pw, "\r")}
	case *f.user != "":
		return nil, errors.New("--user needs --password-file")
	case *f.passwordFile != "":
		return nil, errors.New("--password-file needs --user")
	}
	return o, nil
}

// dial opens an association, bounding the connection by --timeout.
func (f *scuFlags) dial(ctx context.Context, contexts []dimse.ContextProposal) (*dimse.Association, error) {
	opts, err := f.dialOptions()
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, *f.timeout)
	defer cancel()
	a, err := dimse.Dial(dctx, f.addr(), *f.aet, *f.aec, contexts, opts)
	if err != nil {
		return nil, fmt.Errorf("association %s -> %s at %s: %w", *f.aet, *f.aec, f.addr(), err)
	}
	return a, nil
}

func runDicom(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, dicomUsage)
		return errUsage
	}
	switch args[0] {
	case "echo":
		return runDicomEcho(ctx, env, args[1:])
	case "send":
		return runDicomSend(ctx, env, args[1:])
	case "find":
		return runDicomFind(ctx, env, args[1:])
	case "move":
		return runDicomMove(ctx, env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(env.Stdout, dicomUsage)
		return nil
	}
	fmt.Fprintln(env.Stderr, dicomUsage)
	return errUsage
}

func runDicomEcho(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "dicom echo", "dicom echo --host H --port P [--aet CALLING] [--aec CALLED]")
	f := addSCUFlags(fs)
	if err := parseWant(fs, args, env, func() bool { return fs.NArg() == 0 }); err != nil {
		return err
	}
	start := time.Now()
	a, err := f.dial(ctx, []dimse.ContextProposal{{AbstractSyntax: dimse.VerificationSOPClass}})
	if err != nil {
		return err
	}
	err = a.Echo(ctx)
	_ = a.Release(context.Background())
	if err != nil {
		return fmt.Errorf("C-ECHO: %w", err)
	}
	fmt.Fprintf(env.Stdout, "C-ECHO %s -> %s at %s: success (%.1f ms)\n", *f.aet, *f.aec, f.addr(), float64(time.Since(start).Microseconds())/1000)
	return nil
}

// sendFile is one Part 10 file to C-STORE.
type sendFile struct {
	path                string
	sopClass, sopInst   string
	ts                  string
	offset, size        int64
	status              uint16
	err                 error
	sent, warned, tried bool
}

func runDicomSend(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "dicom send", "dicom send --host H --port P [--aec CALLED] FILE_OR_DIR...")
	f := addSCUFlags(fs)
	verbose := fs.Bool("verbose", false, "print one line per file: status and path")
	if err := parseWant(fs, args, env, func() bool { return fs.NArg() > 0 }); err != nil {
		return err
	}
	files, skipped, err := collectDICOM(fs.Args())
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no DICOM Part 10 files under %s (%d other files skipped)", strings.Join(fs.Args(), " "), len(skipped))
	}
	start := time.Now()
	var bytesSent int64
	// One association per batch of files needing at most 128 contexts.
	for _, batch := range batchByContexts(files) {
		if err := sendBatch(ctx, env, f, batch, *verbose); err != nil {
			// The association could not be opened (or broke): the rest of
			// the batch fails with that error.
			for _, sf := range batch {
				if !sf.tried {
					sf.tried, sf.err = true, err
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	var sent, warned, failed int
	for _, sf := range files {
		switch {
		case sf.sent:
			sent++
			bytesSent += sf.size
			if sf.warned {
				warned++
			}
		default:
			failed++
		}
	}
	el := time.Since(start)
	sec := max(el.Seconds(), 1e-9)
	mb := float64(bytesSent) / (1 << 20)
	fmt.Fprintf(env.Stdout, "files: %d  sent: %d  warnings: %d  failed: %d  skipped (not DICOM): %d\n", len(files)+len(skipped), sent, warned, failed, len(skipped))
	fmt.Fprintf(env.Stdout, "%.1f MB in %.1fs (%.1f MB/s, %.0f instances/s)\n", mb, el.Seconds(), mb/sec, float64(sent)/sec)
	for _, sf := range files {
		switch {
		case sf.sent:
		case sf.err != nil:
			fmt.Fprintf(env.Stdout, "failed %s: %v\n", sf.path, sf.err)
		case sf.tried:
			fmt.Fprintf(env.Stdout, "failed %s: status 0x%04X\n", sf.path, sf.status)
		default:
			fmt.Fprintf(env.Stdout, "failed %s: not sent\n", sf.path)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d instance(s) not stored", failed, len(files))
	}
	return nil
}

// collectDICOM walks paths and reads the meta header of every regular file;
// files without a Part 10 header are returned as skipped.
func collectDICOM(paths []string) ([]*sendFile, []string, error) {
	var files []*sendFile
	var skipped []string
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			sf, err := readSendFile(p)
			if err != nil {
				skipped = append(skipped, p)
				return nil
			}
			files = append(files, sf)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return files, skipped, nil
}

func readSendFile(path string) (*sendFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	meta, off, err := dcm.ReadHeader(fh)
	if err != nil {
		return nil, err
	}
	sf := &sendFile{path: path, sopClass: meta.Str(dcm.TagMediaStorageSOPClassUID), sopInst: meta.Str(dcm.TagMediaStorageSOPInstanceUID),
		ts: meta.Str(dcm.TagTransferSyntaxUID), offset: off, size: st.Size()}
	if sf.sopClass == "" || sf.sopInst == "" || sf.ts == "" {
		return nil, errors.New("meta header lacks SOP class, instance or transfer syntax")
	}
	return sf, nil
}

// proposals returns the presentation contexts for files: per SOP class one
// context with explicit and implicit VR little endian, and one per other
// transfer syntax the files are encoded in (so that compressed files go as
// they are).
func proposals(files []*sendFile) []dimse.ContextProposal {
	var out []dimse.ContextProposal
	seen := map[string]bool{}
	for _, sf := range files {
		if !seen[sf.sopClass] {
			seen[sf.sopClass] = true
			out = append(out, dimse.ContextProposal{AbstractSyntax: sf.sopClass, TransferSyntaxes: []string{dimse.ExplicitVRLittleEndian, dimse.ImplicitVRLittleEndian}})
		}
		if sf.ts == dimse.ExplicitVRLittleEndian || sf.ts == dimse.ImplicitVRLittleEndian {
			continue
		}
		if k := sf.sopClass + "|" + sf.ts; !seen[k] {
			seen[k] = true
			out = append(out, dimse.ContextProposal{AbstractSyntax: sf.sopClass, TransferSyntaxes: []string{sf.ts}})
		}
	}
	return out
}

// batchByContexts splits files so that no batch needs more than 128
// presentation contexts.
func batchByContexts(files []*sendFile) [][]*sendFile {
	var out [][]*sendFile
	var cur []*sendFile
	for _, sf := range files {
		if len(proposals(append(cur, sf))) > 128 {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, sf)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// sendBatch stores the files of one batch over one association, opening a
// new one (at most three times) if the peer drops it.
func sendBatch(ctx context.Context, env *Env, f *scuFlags, batch []*sendFile, verbose bool) error {
	pcs := proposals(batch)
	redials := 0
	a, err := f.dial(ctx, pcs)
	if err != nil {
		return err
	}
	defer func() { _ = a.Release(context.Background()) }()
	for i := 0; i < len(batch); i++ {
		sf := batch[i]
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sf.tried = true
		sf.status, sf.err = storeFile(ctx, a, sf)
		if sf.err != nil && ctx.Err() == nil && associationEnded(a) {
			// The peer dropped the association: open another and retry.
			if redials == 3 {
				return fmt.Errorf("association lost: %v", a.Err())
			}
			redials++
			if a, err = f.dial(ctx, pcs); err != nil {
				return err
			}
			i--
			continue
		}
		if sf.err == nil && !dimse.IsFailure(sf.status) {
			sf.sent = true
			sf.warned = sf.status != dimse.StatusSuccess
		}
		if verbose {
			if sf.err != nil {
				fmt.Fprintf(env.Stdout, "error %s: %v\n", sf.path, sf.err)
			} else {
				fmt.Fprintf(env.Stdout, "0x%04X %s\n", sf.status, sf.path)
			}
		}
	}
	return nil
}

func associationEnded(a *dimse.Association) bool {
	select {
	case <-a.Done():
		return true
	default:
		return false
	}
}

func storeFile(ctx context.Context, a *dimse.Association, sf *sendFile) (uint16, error) {
	fh, err := os.Open(sf.path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	if _, err := fh.Seek(sf.offset, io.SeekStart); err != nil {
		return 0, err
	}
	return a.Store(ctx, sf.sopClass, sf.sopInst, sf.ts, fh)
}

// keyFlag collects repeated -k Keyword[=value] arguments.
type keyFlag []string

func (k *keyFlag) String() string     { return strings.Join(*k, " ") }
func (k *keyFlag) Set(s string) error { *k = append(*k, s); return nil }

// queryFlags are the flags of find and move.
type queryFlags struct {
	level, root *string
	keys        keyFlag
}

func addQueryFlags(fs *flag.FlagSet) *queryFlags {
	q := &queryFlags{
		level: fs.String("level", "STUDY", "query/retrieve level: PATIENT, STUDY, SERIES or IMAGE"),
		root:  fs.String("root", "", "information model: study or patient (default: patient for --level PATIENT, else study)"),
	}
	fs.Var(&q.keys, "k", "a key, `Keyword[=value]` (or gggg,eeee / ggggeeee); repeat it. Without a value it is a return key")
	return q
}

// defaultKeys are the return keys find always asks for at each level.
var defaultKeys = map[string][]dcm.Tag{
	"PATIENT": {dcm.TagPatientID, dcm.TagPatientName, dcm.TagPatientBirthDate, dcm.TagPatientSex},
	"STUDY": {dcm.TagStudyInstanceUID, dcm.TagPatientID, dcm.TagPatientName, dcm.TagStudyDate, dcm.TagAccessionNumber,
		dcm.TagModalitiesInStudy, dcm.TagStudyDescription, dcm.TagNumberOfStudyRelatedInstances},
	"SERIES": {dcm.TagStudyInstanceUID, dcm.TagSeriesInstanceUID, dcm.TagModality, dcm.TagSeriesNumber, dcm.TagSeriesDescription, dcm.TagNumberOfSeriesRelatedInstances},
	"IMAGE":  {dcm.TagStudyInstanceUID, dcm.TagSeriesInstanceUID, dcm.TagSOPInstanceUID, dcm.TagSOPClassUID, dcm.TagInstanceNumber},
}

// identifier builds the query identifier; withDefaults adds the level's
// default return keys. It returns the identifier, the keys in print order
// and the find and move SOP classes.
func (q *queryFlags) identifier(withDefaults bool) (*dcm.Dataset, []dcm.Tag, string, string, error) {
	level := strings.ToUpper(*q.level)
	if _, ok := defaultKeys[level]; !ok {
		return nil, nil, "", "", fmt.Errorf("--level must be PATIENT, STUDY, SERIES or IMAGE, not %q", *q.level)
	}
	root := strings.ToLower(*q.root)
	if root == "" {
		root = "study"
		if level == "PATIENT" {
			root = "patient"
		}
	}
	var findClass, moveClass string
	switch root {
	case "study":
		if level == "PATIENT" {
			return nil, nil, "", "", errors.New("--level PATIENT needs --root patient")
		}
		findClass, moveClass = dimse.StudyRootQRFind, dimse.StudyRootQRMove
	case "patient":
		findClass, moveClass = dimse.PatientRootQRFind, dimse.PatientRootQRMove
	default:
		return nil, nil, "", "", fmt.Errorf("--root must be study or patient, not %q", *q.root)
	}
	ds := &dcm.Dataset{}
	ds.SetStr(dcm.TagQueryRetrieveLevel, level)
	var order []dcm.Tag
	add := func(t dcm.Tag) {
		for _, o := range order {
			if o == t {
				return
			}
		}
		order = append(order, t)
	}
	if withDefaults {
		for _, t := range defaultKeys[level] {
			ds.SetStr(t)
			add(t)
		}
	}
	for _, k := range q.keys {
		name, value, _ := strings.Cut(k, "=")
		t, err := dcm.ParseTag(strings.TrimSpace(name))
		if err != nil {
			return nil, nil, "", "", fmt.Errorf("-k %s: %w", k, err)
		}
		if t == dcm.TagQueryRetrieveLevel {
			return nil, nil, "", "", errors.New("-k QueryRetrieveLevel: use --level")
		}
		vr := dcm.VROf(t)
		switch vr {
		case "SQ", "OB", "OW", "OF", "OD", "OL", "OV", "UN", "US", "SS", "UL", "SL", "FL", "FD", "AT", "UV", "SV":
			// Binary values are return keys only (universal matching).
			if value != "" {
				return nil, nil, "", "", fmt.Errorf("-k %s: %s attributes can only be return keys (no value)", k, vr)
			}
		}
		if vr == "SQ" {
			ds.SetSeq(t)
		} else {
			ds.Put(&dcm.Element{Tag: t, VR: vr})
			if value != "" {
				ds.SetStr(t, value)
			}
		}
		add(t)
	}
	return ds, order, findClass, moveClass, nil
}

// queryAssoc is an association for one query/retrieve SOP class with the
// query identifier encoded in the transfer syntax accepted for it.
type queryAssoc struct {
	*dimse.Association
	class string    // the C-FIND or C-MOVE SOP class of the query's root
	id    []byte    // the encoded identifier
	order []dcm.Tag // its keys in print order
}

// dialQuery builds the identifier the query flags describe (C-FIND: with
// the level's default return keys), associates for the find or move SOP
// class of their root and encodes the identifier; the caller releases the
// association.
func (f *scuFlags) dialQuery(ctx context.Context, q *queryFlags, find bool) (*queryAssoc, error) {
	ds, order, findClass, moveClass, err := q.identifier(find)
	if err != nil {
		return nil, err
	}
	qa := &queryAssoc{class: moveClass, order: order}
	if find {
		qa.class = findClass
	}
	a, err := f.dial(ctx, []dimse.ContextProposal{{AbstractSyntax: qa.class}})
	if err != nil {
		return nil, err
	}
	ts, ok := a.TransferSyntax(qa.class)
	var b bytes.Buffer
	if !ok {
		err = &dimse.NoContextError{SOPClassUID: qa.class}
	} else {
		err = dcm.WriteDataset(&b, ds, ts)
	}
	if err != nil {
		_ = a.Release(context.Background())
		return nil, err
	}
	qa.Association, qa.id = a, b.Bytes()
	return qa, nil
}

func runDicomFind(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "dicom find", "dicom find --host H --port P [--aec CALLED] [--level STUDY] [--root study|patient] [-k Keyword[=value]]... [--json]")
	f := addSCUFlags(fs)
	q := addQueryFlags(fs)
	asJSON := fs.Bool("json", false, "print the matches as one JSON array of {Keyword: value} objects")
	limit := fs.Int("limit", 0, "stop (C-CANCEL) after this many matches; 0 for all")
	if err := parseWant(fs, args, env, func() bool { return fs.NArg() == 0 }); err != nil {
		return err
	}
	qa, err := f.dialQuery(ctx, q, true)
	if err != nil {
		return err
	}
	defer func() { _ = qa.Release(context.Background()) }()
	ts, _ := qa.TransferSyntax(qa.class)
	var matches []map[string]string
	n := 0
	errLimit := errors.New("limit reached")
	status, err := qa.Find(ctx, qa.class, qa.id, func(b []byte) error {
		m, err := dcm.ReadDataset(bytes.NewReader(b), ts, dcm.ReadOptions{})
		if err != nil {
			return fmt.Errorf("decoding a match: %w", err)
		}
		n++
		if *asJSON {
			matches = append(matches, matchMap(m, qa.order))
		} else {
			fmt.Fprintln(env.Stdout, matchLine(m, qa.order))
		}
		if *limit > 0 && n >= *limit {
			return errLimit
		}
		return nil
	})
	if err != nil && !errors.Is(err, errLimit) {
		return fmt.Errorf("C-FIND: %w", err)
	}
	if *asJSON {
		if matches == nil {
			matches = []map[string]string{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(matches); err != nil {
			return err
		}
	}
	if err == nil && dimse.ClassifyStatus(status) != dimse.KindSuccess && dimse.ClassifyStatus(status) != dimse.KindCancel {
		return fmt.Errorf("C-FIND failed with status 0x%04X after %d match(es)", status, n)
	}
	fmt.Fprintf(env.Stderr, "%d match(es)\n", n)
	return nil
}

// elementValue renders an element's value as text: strings joined by
// backslash, binary integers and floats in decimal, sequences as a count.
func elementValue(e *dcm.Element) string {
	if e == nil {
		return ""
	}
	switch e.VR {
	case "SQ":
		return fmt.Sprintf("(%d items)", len(e.Items))
	case "US", "SS", "UL", "SL", "UV", "SV":
		var s []string
		for _, v := range e.Ints() {
			s = append(s, strconv.Itoa(v))
		}
		return strings.Join(s, `\`)
	case "FL", "FD":
		var s []string
		for _, v := range e.Floats() {
			s = append(s, strconv.FormatFloat(v, 'g', -1, 64))
		}
		return strings.Join(s, `\`)
	case "OB", "OW", "OF", "OD", "OL", "OV", "UN", "AT":
		return fmt.Sprintf("(%d bytes)", len(e.Value))
	}
	return strings.Join(e.Strings(), `\`)
}

func keyName(t dcm.Tag) string {
	if k := dcm.Keyword(t); k != "" {
		return k
	}
	return t.Hex()
}

// matchTags lists the requested keys in order, then any others the peer
// returned (QueryRetrieveLevel and command-like groups left out).
func matchTags(m *dcm.Dataset, order []dcm.Tag) []dcm.Tag {
	tags := append([]dcm.Tag(nil), order...)
	in := map[dcm.Tag]bool{dcm.TagQueryRetrieveLevel: true, dcm.TagSpecificCharacterSet: true}
	for _, t := range order {
		in[t] = true
	}
	for _, e := range m.Elements {
		if !in[e.Tag] && e.Tag.Element() != 0 {
			tags = append(tags, e.Tag)
			in[e.Tag] = true
		}
	}
	return tags
}

func matchLine(m *dcm.Dataset, order []dcm.Tag) string {
	var parts []string
	for _, t := range matchTags(m, order) {
		v := elementValue(m.Get(t))
		if v == "" || strings.ContainsAny(v, " \"\t") {
			v = strconv.Quote(v)
		}
		parts = append(parts, keyName(t)+"="+v)
	}
	return strings.Join(parts, " ")
}

func matchMap(m *dcm.Dataset, order []dcm.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range matchTags(m, order) {
		out[keyName(t)] = elementValue(m.Get(t))
	}
	return out
}

func runDicomMove(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "dicom move", "dicom move --host H --port P [--aec CALLED] --dest AE [--level STUDY] [--root study|patient] -k Keyword=value...")
	f := addSCUFlags(fs)
	q := addQueryFlags(fs)
	dest := fs.String("dest", "", "destination AE title the remote sends the instances to (C-MOVE destination)")
	quiet := fs.Bool("quiet", false, "do not print progress")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 || *dest == "" || len(q.keys) == 0 {
		if *dest == "" {
			fmt.Fprintln(env.Stderr, "lightbox dicom move: --dest is required")
		}
		if len(q.keys) == 0 {
			fmt.Fprintln(env.Stderr, "lightbox dicom move: at least one -k Keyword=value (e.g. StudyInstanceUID=...) is required")
		}
		fs.Usage()
		return errUsage
	}
	qa, err := f.dialQuery(ctx, q, false)
	if err != nil {
		return err
	}
	defer func() { _ = qa.Release(context.Background()) }()
	start := time.Now()
	res, err := qa.Move(ctx, qa.class, *dest, qa.id, func(p dimse.RetrieveProgress) {
		if !*quiet {
			fmt.Fprintf(env.Stderr, "remaining: %d  completed: %d  failed: %d  warning: %d\n", p.Remaining, p.Completed, p.Failed, p.Warning)
		}
	})
	if err != nil {
		return fmt.Errorf("C-MOVE: %w", err)
	}
	fmt.Fprintf(env.Stdout, "C-MOVE to %s: status 0x%04X  completed: %d  failed: %d  warning: %d  (%.1fs)\n",
		*dest, res.Status, res.Completed, res.Failed, res.Warning, time.Since(start).Seconds())
	if dimse.IsFailure(res.Status) || res.Failed > 0 {
		msg := fmt.Sprintf("C-MOVE failed with status 0x%04X", res.Status)
		if res.Status == dimse.StatusMoveDestinationUnknown {
			msg += " (move destination unknown: the remote must know " + *dest + "'s address)"
		}
		if res.ErrorComment != "" {
			msg += ": " + res.ErrorComment
		}
		if res.Failed > 0 {
			msg += fmt.Sprintf(" (%d sub-operation(s) failed)", res.Failed)
		}
		return errors.New(msg)
	}
	if res.Status == dimse.StatusCancel {
		return errors.New("C-MOVE cancelled")
	}
	return nil
}
