package bench

import (
	"context"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
)

// StrangerResult is route → push latency while a transaction that stores
// no decisions stays open, against the same without it, in one run.
type StrangerResult struct {
	Stranger           string
	Base, With         LatencyResult
	DeltaP50, DeltaP99 time.Duration
}

// strangers are the long transactions measured: each opens, writes and
// stays open; the returned function ends it.
var strangers = []struct {
	name string
	open func(ctx context.Context, otherDB, ours string) (func(), error)
}{
	{"a write transaction on an unrelated table of ours", func(ctx context.Context, _, ours string) (func(), error) {
		return longTx(ctx, ours, "UPDATE accounts SET name = name")
	}},
	{"a write transaction in another database of the server", func(ctx context.Context, otherDB, _ string) (func(), error) {
		return longTx(ctx, otherDB, "SELECT pg_current_xact_id()")
	}},
}

func longTx(ctx context.Context, dbURL, stmt string) (func(), error) {
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	tx, err := c.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, stmt)
	}
	if err != nil {
		c.Close(ctx)
		return nil, err
	}
	return func() { _ = tx.Rollback(ctx); c.Close(ctx) }, nil
}

// Strangers measures whether transactions that store no decisions delay
// pushes: new clients are routed at rate per second on 10 channels while
// every sales rep's stream is open, in turns with and without a long
// transaction open, for each kind of stranger.
func Strangers(ctx context.Context, o Options, rate int) ([]StrangerResult, error) {
	u, drop, err := freshSchema(ctx, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer drop()
	st, err := store.Open(ctx, store.Config{URL: u, MaxConns: 16})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	f, err := newFixture(ctx, st, 10, 10)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(st, app.Options{})
	if err != nil {
		return nil, err
	}
	defer srv.quit()
	c := srv.clients(f.key)
	received := sync.Map{}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var connected atomic.Int64
	for _, list := range f.employees {
		for _, e := range list[:len(list)-1] {
			wg.Add(1)
			go func(emp string) {
				defer wg.Done()
				follow(sctx, c, emp, &connected, &received)
			}(ids.Format(e))
		}
	}
	for connected.Load() < 100 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	other, err := url.Parse(o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	other.Path = "/postgres"
	var next atomic.Int64
	slice := o.Duration / (2 * rounds)
	measureLatency(ctx, c, f, rate, slice, &next, &received) // warm-up, not counted
	var out []StrangerResult
	for _, s := range strangers {
		var base, with []LatencyResult
		for i := 0; i < 2*rounds; i++ {
			if i%4 == 0 || i%4 == 3 {
				base = append(base, measureLatency(ctx, c, f, rate, slice, &next, &received))
				continue
			}
			end, err := s.open(ctx, other.String(), u)
			if err != nil {
				return nil, err
			}
			with = append(with, measureLatency(ctx, c, f, rate, slice, &next, &received))
			end()
		}
		r := StrangerResult{Stranger: s.name, Base: merge(base), With: merge(with)}
		r.DeltaP50, r.DeltaP99 = r.With.P50-r.Base.P50, r.With.P99-r.Base.P99
		o.Out("strangers: %s: route → push p50 %s, p99 %s (%d of %d delivered); without it p50 %s, p99 %s (%d of %d): %+.2f ms at p99",
			s.name, ms(r.With.P50), ms(r.With.P99), r.With.Delivered, r.With.Routed, ms(r.Base.P50), ms(r.Base.P99),
			r.Base.Delivered, r.Base.Routed, float64(r.DeltaP99.Microseconds())/1000)
		out = append(out, r)
	}
	stop()
	wg.Wait()
	return out, nil
}

// merge pools slices of one measurement.
func merge(rs []LatencyResult) LatencyResult {
	var out LatencyResult
	for _, r := range rs {
		out.Offered, out.Routed, out.Delivered = r.Offered, out.Routed+r.Routed, out.Delivered+r.Delivered
		out.lat = append(out.lat, r.lat...)
	}
	slices.Sort(out.lat)
	if n := len(out.lat); n > 0 {
		out.P50, out.P99 = out.lat[n/2], out.lat[n*99/100]
	}
	return out
}
