package metrics

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/routing"
)

// Metrics are one server's metrics and the registry that holds them.
type Metrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	streams     *prometheus.GaugeVec
	decisions   *prometheus.CounterVec
	claims      *prometheus.CounterVec
	pushLag     prometheus.Histogram
	attempts    *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

// New returns metrics in a registry of their own, with Go's runtime and
// the process's figures.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_rpc_requests_total",
			Help: "RPCs handled, streams included, by procedure and Connect code (ok for success).",
		}, []string{"procedure", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_rpc_duration_seconds",
			Help:    "How long RPCs took, by procedure; for a stream, how long it was open.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5 ms … 16 s
		}, []string{"procedure"}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_streams_open",
			Help: "Streams open now (Subscribe), by procedure.",
		}, []string{"procedure"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_routing_decisions_total",
			Help: "Incoming messages routed (replays not counted), by the channel's distribution mode and how the responsible was settled.",
		}, []string{"mode", "outcome"}),
		claims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_claims_total",
			Help: "First-responder claims: won (the reply claimed the client) or lost (another candidate had claimed it).",
		}, []string{"outcome"}),
		pushLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_push_delivery_lag_seconds",
			Help:    "Time from a push decision being stored to its being sent on a live stream (after the stream caught up).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14), // 1 ms … 8 s
		}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_outbox_attempts_total",
			Help: "Outbox delivery attempts this replica finished, by queue (CRM kind) and outcome: completed, failed (retried, or parked when out of attempts), cancelled (refused by the CRM), snoozed (put off by a rate limit).",
		}, []string{"queue", "outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_rate_limited_total",
			Help: "Calls refused with RESOURCE_EXHAUSTED by a credential's rate limit, by procedure.",
		}, []string{"procedure"}),
	}
	reg.MustRegister(m.requests, m.duration, m.streams, m.decisions, m.claims, m.pushLag, m.attempts, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry the metrics are in; more collectors may join it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// WatchDB adds the database pool's figures (database/sql's Stats), named
// switchboard_go_sql_…, and the outbox's queue depth, read from River's
// job table on each scrape.
func (m *Metrics) WatchDB(db *sql.DB) {
	prometheus.WrapRegistererWithPrefix("switchboard_", m.reg).MustRegister(collectors.NewDBStatsCollector(db, "switchboard"))
	m.reg.MustRegister(&outboxDepth{db: db, desc: prometheus.NewDesc("switchboard_outbox_jobs",
		"Outbox jobs by queue (CRM kind) and state, completed ones left out: available, scheduled, running and retryable are pending; cancelled and discarded have failed and wait for a retry by hand.",
		[]string{"queue", "state"}, nil)})
}

// WatchOutbox counts the outbox's attempts from its events until stop.
func (m *Metrics) WatchOutbox(events <-chan *river.Event) {
	if events == nil {
		return
	}
	go func() {
		for e := range events {
			if e == nil || e.Job == nil {
				continue
			}
			var outcome string
			switch e.Kind {
			case river.EventKindJobCompleted:
				outcome = "completed"
			case river.EventKindJobFailed:
				outcome = "failed"
			case river.EventKindJobCancelled:
				outcome = "cancelled"
			case river.EventKindJobSnoozed:
				outcome = "snoozed"
			default:
				continue
			}
			m.attempts.WithLabelValues(e.Job.Queue, outcome).Inc()
		}
	}()
}

// outboxDepth reads how many jobs each queue holds in each state when
// scraped.
type outboxDepth struct {
	db   *sql.DB
	desc *prometheus.Desc
}

func (o *outboxDepth) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }

func (o *outboxDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := o.db.QueryContext(ctx, `SELECT queue, state, count(*) FROM river_job WHERE state <> 'completed' GROUP BY queue, state`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(o.desc, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var queue, state string
		var n int64
		if err := rows.Scan(&queue, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(o.desc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(o.desc, prometheus.GaugeValue, float64(n), queue, state)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(o.desc, err)
	}
}

// Interceptor counts and times every RPC and stream, and reads routing's
// answers. Put it outside the error mapping, so it sees the codes callers
// get.
func (m *Metrics) Interceptor() connect.Interceptor { return interceptor{m} }

type interceptor struct{ m *Metrics }

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		res, err := next(ctx, req)
		procedure := req.Spec().Procedure
		i.m.finish(procedure, start, err)
		if err != nil {
			if lostClaim(err) {
				i.m.claims.WithLabelValues("lost").Inc()
			}
			return res, err
		}
		switch r := res.Any().(type) {
		case *pb.RouteIncomingMessageResponse:
			if !r.Replayed && r.Decision != nil {
				a := r.Decision.GetAssignment()
				i.m.decisions.WithLabelValues(enumName(a.GetMode().String(), "DISTRIBUTION_MODE_"),
					enumName(a.GetSource().String(), "RESPONSIBLE_SOURCE_")).Inc()
			}
		case *pb.RouteOutgoingMessageResponse:
			if !r.Replayed && r.Claimed {
				i.m.claims.WithLabelValues("won").Inc()
			}
		}
		return res, err
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		procedure := conn.Spec().Procedure
		open := i.m.streams.WithLabelValues(procedure)
		open.Inc()
		err := next(ctx, &measuredConn{StreamingHandlerConn: conn, lag: i.m.pushLag})
		open.Dec()
		i.m.finish(procedure, start, err)
		return err
	}
}

func (m *Metrics) finish(procedure string, start time.Time, err error) {
	code := "ok"
	if err != nil {
		code = connect.CodeOf(err).String()
		if connect.CodeOf(err) == connect.CodeResourceExhausted {
			m.rateLimited.WithLabelValues(procedure).Inc()
		}
	}
	m.requests.WithLabelValues(procedure, code).Inc()
	m.duration.WithLabelValues(procedure).Observe(time.Since(start).Seconds())
}

// measuredConn times the push decisions a stream sends live: those after
// its CaughtUp (the replay before it is history, not delivery).
type measuredConn struct {
	connect.StreamingHandlerConn
	lag  prometheus.Histogram
	live bool
}

func (c *measuredConn) Send(msg any) error {
	err := c.StreamingHandlerConn.Send(msg)
	if r, ok := msg.(*pb.SubscribeResponse); ok && err == nil {
		switch e := r.Event.(type) {
		case *pb.SubscribeResponse_CaughtUp:
			c.live = true
		case *pb.SubscribeResponse_Decision:
			if c.live && e.Decision.GetCreateTime() != nil {
				c.lag.Observe(max(time.Since(e.Decision.GetCreateTime().AsTime()).Seconds(), 0))
			}
		}
	}
	return err
}

// lostClaim reports whether err is routing's answer to a reply whose
// client another candidate claimed first.
func lostClaim(err error) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		if info, ok := v.(*errdetails.ErrorInfo); ok && info.Reason == routing.ClaimedReason {
			return true
		}
	}
	return false
}

// enumName is an enum value's name without its prefix, in lower case:
// "round_robin", "distributed".
func enumName(s, prefix string) string { return strings.ToLower(strings.TrimPrefix(s, prefix)) }
