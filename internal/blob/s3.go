package blob

// S3-compatible object storage.
//
// A blob is spooled to a local temporary file while it is written (so
// Pixel Data never sits in memory and a failed upload can be resent from
// the start of any part), then uploaded under its final key at Commit:
// one PUT for small blobs, a multipart upload (parts of PartSize, sent in
// parallel, each part retried on its own) for large ones. Commit returns
// only after the upload completed and a HEAD of the key confirmed its
// size, which is the S3 form of "durable before acknowledged": S3 answers
// a PUT or CompleteMultipartUpload only once the object is stored.
// Content-addressed keys make a second upload of the same key unnecessary,
// so Commit skips it when the key exists.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// S3Options are the settings of an S3 store, parsed from its URL.
type S3Options struct {
	Bucket, Prefix string
	// Endpoint is host:port; empty means AWS (s3.REGION.amazonaws.com).
	Endpoint string
	Region   string
	// Secure uses HTTPS (default on).
	Secure bool
	// PathStyle addresses the bucket in the path, not the host name (the
	// default with an explicit endpoint: most self-hosted servers want it).
	PathStyle bool
	// SSE asks the server to encrypt objects: "s3" (SSE-S3, AES256) or
	// "kms" (SSE-KMS with KMSKey).
	SSE, KMSKey string
	// PartSize is the multipart part size (≥ 5 MiB); blobs up to it go in
	// one PUT.
	PartSize int64
	// Retries is how many times a failed request is tried again, with
	// exponential backoff and full jitter.
	Retries int
	// Spool is the local folder for in-flight blobs (per-process temp
	// folders, cleaned like the folder store's).
	Spool string
	// AccessKey, SecretKey, SessionToken come from the environment or a
	// credentials file, never from the URL.
	AccessKey, SecretKey, SessionToken string
}

// ParseS3URL reads s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=R&secure=
// true|false&path-style=true|false&sse=s3|kms&kms-key=ID&part-size=BYTES&
// retries=N&spool=DIR&credentials=FILE. Credentials come from
// LIGHTBOX_S3_ACCESS_KEY_ID / LIGHTBOX_S3_SECRET_ACCESS_KEY, else
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else
// the file named by credentials= or LIGHTBOX_S3_CREDENTIALS.
func ParseS3URL(raw string) (S3Options, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Options{}, fmt.Errorf("blob store URL: want s3://BUCKET[/PREFIX]?endpoint=…")
	}
	if u.User != nil {
		return S3Options{}, errors.New("blob store URL: credentials never go in the URL (use LIGHTBOX_S3_ACCESS_KEY_ID/LIGHTBOX_S3_SECRET_ACCESS_KEY or credentials=FILE)")
	}
	q := u.Query()
	o := S3Options{
		Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"),
		Endpoint: q.Get("endpoint"), Region: q.Get("region"),
		Secure: true, SSE: q.Get("sse"), KMSKey: q.Get("kms-key"),
		PartSize: 16 << 20, Retries: 6, Spool: q.Get("spool"),
	}
	o.PathStyle = o.Endpoint != ""
	for name, dst := range map[string]*bool{"secure": &o.Secure, "path-style": &o.PathStyle} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return S3Options{}, fmt.Errorf("blob store URL: %s=%q: %w", name, v, err)
			}
			*dst = b
		}
	}
	for name, dst := range map[string]*int64{"part-size": &o.PartSize} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return S3Options{}, fmt.Errorf("blob store URL: %s=%q: %w", name, v, err)
			}
			*dst = n
		}
	}
	if v := q.Get("retries"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return S3Options{}, fmt.Errorf("blob store URL: retries=%q", v)
		}
		o.Retries = n
	}
	if o.PartSize < 5<<20 {
		return S3Options{}, fmt.Errorf("blob store URL: part-size %d is below the S3 minimum of 5 MiB", o.PartSize)
	}
	switch o.SSE {
	case "", "s3":
	case "kms":
		if o.KMSKey == "" {
			return S3Options{}, errors.New("blob store URL: sse=kms needs kms-key=ID")
		}
	default:
		return S3Options{}, fmt.Errorf("blob store URL: sse=%q (want s3 or kms)", o.SSE)
	}
	if o.Spool == "" {
		o.Spool = filepath.Join(os.TempDir(), "lightbox-s3-spool")
	}
	file := q.Get("credentials")
	if file == "" {
		file = os.Getenv("LIGHTBOX_S3_CREDENTIALS")
	}
	if err := o.loadCredentials(file); err != nil {
		return S3Options{}, err
	}
	return o, nil
}

func (o *S3Options) loadCredentials(file string) error {
	for _, pair := range [][3]string{
		{"LIGHTBOX_S3_ACCESS_KEY_ID", "LIGHTBOX_S3_SECRET_ACCESS_KEY", "LIGHTBOX_S3_SESSION_TOKEN"},
		{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"},
	} {
		if a, s := os.Getenv(pair[0]), os.Getenv(pair[1]); a != "" && s != "" {
			o.AccessKey, o.SecretKey, o.SessionToken = a, s, os.Getenv(pair[2])
			return nil
		}
	}
	if file == "" {
		return errors.New("blob store: no S3 credentials (set LIGHTBOX_S3_ACCESS_KEY_ID and LIGHTBOX_S3_SECRET_ACCESS_KEY, or credentials=FILE)")
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("blob store credentials: %w", err)
	}
	defer f.Close()
	// "key = value" lines; the AWS shared-credentials names are accepted so
	// an existing file works as it is.
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "access_key_id", "aws_access_key_id":
			o.AccessKey = v
		case "secret_access_key", "aws_secret_access_key":
			o.SecretKey = v
		case "session_token", "aws_session_token":
			o.SessionToken = v
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("blob store credentials: %w", err)
	}
	if o.AccessKey == "" || o.SecretKey == "" {
		return fmt.Errorf("blob store credentials: %s names no access_key_id and secret_access_key", file)
	}
	return nil
}

// S3 is a Store in an S3-compatible bucket.
type S3 struct {
	opt   S3Options
	core  *minio.Core
	spool *Dir
	sse   encrypt.ServerSide
	// sleep waits between retries (replaced in tests).
	sleep func(ctx context.Context, d time.Duration) error
}

var _ Store = (*S3)(nil)

// OpenS3 connects to the bucket named by a URL (see ParseS3URL) and checks
// that it exists.
func OpenS3(ctx context.Context, raw string) (*S3, error) {
	opt, err := ParseS3URL(raw)
	if err != nil {
		return nil, err
	}
	return NewS3(ctx, opt)
}

// NewS3 opens an S3 store with explicit options.
func NewS3(ctx context.Context, opt S3Options) (*S3, error) {
	endpoint := opt.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
		if opt.Region != "" {
			endpoint = "s3." + opt.Region + ".amazonaws.com"
		}
	}
	lookup := minio.BucketLookupDNS
	if opt.PathStyle {
		lookup = minio.BucketLookupPath
	}
	// Retries are ours (retry below), so the client must not add its own.
	c, err := minio.NewCore(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(opt.AccessKey, opt.SecretKey, opt.SessionToken),
		Secure:       opt.Secure,
		Region:       opt.Region,
		BucketLookup: lookup,
		MaxRetries:   1,
	})
	if err != nil {
		return nil, fmt.Errorf("open S3 store: %w", err)
	}
	s := &S3{opt: opt, core: c, sleep: sleepCtx}
	switch opt.SSE {
	case "s3":
		s.sse = encrypt.NewSSE()
	case "kms":
		if s.sse, err = encrypt.NewSSEKMS(opt.KMSKey, nil); err != nil {
			return nil, fmt.Errorf("open S3 store: %w", err)
		}
	}
	var ok bool
	err = s.retry(ctx, "bucket exists", func(ctx context.Context) (err error) {
		ok, err = c.BucketExists(ctx, opt.Bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open S3 store %s: %w", opt.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("open S3 store: bucket %q does not exist", opt.Bucket)
	}
	if s.spool, err = OpenDir(opt.Spool); err != nil {
		return nil, fmt.Errorf("open S3 spool: %w", err)
	}
	return s, nil
}

// Options returns the store's settings (credentials included: do not log).
func (s *S3) Options() S3Options { return s.opt }

// StaleRemoved counts spooled temp files of dead processes removed at open.
func (s *S3) StaleRemoved() int { return s.spool.StaleRemoved }

func (s *S3) name(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	if s.opt.Prefix == "" {
		return key, nil
	}
	return s.opt.Prefix + "/" + key, nil
}

// Close removes this process's spool folder.
func (s *S3) Close() error { return s.spool.Close() }

// Create spools a new blob locally until Commit uploads it.
func (s *S3) Create(ctx context.Context) (Writer, error) {
	w, err := s.spool.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &s3Writer{s: s, w: w.(*dirWriter)}, nil
}

type s3Writer struct {
	s *S3
	w *dirWriter
}

func (w *s3Writer) Write(p []byte) (int, error) { return w.w.Write(p) }

// Abort removes the spooled file; after Commit it does nothing.
func (w *s3Writer) Abort() error { return w.w.Abort() }

func (w *s3Writer) Commit(ctx context.Context, key string) error {
	defer w.w.Abort()
	name, err := w.s.name(key)
	if err != nil {
		return err
	}
	size, err := w.w.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("spooled blob: %w", err)
	}
	if info, err := w.s.stat(ctx, name); err == nil && info.Size == size {
		return nil // content-addressed: the same bytes are already there
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("publish blob %s: %w", key, err)
	}
	opts := minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		PartSize:             uint64(w.s.opt.PartSize),
		ServerSideEncryption: w.s.sse,
		SendContentMd5:       true,
	}
	// Each attempt re-reads the spooled file from the start; inside a
	// multipart upload every part is read with ReadAt, so it is resendable.
	err = w.s.retry(ctx, "put", func(ctx context.Context) error {
		_, err := w.s.core.Client.PutObject(ctx, w.s.opt.Bucket, name, io.NewSectionReader(w.w.f, 0, size), size, opts)
		return err
	})
	if err != nil {
		return fmt.Errorf("publish blob %s: %w", key, err)
	}
	info, err := w.s.stat(ctx, name)
	if err != nil {
		return fmt.Errorf("confirm blob %s: %w", key, err)
	}
	if info.Size != size {
		return fmt.Errorf("confirm blob %s: stored %d bytes, sent %d", key, info.Size, size)
	}
	return nil
}

func (s *S3) stat(ctx context.Context, name string) (info minio.ObjectInfo, err error) {
	err = s.retry(ctx, "stat", func(ctx context.Context) error {
		info, err = s.core.Client.StatObject(ctx, s.opt.Bucket, name, s.getOpts())
		return err
	})
	return info, err
}

// getOpts carries nothing for SSE-S3/KMS (the server decrypts by itself).
func (s *S3) getOpts() minio.GetObjectOptions { return minio.GetObjectOptions{} }

// Open returns a published blob; reads are ranged GETs (see s3Object).
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	info, err := s.stat(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	return &s3Object{s: s, ctx: context.WithoutCancel(ctx), key: key, name: name, cursor: cursor{size: info.Size}}, nil
}

// Exists reports whether key is published.
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	name, err := s.name(key)
	if err != nil {
		return false, err
	}
	_, err = s.stat(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes a published blob (absent is not an error).
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	return s.remove(ctx, "delete", key, name)
}

// remove deletes object name, stored for key; absent is not an error.
func (s *S3) remove(ctx context.Context, op, key, name string) error {
	err := s.retry(ctx, op, func(ctx context.Context) error {
		return s.core.Client.RemoveObject(ctx, s.opt.Bucket, name, minio.RemoveObjectOptions{})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s blob %s: %w", op, key, err)
	}
	return nil
}

// get opens the bytes [off, end) of an object (end < 0: to its end).
func (s *S3) get(ctx context.Context, name string, off, end int64) (body io.ReadCloser, err error) {
	err = s.retry(ctx, "get", func(ctx context.Context) error {
		opts := s.getOpts()
		if end < 0 {
			err = opts.SetRange(off, 0)
		} else {
			err = opts.SetRange(off, end-1)
		}
		if err != nil {
			return err
		}
		body, _, _, err = s.core.GetObject(ctx, s.opt.Bucket, name, opts)
		return err
	})
	return body, err
}

// retry runs op until it succeeds, fails for a reason a retry cannot fix,
// or Retries are used up; waits grow exponentially (100 ms doubling, at
// most 5 s) with full jitter so many nodes retrying together spread out.
func (s *S3) retry(ctx context.Context, what string, op func(context.Context) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = mapS3Err(op(ctx))
		if err == nil || !transient(err) || attempt >= s.opt.Retries || ctx.Err() != nil {
			return err
		}
		if werr := s.sleep(ctx, backoff(attempt)); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

func backoff(attempt int) time.Duration {
	ceiling := 100 * time.Millisecond << min(attempt, 6)
	ceiling = min(ceiling, 5*time.Second)
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func mapS3Err(err error) error {
	if err == nil {
		return nil
	}
	var r minio.ErrorResponse
	if errors.As(err, &r) && (r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey" || r.Code == "NotFound") && r.Code != "NoSuchBucket" {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// transient tells errors worth another try: the network, throttling and
// the server's 5xx, not refusals (403, 404, bad requests).
func transient(err error) bool {
	if errors.Is(err, ErrNotFound) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var r minio.ErrorResponse
	if errors.As(err, &r) {
		switch r.Code {
		case "SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailable", "RequestTimeTooSkewed", "XMinioServerNotInitialized":
			return true
		}
		return r.StatusCode == http.StatusTooManyRequests || r.StatusCode >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "connection refused")
}

// s3Object reads a published blob with ranged GETs. A read at an offset
// nobody asked for before fetches exactly that range (a frame); a read that
// continues where the previous one ended opens one streaming GET to the end
// of the object and keeps reading from it, so a whole-file transfer (or the
// encrypted store's chunk-by-chunk reads) is one request, not thousands.
type s3Object struct {
	s    *S3
	ctx  context.Context
	key  string
	name string
	cursor

	mu      sync.Mutex
	body    io.ReadCloser
	bodyAt  int64 // offset of body's next byte
	lastEnd int64 // end of the previous ranged read
}

func (o *s3Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("blob: negative offset")
	}
	if off >= o.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), o.size-off)
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.readAt(p[:want], off)
	if err == nil && int64(n) < int64(len(p)) {
		err = io.EOF
	}
	return n, err
}

func (o *s3Object) readAt(p []byte, off int64) (int, error) {
	if o.body != nil && o.bodyAt == off {
		n, err := io.ReadFull(o.body, p)
		o.bodyAt += int64(n)
		if err == nil {
			return n, nil
		}
		// The stream broke: drop it and fetch the rest as a range.
		o.closeBody()
		m, err := o.readRange(p[n:], off+int64(n))
		return n + m, err
	}
	if o.lastEnd == off && off > 0 {
		o.closeBody()
		body, err := o.get(off, -1)
		if err != nil {
			return 0, err
		}
		o.body, o.bodyAt = body, off
		return o.readAt(p, off)
	}
	return o.readRange(p, off)
}

func (o *s3Object) readRange(p []byte, off int64) (int, error) {
	body, err := o.get(off, off+int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p)
	if err != nil {
		return n, fmt.Errorf("read blob range: %w", err)
	}
	o.lastEnd = off + int64(n)
	return n, nil
}

// get fetches a range, following the object to its retired name when it
// was retired after Open (Retirer): a reader that began before a deletion
// finishes within the grace period, as an open file does on a folder.
func (o *s3Object) get(off, end int64) (io.ReadCloser, error) {
	body, err := o.s.get(o.ctx, o.name, off, end)
	if errors.Is(err, ErrNotFound) {
		if retired, rerr := o.s.retiredName(o.key); rerr == nil && retired != o.name {
			if body, err2 := o.s.get(o.ctx, retired, off, end); err2 == nil {
				o.name = retired
				return body, nil
			}
		}
	}
	return body, err
}

func (o *s3Object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *s3Object) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := o.ReadAt(p, o.pos)
	o.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (o *s3Object) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closeBody()
	return nil
}
