package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/demo"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/ratelimit"
	"github.com/switchboardhq/switchboard/server/secrets"
	"github.com/switchboardhq/switchboard/server/store"
)

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", env("SWITCHBOARD_ADDR", "127.0.0.1:8080"), "listen address (env SWITCHBOARD_ADDR)")
	dbURL := fs.String("database-url", env("DATABASE_URL", ""), "postgres:// URL, or an SQLite file path; empty: an SQLite file in --data-dir (env DATABASE_URL)")
	dataDir := fs.String("data-dir", env("SWITCHBOARD_DATA_DIR", "data"), "directory of the default SQLite database (env SWITCHBOARD_DATA_DIR)")
	withDemo := fs.Bool("demo", envBool("SWITCHBOARD_DEMO"), "fill the first account with a sample company if it has no channels (env SWITCHBOARD_DEMO)")
	bootstrapKey := fs.String("bootstrap-api-key", env("SWITCHBOARD_BOOTSTRAP_API_KEY", ""), "admin API key of the first account instead of a random one (env SWITCHBOARD_BOOTSTRAP_API_KEY)")
	logLevel := fs.String("log-level", env("SWITCHBOARD_LOG_LEVEL", "info"), "debug, info, warn or error (env SWITCHBOARD_LOG_LEVEL)")
	corsOrigins := fs.String("cors-origins", env("SWITCHBOARD_CORS_ORIGINS", "*"), "comma-separated browser origins allowed to call the API (env SWITCHBOARD_CORS_ORIGINS)")
	authTTL := fs.Duration("auth-cache-ttl", 5*time.Second, "how long a verified credential is remembered")
	maxConns := fs.Int("max-db-conns", 16, "PostgreSQL connection pool size")
	opsAddr := fs.String("ops-addr", env("SWITCHBOARD_OPS_ADDR", env("SWITCHBOARD_DEBUG_ADDR", "")),
		"serve /metrics (Prometheus) and Go's /debug/pprof on this address, apart from the API (off when empty; keep it private) (env SWITCHBOARD_OPS_ADDR)")
	fs.StringVar(opsAddr, "debug-addr", *opsAddr, "the same as --ops-addr (env SWITCHBOARD_DEBUG_ADDR)")
	rateLimit := fs.Int("rate-limit", env2int("SWITCHBOARD_RATE_LIMIT", ratelimit.DefaultLimit),
		"requests each API key or employee token may make per 5 s, on all replicas together, unless the key has its own limit; 0: no limit but the keys' own (env SWITCHBOARD_RATE_LIMIT)")
	otlpEndpoint := fs.String("otlp-endpoint", "", "export traces by OTLP over HTTP to this URL, e.g. http://collector:4318 (default: OTEL_EXPORTER_OTLP_ENDPOINT; no tracing when neither is set)")
	autoMigrate := fs.Bool("migrate", env("SWITCHBOARD_MIGRATE", "true") != "false", "apply pending schema migrations on start; false: refuse to start while any is pending (apply them with `switchboard migrate up`) (env SWITCHBOARD_MIGRATE)")
	heartbeat := fs.Duration("heartbeat", 15*time.Second, "heartbeat interval of idle notification streams")
	retention := fs.Duration("notification-retention", 7*24*time.Hour, "push decisions older than this are pruned (negative: keep forever)")
	historyRetention := fs.Duration("history-retention", 365*24*time.Hour, "assignment history entries older than this are deleted (negative: keep forever)")
	secretKey := fs.String("secret-key", env("SWITCHBOARD_SECRET_KEY", ""), "32 bytes, as base64 or 64 hex digits, that seal stored CRM tokens; without it CRMs cannot be connected (env SWITCHBOARD_SECRET_KEY)")
	publicURL := fs.String("public-url", env("SWITCHBOARD_PUBLIC_URL", ""), "the address CRMs reach this server at, for their webhook URL, e.g. https://switchboard.example.com (env SWITCHBOARD_PUBLIC_URL)")
	crmAnyHost := fs.Bool("crm-allow-any-host", envBool("SWITCHBOARD_CRM_ALLOW_ANY_HOST"), "let a CRM live at any address, such as a fake CRM on this machine (demos and tests only) (env SWITCHBOARD_CRM_ALLOW_ANY_HOST)")
	outboxWorkers := fs.Int("outbox-workers", 4, "CRM writes this replica delivers at once, per CRM kind")
	outboxPoll := fs.Duration("outbox-poll", time.Second, "how often the outbox looks for writes enqueued elsewhere or due for a retry")
	outboxTimeout := fs.Duration("outbox-job-timeout", time.Minute, "one delivery attempt's limit; a timed-out attempt is retried")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	slog.SetDefault(log)

	tp, stopTracing, err := tracing(ctx, *otlpEndpoint)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = stopTracing(sctx)
	}()
	mode := store.MigrateUp
	if !*autoMigrate {
		mode = store.MigrateRefuse
	}
	st, err := store.Open(ctx, store.Config{URL: *dbURL, DataDir: *dataDir, MaxConns: *maxConns, TracerProvider: tp, Migrate: mode})
	if err != nil {
		return err
	}
	defer st.Close()

	acct, key, created, err := accounts.EnsureFirst(ctx, st, "My company", *bootstrapKey)
	if err != nil {
		return err
	}
	var company *demo.Company
	if *withDemo {
		if company, err = demo.Fill(ctx, st, acct.ID); err != nil {
			return err
		}
	}

	key32, err := secrets.ParseKey(*secretKey)
	if err != nil {
		return fmt.Errorf("--secret-key: %w", err)
	}
	a, err := app.New(app.Options{Store: st, Logger: log, AuthCacheTTL: *authTTL, CORSOrigins: splitList(*corsOrigins),
		Notify: notify.Options{Heartbeat: *heartbeat, Retention: *retention}, HistoryRetention: *historyRetention,
		SecretKey: key32, PublicURL: *publicURL, CRMAllowAnyHost: *crmAnyHost,
		Outbox:    outbox.Config{Workers: *outboxWorkers, PollInterval: *outboxPoll, JobTimeout: *outboxTimeout},
		RateLimit: ratelimit.Config{Limit: limitOrOff(*rateLimit)}, TracerProvider: tp})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		Protocols:         new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)

	if *opsAddr != "" {
		go func() {
			mux := http.NewServeMux()
			mux.Handle("/metrics", a.Metrics().Handler())
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			// free returns unused memory to the OS, so RSS shows what is live.
			mux.HandleFunc("/debug/free", func(w http.ResponseWriter, _ *http.Request) {
				debug.FreeOSMemory()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				fmt.Fprintf(w, "heap_inuse %d\nstack_inuse %d\ngoroutines %d\n", ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine())
			})
			ops := &http.Server{Addr: *opsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			log.Info("ops server (/metrics, /debug/pprof) listening", "addr", *opsAddr)
			log.Error("ops server stopped", "addr", *opsAddr, "err", ops.ListenAndServe())
		}()
	}
	base := "http://" + ln.Addr().String()
	log.Info("switchboard listening", "url", base, "database", st.Describe())
	greet(base, created, key, *bootstrapKey, company)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = a.Close(shutdownCtx)
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func greet(base string, created bool, key, bootstrapKey string, co *demo.Company) {
	shown := key
	if shown == "" {
		shown = bootstrapKey
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nSwitchboard is running at %s\n", base)
	switch {
	case bootstrapKey != "":
		fmt.Fprintf(&b, "  Admin API key: the --bootstrap-api-key you gave\n")
	case created:
		fmt.Fprintf(&b, "  Admin API key (shown once, store it now): %s\n", key)
	default:
		fmt.Fprintf(&b, "  Using the existing account: its API keys were shown when they were created.\n")
		shown = "<your API key>"
	}
	if co != nil {
		fmt.Fprintf(&b, "  Demo company created; employee token of Bruce Wayne (shown once): %s\n", co.Token)
	}
	fmt.Fprintf(&b, "\nTry it:\n  curl -s %s/switchboard.v1.DirectoryService/ListEmployees \\\n"+
		"    -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{}'\n\n", base, shown)
	fmt.Fprint(os.Stderr, b.String())
}

// limitOrOff is the rate limit of the flag: 0 means none.
func limitOrOff(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// env2int is the environment variable's number, or def.
func env2int(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n
		}
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
