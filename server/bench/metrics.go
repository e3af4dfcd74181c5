package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Figures are what a server's /metrics said at the end of a scenario.
type Figures struct {
	// Requests and Errors count the RouteIncomingMessage calls the server
	// answered, and those it answered with an error.
	Requests, Errors float64
	// MeanLatency is their mean duration in seconds, as the server timed
	// them.
	MeanLatency float64
	// Decisions counts routing decisions, by outcome.
	Decisions map[string]float64
	// Streams is the number of streams open; OutboxPending the outbox's
	// jobs not yet done; DBOpen and DBWaits the pool's open connections
	// and how often a call waited for one.
	Streams, OutboxPending, DBOpen, DBWaits float64
	// PushLagCount is how many push decisions went out on live streams,
	// MeanPushLag their mean time from stored to sent, in seconds.
	PushLagCount, MeanPushLag float64
}

// String is the figures on one line.
func (f Figures) String() string {
	var d []string
	for k, v := range f.Decisions {
		d = append(d, fmt.Sprintf("%s %.0f", k, v))
	}
	return fmt.Sprintf("requests %.0f (errors %.0f), mean %.2f ms; decisions: %s; streams %.0f; outbox pending %.0f; db conns %.0f, waits %.0f",
		f.Requests, f.Errors, 1000*f.MeanLatency, strings.Join(d, ", "), f.Streams, f.OutboxPending, f.DBOpen, f.DBWaits)
}

// scrape reads the server's /metrics at url.
func scrape(ctx context.Context, url string) (Figures, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Figures{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return Figures{}, err
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		return Figures{}, err
	}
	f := Figures{Decisions: map[string]float64{}}
	const route = "/switchboard.v1.RoutingService/RouteIncomingMessage"
	each(mfs["switchboard_rpc_requests_total"], func(m *dto.Metric) {
		if label(m, "procedure") == route {
			f.Requests += m.GetCounter().GetValue()
			if label(m, "code") != "ok" {
				f.Errors += m.GetCounter().GetValue()
			}
		}
	})
	each(mfs["switchboard_rpc_duration_seconds"], func(m *dto.Metric) {
		if h := m.GetHistogram(); label(m, "procedure") == route && h.GetSampleCount() > 0 {
			f.MeanLatency = h.GetSampleSum() / float64(h.GetSampleCount())
		}
	})
	each(mfs["switchboard_routing_decisions_total"], func(m *dto.Metric) {
		f.Decisions[label(m, "outcome")] += m.GetCounter().GetValue()
	})
	each(mfs["switchboard_streams_open"], func(m *dto.Metric) { f.Streams += m.GetGauge().GetValue() })
	each(mfs["switchboard_outbox_jobs"], func(m *dto.Metric) {
		switch label(m, "state") {
		case "available", "scheduled", "retryable", "running", "pending":
			f.OutboxPending += m.GetGauge().GetValue()
		}
	})
	each(mfs["switchboard_push_delivery_lag_seconds"], func(m *dto.Metric) {
		if h := m.GetHistogram(); h.GetSampleCount() > 0 {
			f.PushLagCount = float64(h.GetSampleCount())
			f.MeanPushLag = h.GetSampleSum() / f.PushLagCount
		}
	})
	each(mfs["switchboard_go_sql_open_connections"], func(m *dto.Metric) { f.DBOpen += m.GetGauge().GetValue() })
	each(mfs["switchboard_go_sql_wait_count_total"], func(m *dto.Metric) { f.DBWaits += m.GetCounter().GetValue() })
	return f, nil
}

func each(mf *dto.MetricFamily, fn func(*dto.Metric)) {
	if mf == nil {
		return
	}
	for _, m := range mf.GetMetric() {
		fn(m)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
