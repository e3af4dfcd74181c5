package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/store"
)

// Result is one measured scenario.
type Result struct {
	Name     string
	Callers  int
	Ops      int
	Errors   int
	Duration time.Duration
	P50, P99 time.Duration
	// Server is what the server's /metrics said at the end (routing).
	Server *Figures
}

// Rate is operations per second.
func (r Result) Rate() float64 { return float64(r.Ops) / r.Duration.Seconds() }

// op is one call of a scenario, by caller number and call number.
type op func(ctx context.Context, caller, i int) error

// sample is what some time of calling measured.
type sample struct {
	lat      []time.Duration
	errors   int
	firstErr string
	elapsed  time.Duration
}

func (s *sample) add(o sample) {
	s.lat = append(s.lat, o.lat...)
	s.errors += o.errors
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
	s.elapsed += o.elapsed
}

// call calls f from callers goroutines for d and measures each call.
func call(ctx context.Context, callers int, d time.Duration, next *atomic.Int64, f op) sample {
	var wg sync.WaitGroup
	lat := make([][]time.Duration, callers)
	var errs atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	start := time.Now()
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err := f(ctx, c, int(next.Add(1))); err != nil {
					if errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}(c)
	}
	wg.Wait()
	out := sample{errors: int(errs.Load()), elapsed: time.Since(start)}
	if v, ok := firstErr.Load().(string); ok {
		out.firstErr = v
	}
	for _, l := range lat {
		out.lat = append(out.lat, l...)
	}
	return out
}

func (s sample) result(name string, callers int) Result {
	slices.Sort(s.lat)
	r := Result{Name: name, Callers: callers, Ops: len(s.lat), Errors: s.errors, Duration: s.elapsed}
	if len(s.lat) > 0 {
		r.P50, r.P99 = s.lat[len(s.lat)/2], s.lat[len(s.lat)*99/100]
	}
	if r.Errors > 0 {
		slog.Warn("bench: errors", "scenario", name, "errors", r.Errors, "first", s.firstErr)
	}
	return r
}

// run calls f from callers goroutines for d and measures each call.
func run(ctx context.Context, name string, callers int, d time.Duration, f op) Result {
	var next atomic.Int64
	return call(ctx, callers, d, &next, f).result(name, callers)
}

// rounds is how many slices two compared scenarios take turns in, so a
// machine that speeds up or slows down meanwhile affects both alike.
const rounds = 4

// compare runs a and b for d each, taking turns in slices (a b b a a b …).
func compare(ctx context.Context, callers int, d time.Duration, a, b op) (sample, sample) {
	var sa, sb sample
	var na, nb atomic.Int64
	slice := d / (2 * rounds)
	for i := 0; i < 2*rounds; i++ {
		if i%4 == 0 || i%4 == 3 {
			sa.add(call(ctx, callers, slice, &na, a))
		} else {
			sb.add(call(ctx, callers, slice, &nb, b))
		}
	}
	return sa, sb
}

// server is an in-process Switchboard on a loopback port, speaking h2c.
type server struct {
	url string
	// metrics is the server's /metrics, on a listener of its own as
	// serve's --ops-addr.
	metrics string
	srv     *http.Server
	app     *app.App
	quit    func()
}

func startServer(st *store.Store, opts app.Options) (*server, error) {
	opts.Store = st
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.AuthCacheTTL == 0 {
		opts.AuthCacheTTL = 5 * time.Second
	}
	if opts.RateLimit.Limit == 0 {
		// The scenarios measure the server, not the callers' allowance.
		opts.RateLimit.Limit = -1
	}
	a, err := app.New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: a.Handler(), Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	opsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	opsMux := http.NewServeMux()
	opsMux.Handle("/metrics", a.Metrics().Handler())
	ops := &http.Server{Handler: opsMux, ReadHeaderTimeout: 10 * time.Second}
	go ops.Serve(opsLn) //nolint:errcheck // ends with Close
	s := &server{url: "http://" + ln.Addr().String(), metrics: "http://" + opsLn.Addr().String() + "/metrics", srv: srv, app: a}
	s.quit = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
		_ = srv.Shutdown(ctx)
		_ = ops.Close()
	}
	return s, nil
}

// clients returns Connect clients over HTTP/2 cleartext.
func (s *server) clients(key string) *client.Clients {
	return client.New(s.url, key, client.Connect, client.HTTPClient(client.Connect, true))
}

// callersPerConn is how many concurrent callers share one HTTP/2
// connection, as users of one gateway or proxy would.
const callersPerConn = 8

// pool returns clients for callers goroutines: caller i uses pool[i/8].
func (s *server) pool(key string, callers int) []*client.Clients {
	out := make([]*client.Clients, (callers+callersPerConn-1)/callersPerConn)
	for i := range out {
		out[i] = s.clients(key)
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
