package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
)

// Options say what to measure.
type Options struct {
	// DatabaseURL is the PostgreSQL database to measure on; each scenario
	// gets a fresh schema in it, dropped afterwards.
	DatabaseURL string
	// Duration of each scenario.
	Duration time.Duration
	// Callers are the concurrency levels of the routing scenarios.
	Callers []int
	// Channels are the channel counts of the routing scenarios.
	Channels []int
	// SkipCeiling leaves the pgx ceiling out (for profiling the API alone).
	SkipCeiling bool
	// Out receives progress lines.
	Out func(format string, args ...any)
}

var phones atomic.Int64

// nextPhone returns a valid Russian mobile number never used before in
// this process.
func nextPhone() string { return fmt.Sprintf("+7916%07d", phones.Add(1)) }

// freshSchema creates a schema and returns a URL using it and a drop func.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", "switchboard-bench")
	u.RawQuery = q.Encode()
	drop := func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	}
	return u.String(), drop, nil
}

// Routing measures RouteIncomingMessage over Connect (h2c) against
// PostgreSQL, new clients on 100 channels and on 1 channel, at each
// concurrency, with the pgx ceiling alongside; then CheckAccess.
func Routing(ctx context.Context, o Options) ([]Result, error) {
	var out []Result
	for _, channels := range o.Channels {
		for _, callers := range o.Callers {
			r, c, err := routingPair(ctx, o, channels, callers)
			if err != nil {
				return nil, err
			}
			o.Out("%-34s %8.0f routes/s  p50 %s  p99 %s", r.Name, r.Rate(), ms(r.P50), ms(r.P99))
			if r.Server != nil {
				o.Out("%-34s %s", "  server's /metrics", r.Server)
			}
			out = append(out, r)
			if !o.SkipCeiling {
				o.Out("%-34s %8.0f routes/s  p50 %s  p99 %s", c.Name, c.Rate(), ms(c.P50), ms(c.P99))
				o.Out("%-34s %8.0f%% of the ceiling's rate, p99 %.1f× the ceiling's", "  ratio", 100*r.Rate()/c.Rate(), float64(r.P99)/float64(c.P99))
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// routingPair measures the API and the ceiling on two fresh schemas of the
// same shape, taking turns (see compare).
func routingPair(ctx context.Context, o Options, channels, callers int) (api, ceil Result, err error) {
	name := fmt.Sprintf("route %d ch, %d callers", channels, callers)
	stA, fA, doneA, err := fixtureOn(ctx, o, channels)
	if err != nil {
		return api, ceil, err
	}
	defer doneA()
	srv, err := startServer(stA, appOptions())
	if err != nil {
		return api, ceil, err
	}
	defer srv.quit()
	cs := srv.pool(fA.key, callers)
	chans := make([]string, len(fA.channels))
	for i, id := range fA.channels {
		chans[i] = ids.Format(id)
	}
	viaAPI := func(ctx context.Context, caller, n int) error {
		_, err := cs[caller/callersPerConn].Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{
			ChannelId: chans[n%len(chans)], Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: nextPhone()},
			Content: &pb.MessageContent{Text: "Hello, I would like to order"}, GatewayMessageId: fmt.Sprintf("b-%d", n),
		})
		return err
	}
	// The server's own figures, scraped from its /metrics at the end.
	figures := func(r Result) Result {
		if f, err := scrape(ctx, srv.metrics); err == nil {
			r.Server = &f
		}
		return r
	}
	if o.SkipCeiling {
		return figures(run(ctx, "API   "+name, callers, o.Duration, viaAPI)), ceil, nil
	}
	stC, fC, doneC, err := fixtureOn(ctx, o, channels)
	if err != nil {
		return api, ceil, err
	}
	defer doneC()
	c, err := newCeiling(ctx, stC.URL, fC.accountID, 16)
	if err != nil {
		return api, ceil, err
	}
	defer c.close()
	direct := func(ctx context.Context, caller, n int) error {
		return c.route(ctx, fC.channels[n%len(fC.channels)], nextPhone(), "Hello, I would like to order", fmt.Sprintf("c-%d", n))
	}
	sa, sc := compare(ctx, callers, 2*o.Duration, viaAPI, direct)
	return figures(sa.result("API   "+name, callers)), sc.result("pgx   "+name, callers), nil
}

// fixtureOn opens a fresh schema holding a fixture company; done drops it.
func fixtureOn(ctx context.Context, o Options, channels int) (*store.Store, *fixture, func(), error) {
	return fixtureWith(ctx, o, channels, 4)
}

// fixtureWith is fixtureOn with reps sales reps per channel.
func fixtureWith(ctx context.Context, o Options, channels, reps int) (*store.Store, *fixture, func(), error) {
	u, drop, err := freshSchema(ctx, o.DatabaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := store.Open(ctx, store.Config{URL: u, MaxConns: 16})
	if err != nil {
		drop()
		return nil, nil, nil, err
	}
	f, err := newFixture(ctx, st, channels, reps)
	if err != nil {
		st.Close()
		drop()
		return nil, nil, nil, err
	}
	time.Sleep(500 * time.Millisecond) // let the database settle after creating the schema
	return st, f, func() { st.Close(); drop() }, nil
}

// withFixture runs fn on a fresh schema holding a fixture company.
func withFixture(ctx context.Context, o Options, channels int, fn func(*store.Store, *fixture) (Result, error)) (Result, error) {
	st, f, done, err := fixtureOn(ctx, o, channels)
	if err != nil {
		return Result{}, err
	}
	defer done()
	return fn(st, f)
}

func appOptions() app.Options { return app.Options{} }

// Access measures CheckAccess at the given concurrency: chats of routed
// clients, asked about by their channels' members.
func Access(ctx context.Context, o Options, callers int) (Result, error) {
	r, err := withFixture(ctx, o, 100, func(st *store.Store, f *fixture) (Result, error) {
		srv, err := startServer(st, appOptions())
		if err != nil {
			return Result{}, err
		}
		defer srv.quit()
		c := srv.clients(f.key)
		type probe struct{ employee, chat string }
		var probes []probe
		for i := 0; i < 1000; i++ {
			ch := i % len(f.channels)
			res, err := c.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ids.Format(f.channels[ch]),
				Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: nextPhone()}, Content: &pb.MessageContent{Text: "hi"},
				GatewayMessageId: fmt.Sprintf("a-%d", i)})
			if err != nil {
				return Result{}, err
			}
			emps := f.employees[ch]
			probes = append(probes, probe{ids.Format(emps[i%len(emps)]), res.Decision.Chat.Id})
		}
		cs := srv.pool(f.key, callers)
		return run(ctx, fmt.Sprintf("API   check access, %d callers", callers), callers, o.Duration, func(ctx context.Context, caller, i int) error {
			p := probes[(caller*7919+i)%len(probes)]
			_, err := cs[caller/callersPerConn].Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: p.employee, ChatId: p.chat})
			return err
		}), nil
	})
	if err == nil {
		o.Out("%-34s %8.0f checks/s  p50 %s  p99 %s", r.Name, r.Rate(), ms(r.P50), ms(r.P99))
	}
	return r, err
}

// SQLite measures RouteIncomingMessage on the embedded store, new clients on
// 100 channels.
func SQLite(ctx context.Context, o Options, dir string, callers int) (Result, error) {
	st, err := store.Open(ctx, store.Config{URL: dir + "/bench.db"})
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	f, err := newFixture(ctx, st, 100, 4)
	if err != nil {
		return Result{}, err
	}
	srv, err := startServer(st, appOptions())
	if err != nil {
		return Result{}, err
	}
	defer srv.quit()
	cs := srv.pool(f.key, callers)
	var gw atomic.Int64
	r := run(ctx, fmt.Sprintf("SQLite route 100 ch, %d callers", callers), callers, o.Duration, func(ctx context.Context, caller, i int) error {
		n := gw.Add(1)
		_, err := cs[caller/callersPerConn].Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{
			ChannelId: ids.Format(f.channels[int(n)%len(f.channels)]), Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: nextPhone()},
			Content: &pb.MessageContent{Text: "Hello, I would like to order"}, GatewayMessageId: fmt.Sprintf("s-%d", n),
		})
		return err
	})
	o.Out("%-34s %8.0f routes/s  p50 %s  p99 %s", r.Name, r.Rate(), ms(r.P50), ms(r.P99))
	return r, nil
}
