package app_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// value sums the samples of the metric name whose labels include want.
func value(t *testing.T, reg prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for k, v := range want {
				if label(m, k) != v {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A small routing load moves the figures /metrics shows: requests,
// routing decisions, open streams and push lag, the outbox's depth and
// attempts, the database pool.
func TestMetricsMove(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		w := &ping{done: make(chan int64, 10)}
		env := New(t, b, Options{Configure: func(o *app.Options) {
			o.Outbox.Register = func(ws *river.Workers) { river.AddWorker(ws, w) }
			o.Outbox.PollInterval = 50 * time.Millisecond
		}})
		reg := env.Server.App.Metrics().Registry()
		co := env.Demo()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		// Bruce Wayne's stream, caught up, then live.
		stream, err := env.Clients(co.Token, client.Connect).Notification.Subscribe(ctx, &pb.SubscribeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		live := make(chan struct{}, 100)
		go func() {
			caught := false
			for stream.Receive() {
				switch stream.Msg().Event.(type) {
				case *pb.SubscribeResponse_CaughtUp:
					caught = true
				case *pb.SubscribeResponse_Decision:
					if caught {
						live <- struct{}{}
					}
				}
			}
		}()
		subscribe := map[string]string{"procedure": "/switchboard.v1.NotificationService/Subscribe"}
		waitFor(t, "an open stream", func() bool { return value(t, reg, "switchboard_streams_open", subscribe) == 1 })

		admin := env.Admin()
		const n = 10
		for i := range n {
			Route(t, admin, co.Channels["WhatsApp Sales"], Phone(100+i), "hello")
		}
		if got := value(t, reg, "switchboard_routing_decisions_total", nil); got != n {
			t.Errorf("routing decisions: %v, want %d", got, n)
		}
		route := map[string]string{"procedure": "/switchboard.v1.RoutingService/RouteIncomingMessage", "code": "ok"}
		if got := value(t, reg, "switchboard_rpc_requests_total", route); got != n {
			t.Errorf("RouteIncomingMessage ok: %v, want %d", got, n)
		}
		if got := value(t, reg, "switchboard_rpc_duration_seconds", map[string]string{"procedure": route["procedure"]}); got != n {
			t.Errorf("RouteIncomingMessage timed: %v, want %d", got, n)
		}
		// A refused call counts under its code.
		_, err = admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{})
		WantCode(t, err, connect.CodeInvalidArgument)
		if got := value(t, reg, "switchboard_rpc_requests_total", map[string]string{"procedure": route["procedure"], "code": "invalid_argument"}); got != 1 {
			t.Errorf("RouteIncomingMessage invalid_argument: %v, want 1", got)
		}
		select {
		case <-live:
			waitFor(t, "push lag observed", func() bool { return value(t, reg, "switchboard_push_delivery_lag_seconds", nil) >= 1 })
		case <-time.After(10 * time.Second):
			t.Error("Bruce Wayne's stream got no live decision")
		}

		// The outbox: one job due in an hour (pending, scheduled), one
		// worked now.
		actx := tenant.NewContext(context.Background(), env.AccountID)
		err = env.Store.Tx(actx, func(tx *ent.Tx) error {
			if _, err := env.Server.App.Outbox().Enqueue(actx, tx, pingArgs{outbox.Account{AccountID: env.AccountID}},
				&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
				return err
			}
			_, err := env.Server.App.Outbox().Enqueue(actx, tx, pingArgs{outbox.Account{AccountID: env.AccountID}}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := value(t, reg, "switchboard_outbox_jobs", map[string]string{"queue": "default", "state": "scheduled"}); got != 1 {
			t.Errorf("outbox jobs scheduled: %v, want 1", got)
		}
		waitFor(t, "an attempt completed", func() bool {
			return value(t, reg, "switchboard_outbox_attempts_total", map[string]string{"queue": "default", "outcome": "completed"}) >= 1
		})
		if got := value(t, reg, "switchboard_go_sql_max_open_connections", nil); got < 1 {
			t.Errorf("database pool figures missing: max open connections %v", got)
		}

		// The same through the handler, in Prometheus's text format.
		rec := httptest.NewRecorder()
		env.Server.App.Metrics().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Result().Body)
		for _, want := range []string{"switchboard_rpc_requests_total{", "switchboard_routing_decisions_total{", "switchboard_streams_open{",
			"switchboard_outbox_jobs{", "switchboard_go_sql_open_connections", "go_goroutines"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}

		cancel()
		waitFor(t, "the stream closed", func() bool { return value(t, reg, "switchboard_streams_open", subscribe) == 0 })
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
