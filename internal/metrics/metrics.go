package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sources are where the gauges come from; any may be nil.
type Sources struct {
	// DB is the index pool (connections in use, waits).
	DB *sql.DB
	// Leader reports whether this node runs the assignment engine.
	Leader func() bool
	// Worklist counts studies by status and the age of the oldest one not
	// yet leased (waiting, queued or uncovered).
	Worklist func(ctx context.Context) (byStatus map[string]int, oldestWaiting time.Duration, err error)
	// Outbox counts pending messages and the age of the oldest.
	Outbox func(ctx context.Context) (pending int, oldest time.Duration, err error)
	// CriticalOpen counts critical-result loops not closed.
	CriticalOpen func(ctx context.Context) (int, error)
	Logger       *slog.Logger
}

// Metrics is a node's registry.
type Metrics struct {
	reg       *prometheus.Registry
	blobSecs  *prometheus.HistogramVec
	blobErrs  *prometheus.CounterVec
	decisions *prometheus.CounterVec
	decideSec prometheus.Histogram
}

// New registers the node's own metrics; Watch adds the storage-backed ones.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.blobSecs = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lightbox_blob_op_seconds", Help: "Blob store operations by kind; op=\"commit\" counts instances written (ingest rate) and their durable-write latency.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"op"})
	m.blobErrs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lightbox_blob_errors_total", Help: "Blob store operations that failed."}, []string{"op"})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lightbox_assignment_decisions_total", Help: "Assignment engine decisions made on this node, by kind."}, []string{"kind"})
	m.decideSec = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "lightbox_assignment_seconds", Help: "Time to apply one event to the engine and persist its decisions.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.reg.MustRegister(m.blobSecs, m.blobErrs, m.decisions, m.decideSec,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Watch registers the gauges read from src (once, after storage is open).
func (m *Metrics) Watch(src Sources) {
	if src.DB != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(src.DB, "index"))
	}
	if src.Leader != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lightbox_engine_leader", Help: "1 when this node runs the assignment engine."}, func() float64 {
			if src.Leader() {
				return 1
			}
			return 0
		}))
	}
	m.reg.MustRegister(&dbCollector{src: src})
}

// ObserveBlob is a blob.Observer.
func (m *Metrics) ObserveBlob(op string, d time.Duration, err error) {
	m.blobSecs.WithLabelValues(op).Observe(d.Seconds())
	if err != nil {
		m.blobErrs.WithLabelValues(op).Inc()
	}
}

// ObserveDecisions records the decisions of one engine event.
func (m *Metrics) ObserveDecisions(kinds []string, d time.Duration) {
	m.decideSec.Observe(d.Seconds())
	for _, k := range kinds {
		m.decisions.WithLabelValues(k).Inc()
	}
}

// Handler serves the text exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	descWorklist = prometheus.NewDesc("lightbox_worklist_studies", "Studies on the worklist by status (cluster-wide).", []string{"status"}, nil)
	descOldest   = prometheus.NewDesc("lightbox_worklist_oldest_unleased_seconds", "Age of the oldest study waiting for a reader (SLA at risk when it nears the turnaround target).", nil, nil)
	descOutbox   = prometheus.NewDesc("lightbox_outbox_pending", "HL7 messages waiting for delivery (cluster-wide).", nil, nil)
	descLag      = prometheus.NewDesc("lightbox_outbox_lag_seconds", "Age of the oldest HL7 message waiting for delivery.", nil, nil)
	descCritical = prometheus.NewDesc("lightbox_critical_loops_open", "Critical-result loops not closed (cluster-wide).", nil, nil)
	descScrapeOK = prometheus.NewDesc("lightbox_metrics_source_up", "1 when a database-backed metric source answered.", []string{"source"}, nil)
)

// dbCollector reads cluster-wide gauges at scrape time.
type dbCollector struct{ src Sources }

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWorklist, descOldest, descOutbox, descLag, descCritical, descScrapeOK} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := func(source string, err error) {
		v := 1.0
		if err != nil {
			v = 0
			if c.src.Logger != nil {
				c.src.Logger.Warn("metrics source", "source", source, "err", err)
			}
		}
		ch <- prometheus.MustNewConstMetric(descScrapeOK, prometheus.GaugeValue, v, source)
	}
	if f := c.src.Worklist; f != nil {
		by, oldest, err := f(ctx)
		for st, n := range by {
			ch <- prometheus.MustNewConstMetric(descWorklist, prometheus.GaugeValue, float64(n), st)
		}
		if err == nil {
			ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, oldest.Seconds())
		}
		up("worklist", err)
	}
	if f := c.src.Outbox; f != nil {
		n, lag, err := f(ctx)
		if err == nil {
			ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n))
			ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, lag.Seconds())
		}
		up("outbox", err)
	}
	if f := c.src.CriticalOpen; f != nil {
		n, err := f(ctx)
		if err == nil {
			ch <- prometheus.MustNewConstMetric(descCritical, prometheus.GaugeValue, float64(n))
		}
		up("critical", err)
	}
}
