package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/testenv"
)

// TestBenchRuns runs every scenario briefly, so the benchmark keeps working:
// routing and its pgx ceiling, access checks, SQLite, and the streams with a
// server process.
func TestBenchRuns(t *testing.T) {
	testenv.Postgres(t) // the scenarios measure PostgreSQL
	ctx := context.Background()
	var lines []string
	o := Options{DatabaseURL: os.Getenv("TEST_DATABASE_URL"), Duration: 500 * time.Millisecond, Callers: []int{2}, Channels: []int{3},
		Out: func(format string, args ...any) { lines = append(lines, format) }}
	rs, err := Routing(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Ops == 0 || r.Errors > 0 || r.P99 < r.P50 {
			t.Fatalf("%s: %+v", r.Name, r)
		}
	}
	// The API's run shows on the server's /metrics: every routed message
	// counted, and decided.
	api := rs[0]
	if f := api.Server; f == nil || f.Requests < float64(api.Ops) || f.Errors != 0 || f.MeanLatency <= 0 || sum(f.Decisions) < float64(api.Ops) || f.DBOpen < 1 {
		t.Fatalf("server's figures after %d routed messages: %+v", api.Ops, api.Server)
	}
	if r, err := Access(ctx, o, 2); err != nil || r.Ops == 0 || r.Errors > 0 {
		t.Fatalf("access: %+v %v", r, err)
	}
	if r, err := SQLite(ctx, o, t.TempDir(), 2); err != nil || r.Ops == 0 || r.Errors > 0 {
		t.Fatalf("sqlite: %+v %v", r, err)
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/switchboard").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	n, err := Notify(ctx, NotifyOptions{Options: o, Streams: 50, Rates: []int{50}, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if n.StreamsConnected != 50 || n.LivePerSubscriber <= 0 || len(n.Latency) != 1 || n.Latency[0].Delivered != n.Latency[0].Routed || n.Latency[0].Routed == 0 {
		t.Fatalf("notify: %+v", n)
	}
	// The server process's /metrics saw the streams and the pushes.
	if f := n.Server; f == nil || f.Streams != 50 || f.PushLagCount < float64(n.Latency[0].Delivered) || f.Requests < float64(n.Latency[0].Routed) {
		t.Fatalf("notify: server's figures %+v after %d routed, %d delivered", n.Server, n.Latency[0].Routed, n.Latency[0].Delivered)
	}
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}
