package importer

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// NewBar is a terminal progress bar: files, MB, rate and ETA.
func NewBar(w io.Writer) Progress { return &bar{w: w} }

type bar struct {
	w   io.Writer
	pb  *progressbar.ProgressBar
	mu  sync.Mutex
	n   int
	tot int
}

func (b *bar) Start(files int, bytes int64) {
	b.tot = files
	b.pb = progressbar.NewOptions64(bytes,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetDescription(fmt.Sprintf("0/%d files", files)),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionFullWidth(),
	)
}

func (b *bar) Add(files int, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n += files
	b.pb.Describe(fmt.Sprintf("%d/%d files", b.n, b.tot))
	_ = b.pb.Add64(bytes)
}

func (b *bar) Finish() {
	_ = b.pb.Finish()
	fmt.Fprintln(b.w)
}

// NewLog reports progress as a structured log line every interval, for
// when output is not a terminal.
func NewLog(log *slog.Logger, every time.Duration) Progress {
	return &logProgress{log: log, every: every}
}

type logProgress struct {
	log          *slog.Logger
	every        time.Duration
	mu           sync.Mutex
	files, total int
	bytes, totB  int64
	start, last  time.Time
}

func (l *logProgress) Start(files int, bytes int64) {
	l.total, l.totB, l.start, l.last = files, bytes, time.Now(), time.Now()
	l.log.Info("import started", "files", files, "mb", bytes>>20)
}

func (l *logProgress) Add(files int, bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.files += files
	l.bytes += bytes
	if time.Since(l.last) >= l.every {
		l.last = time.Now()
		l.line("import progress")
	}
}

func (l *logProgress) line(msg string) {
	el := time.Since(l.start).Seconds()
	rate := float64(l.bytes) / (1 << 20) / max(el, 1e-9)
	eta := 0.0
	if l.bytes > 0 {
		eta = el * float64(l.totB-l.bytes) / float64(l.bytes)
	}
	l.log.Info(msg, "files", l.files, "of", l.total, "mb", l.bytes>>20, "mb_per_s", fmt.Sprintf("%.1f", rate), "eta_s", int(eta))
}

func (l *logProgress) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.line("import finished")
}
