package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/bench"
)

// benchCmd runs "switchboard bench": the measurements of docs/BENCHMARKS.md.
func benchCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	dbURL := fs.String("database-url", env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL database to measure on (a fresh schema per scenario)")
	duration := fs.Duration("duration", 20*time.Second, "length of each scenario")
	callers := fs.String("callers", "8,32", "concurrency levels of the routing scenarios")
	only := fs.String("only", "routing,access,sqlite,notify,strangers,crm", "scenarios to run")
	channels := fs.String("channels", "100,1", "channel counts of the routing scenarios")
	streams := fs.Int("streams", 10000, "Subscribe streams held open in the notify scenario")
	rates := fs.String("rates", "500,2000", "routed messages per second at which push latency is measured")
	debugAddr := fs.String("server-debug-addr", "", "notify scenario: the server serves /debug/pprof here")
	hold := fs.Duration("hold", 0, "notify scenario: keep the idle streams this much longer")
	fgaHTTP := fs.String("openfga-http", "", "access-shape scenario: also measure the OpenFGA server whose HTTP API is here (http://127.0.0.1:8080)")
	fgaGRPC := fs.String("openfga-grpc", "", "access-shape scenario: OpenFGA's gRPC address as a URL (http://127.0.0.1:8081)")
	noCeiling := fs.Bool("no-ceiling", false, "skip the pgx ceiling (to profile the API alone)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server and load) to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the whole run (server and load) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer func() {
			if f, err := os.Create(*memProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	levels, err := numbers("--callers", *callers)
	if err != nil {
		return err
	}
	counts, err := numbers("--channels", *channels)
	if err != nil {
		return err
	}
	out := func(format string, a ...any) { fmt.Fprintf(os.Stdout, format+"\n", a...) }
	o := bench.Options{DatabaseURL: *dbURL, Duration: *duration, Callers: levels, Channels: counts, SkipCeiling: *noCeiling, Out: out}
	want := func(s string) bool { return strings.Contains(","+*only+",", ","+s+",") }
	out("# switchboard bench %s", strings.Join(args, " "))
	if want("routing") {
		if _, err := bench.Routing(ctx, o); err != nil {
			return err
		}
	}
	if want("textbook") {
		if _, err := bench.Textbook(ctx, o); err != nil {
			return err
		}
	}
	if want("access") {
		if _, err := bench.Access(ctx, o, 32); err != nil {
			return err
		}
	}
	if want("access-shape") {
		if _, err := bench.AccessShape(ctx, bench.FGAOptions{Options: o, HTTPURL: *fgaHTTP, GRPCURL: *fgaGRPC}); err != nil {
			return err
		}
	}
	if want("notify") {
		rs, err := numbers("--rates", *rates)
		if err != nil {
			return err
		}
		bin, err := os.Executable()
		if err != nil {
			return err
		}
		if _, err := bench.Notify(ctx, bench.NotifyOptions{Options: o, Streams: *streams, Rates: rs, Binary: bin, DebugAddr: *debugAddr, Hold: *hold}); err != nil {
			return err
		}
	}
	if want("crm") {
		if _, err := bench.CRM(ctx, o); err != nil {
			return err
		}
	}
	if want("strangers") {
		if _, err := bench.Strangers(ctx, o, 200); err != nil {
			return err
		}
	}
	if want("sqlite") {
		dir, err := os.MkdirTemp("", "switchboard-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		for _, n := range levels {
			if _, err := bench.SQLite(ctx, o, dir, n); err != nil {
				return err
			}
			os.Remove(dir + "/bench.db")
		}
	}
	return nil
}

func numbers(flag, list string) ([]int, error) {
	var out []int
	for _, s := range splitList(list) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flag, s)
		}
		out = append(out, n)
	}
	return out, nil
}
