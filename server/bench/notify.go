package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
)

// NotifyOptions shape the streams benchmark.
type NotifyOptions struct {
	Options
	// Streams is how many Subscribe streams to hold open, one per employee.
	Streams int
	// Rates are the routed-messages-per-second levels to measure latency at.
	Rates []int
	// Binary is the switchboard executable to run the server with.
	Binary string
	// DebugAddr, when set, makes the server serve /debug/pprof there.
	DebugAddr string
	// Hold keeps the streams open this long before measuring latency (to
	// take profiles).
	Hold time.Duration
}

// NotifyResult is what the streams benchmark measured.
type NotifyResult struct {
	Streams       int
	RSSBefore     int64 // bytes
	RSSAfter      int64
	PerSubscriber float64 // bytes of RSS
	// LivePerSubscriber counts only the Go heap and stacks in use.
	LivePerSubscriber float64
	Latency           []LatencyResult
	ConnectionsUsed   int
	StreamsConnected  int
	// Server is what the server's /metrics said at the end.
	Server *Figures
}

// LatencyResult is route → push latency at one offered rate.
type LatencyResult struct {
	Offered   int
	Achieved  float64
	Delivered int
	Routed    int
	P50, P99  time.Duration
	// RouteP50 and RouteP99 are of the routing call alone.
	RouteP50, RouteP99 time.Duration
	lat                []time.Duration // sorted, for merging
}

// Notify opens Streams Subscribe streams (one per employee) on a server run
// as its own process, measures its memory per idle subscriber, then routes
// new clients at each rate and measures how long each push takes to reach
// its stream.
func Notify(ctx context.Context, o NotifyOptions) (*NotifyResult, error) {
	u, drop, err := freshSchema(ctx, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer drop()
	st, err := store.Open(ctx, store.Config{URL: u, MaxConns: 8})
	if err != nil {
		return nil, err
	}
	perChannel := 100
	channels := (o.Streams + perChannel - 1) / perChannel
	f, err := newFixture(ctx, st, channels, perChannel)
	st.Close()
	if err != nil {
		return nil, err
	}
	o.Out("fixture: %d channels, %d sales reps", channels, channels*perChannel)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	if o.DebugAddr == "" {
		dl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		o.DebugAddr = dl.Addr().String()
		dl.Close()
	}
	// --rate-limit 0: one key routes thousands of messages a second here.
	args := []string{"serve", "--addr", addr, "--database-url", u, "--log-level", "warn", "--heartbeat", "15s", "--ops-addr", o.DebugAddr,
		"--rate-limit", "0"}
	cmd := exec.CommandContext(ctx, o.Binary, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=madvdontneed=1"+os.Getenv("SWITCHBOARD_BENCH_GODEBUG"))
	if g := os.Getenv("SWITCHBOARD_BENCH_SERVER_GOGC"); g != "" {
		cmd.Env = append(cmd.Env, "GOGC="+g)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	base := "http://" + addr
	if err := waitHealthy(ctx, base); err != nil {
		return nil, err
	}

	res := &NotifyResult{Streams: o.Streams}
	// Warm the server up (code paths, pools, the directory snapshot).
	admin := client.New(base, f.key, client.Connect, client.HTTPClient(client.Connect, true))
	for i := 0; i < 200; i++ {
		if _, err := routeOne(ctx, admin, f, i); err != nil {
			return nil, err
		}
	}
	time.Sleep(2 * time.Second)
	liveBefore, err := settle(o.DebugAddr)
	if err != nil {
		return nil, err
	}
	if res.RSSBefore, err = rss(cmd.Process.Pid); err != nil {
		return nil, err
	}

	// Open the streams: 100 per HTTP/2 connection, as many phones behind a
	// few proxies would.
	type stream struct {
		employee string
	}
	var employees []string
	for _, list := range f.employees {
		for _, e := range list[:len(list)-1] { // the sales reps
			employees = append(employees, ids.Format(e))
		}
	}
	employees = employees[:o.Streams]
	const perConn = 100
	var conns []*client.Clients
	for i := 0; i < (len(employees)+perConn-1)/perConn; i++ {
		conns = append(conns, client.New(base, f.key, client.Connect, client.HTTPClient(client.Connect, true)))
	}
	res.ConnectionsUsed = len(conns)
	received := sync.Map{} // message id → time a push arrived
	var connected atomic.Int64
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for i, emp := range employees {
		wg.Add(1)
		go func(c *client.Clients, emp string) {
			defer wg.Done()
			follow(sctx, c, emp, &connected, &received)
		}(conns[i/perConn], emp)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for connected.Load() < int64(len(employees)) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	res.StreamsConnected = int(connected.Load())
	o.Out("streams: %d of %d connected over %d connections", res.StreamsConnected, len(employees), len(conns))
	time.Sleep(5*time.Second + o.Hold) // idle
	liveAfter, err := settle(o.DebugAddr)
	if err != nil {
		return nil, err
	}
	if res.RSSAfter, err = rss(cmd.Process.Pid); err != nil {
		return nil, err
	}
	res.PerSubscriber = float64(res.RSSAfter-res.RSSBefore) / float64(res.StreamsConnected)
	res.LivePerSubscriber = float64(liveAfter-liveBefore) / float64(res.StreamsConnected)
	o.Out("memory: server RSS %.1f MiB idle, %.1f MiB with %d streams: %.1f KiB per idle subscriber (Go heap and stacks in use: %.1f KiB)",
		float64(res.RSSBefore)/(1<<20), float64(res.RSSAfter)/(1<<20), res.StreamsConnected, res.PerSubscriber/1024, res.LivePerSubscriber/1024)

	// Route → push latency at each rate.
	var next atomic.Int64
	next.Store(1000)
	for _, rate := range o.Rates {
		lr := measureLatency(ctx, admin, f, rate, o.Duration, &next, &received)
		o.Out("latency at %d routed/s (achieved %.0f/s): %d of %d pushes arrived, route → push p50 %s, p99 %s (the routing call alone: p50 %s, p99 %s)",
			rate, lr.Achieved, lr.Delivered, lr.Routed, ms(lr.P50), ms(lr.P99), ms(lr.RouteP50), ms(lr.RouteP99))
		res.Latency = append(res.Latency, lr)
	}
	// The server's own view, from its /metrics.
	if fig, err := scrape(ctx, "http://"+o.DebugAddr+"/metrics"); err == nil {
		res.Server = &fig
		o.Out("server's /metrics: %s; push delivery lag: %d sent live, mean %.2f ms", fig, int(fig.PushLagCount), 1000*fig.MeanPushLag)
	}
	stop()
	wg.Wait()
	return res, nil
}

// follow holds an employee's stream open until ctx ends, counting it
// connected once it caught up and noting when each message's first push
// arrived (by message id).
func follow(ctx context.Context, c *client.Clients, employee string, connected *atomic.Int64, received *sync.Map) {
	s, err := c.Notification.Subscribe(ctx, &pb.SubscribeRequest{EmployeeId: employee})
	if err != nil {
		return
	}
	defer s.Close()
	for s.Receive() {
		switch ev := s.Msg().Event.(type) {
		case *pb.SubscribeResponse_CaughtUp:
			connected.Add(1)
		case *pb.SubscribeResponse_Decision:
			received.LoadOrStore(ev.Decision.MessageId, time.Now())
		}
	}
}

func measureLatency(ctx context.Context, c *client.Clients, f *fixture, rate int, d time.Duration, next *atomic.Int64, received *sync.Map) LatencyResult {
	sent := sync.Map{} // message id → time the route was sent
	var mu sync.Mutex
	var routeLat []time.Duration
	interval := time.Second / time.Duration(rate)
	sem := make(chan struct{}, 512)
	var wg sync.WaitGroup
	var routed atomic.Int64
	start := time.Now()
	tick := time.NewTicker(interval)
	for time.Since(start) < d {
		<-tick.C
		select {
		case sem <- struct{}{}:
		default:
			continue // the server is saturated: this message is not offered
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			r, err := routeOne(ctx, c, f, i)
			if err == nil {
				sent.Store(r.Decision.Message.Id, t0)
				routed.Add(1)
				mu.Lock()
				routeLat = append(routeLat, time.Since(t0))
				mu.Unlock()
			}
		}(int(next.Add(1)))
	}
	tick.Stop()
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(2 * time.Second) // the last pushes
	var lat []time.Duration
	sent.Range(func(k, v any) bool {
		if at, ok := received.Load(k); ok {
			lat = append(lat, at.(time.Time).Sub(v.(time.Time)))
		}
		return true
	})
	slices.Sort(lat)
	lr := LatencyResult{Offered: rate, Routed: int(routed.Load()), Delivered: len(lat), Achieved: float64(routed.Load()) / elapsed.Seconds(), lat: lat}
	if len(lat) > 0 {
		lr.P50, lr.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	slices.Sort(routeLat)
	if len(routeLat) > 0 {
		lr.RouteP50, lr.RouteP99 = routeLat[len(routeLat)/2], routeLat[len(routeLat)*99/100]
	}
	return lr
}

// routeOne routes the i-th new client of the benchmark, spread over the
// fixture's channels.
func routeOne(ctx context.Context, c *client.Clients, f *fixture, i int) (*pb.RouteIncomingMessageResponse, error) {
	return c.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{
		ChannelId: ids.Format(f.channels[i%len(f.channels)]), Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: nextPhone()},
		Content: &pb.MessageContent{Text: "Hello, is this available?"}, GatewayMessageId: fmt.Sprintf("n-%d-%d", i, time.Now().UnixNano()),
	})
}

func waitHealthy(ctx context.Context, base string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Post(base+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader("{}"))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("server at %s did not become healthy", base)
}

// rss reads a process's resident set size.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// settle asks the server to collect garbage and return unused memory to the
// OS, and returns the bytes of Go heap and stacks in use.
func settle(debugAddr string) (int64, error) {
	res, err := http.Get("http://" + debugAddr + "/debug/free")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var heap, stack int64
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "heap_inuse":
			heap = n
		case "stack_inuse":
			stack = n
		}
	}
	time.Sleep(500 * time.Millisecond)
	return heap + stack, sc.Err()
}
