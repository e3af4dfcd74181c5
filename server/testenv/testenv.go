package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/store"
)

// Backend is a database the suite can run on.
type Backend struct {
	Name string
	// NewURL returns the URL of a fresh, empty database for one test.
	NewURL func(t testing.TB) string
}

// Backends returns SQLite and, when TEST_DATABASE_URL is set, PostgreSQL.
// An unreachable TEST_DATABASE_URL fails the test instead of skipping it.
func Backends(t testing.TB) []Backend {
	out := []Backend{{Name: "sqlite", NewURL: func(t testing.TB) string {
		return filepath.Join(t.TempDir(), "switchboard.db")
	}}}
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		out = append(out, Backend{Name: "postgres", NewURL: func(t testing.TB) string { return PostgresSchema(t, u) }})
	}
	return out
}

// ForEachBackend runs fn as a subtest per backend.
func ForEachBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

// PostgresSchema creates a fresh schema in the database at base and returns
// a URL whose connections use it; the schema is dropped when t ends.
func PostgresSchema(t testing.TB, base string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL is set but PostgreSQL is unreachable: %v", err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "sbtest_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Tests that cut connections find this test's by their name.
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenStore opens (and migrates) the database at url, closed when t ends.
func OpenStore(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: url, MaxConns: 24})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Server is one running server replica.
type Server struct {
	App   *app.App
	Store *store.Store
	HTTP  *httptest.Server
	URL   string
}

// Options tune a test server.
type Options struct {
	// AuthCacheTTL: 0 means credentials are checked on every request.
	AuthCacheTTL time.Duration
	// Configure may change the app options before the server starts.
	Configure func(*app.Options)
}

// StartServer starts a server replica on st, speaking HTTP/1.1 and h2c.
func StartServer(t testing.TB, st *store.Store, o Options) *Server {
	t.Helper()
	opts := app.Options{Store: st, Logger: Logger(), AuthCacheTTL: o.AuthCacheTTL}
	// Tests call as fast as they can; the rate limit's own tests turn it
	// on (RateLimit.Limit 0 or above).
	opts.RateLimit.Limit = -1
	if o.Configure != nil {
		o.Configure(&opts)
	}
	a, err := app.New(opts)
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	s := &Server{App: a, Store: st, HTTP: srv, URL: srv.URL}
	t.Cleanup(func() { s.Stop() })
	return s
}

// Stop shuts the replica down gracefully, ending its streams cleanly (as on
// SIGTERM).
func (s *Server) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.App.Close(ctx)
	// Streams have ended; give their last frames a moment to leave rather
	// than the HTTP/2 server's full GOAWAY grace.
	sctx, scancel := context.WithTimeout(ctx, 250*time.Millisecond)
	defer scancel()
	_ = s.HTTP.Config.Shutdown(sctx)
	s.HTTP.Close()
}

// Kill drops the replica's connections at once, mid-stream, as a crash
// would.
func (s *Server) Kill() {
	s.HTTP.CloseClientConnections()
	s.HTTP.Close()
	_ = s.App.Close(context.Background())
}

// Logger discards logs unless SWITCHBOARD_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("SWITCHBOARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Env is a server with one account, ready for a test.
type Env struct {
	T       testing.TB
	Backend string
	// URL is the database's URL, for more replicas on it.
	URL       string
	Store     *store.Store
	Server    *Server
	AccountID int64
	AdminKey  string
}

// New starts a server on a fresh database of backend b with one account.
func New(t testing.TB, b Backend, o Options) *Env {
	t.Helper()
	url := b.NewURL(t)
	st := OpenStore(t, url)
	e := &Env{T: t, Backend: b.Name, URL: url, Store: st, Server: StartServer(t, st, o)}
	e.AccountID, e.AdminKey = e.NewAccount("Acme")
	return e
}

// NewAccount creates another account and returns its id and admin key.
func (e *Env) NewAccount(name string) (int64, string) {
	e.T.Helper()
	acct, key, err := accounts.Create(context.Background(), e.Store, name, "")
	if err != nil {
		e.T.Fatalf("create account: %v", err)
	}
	return acct.ID, key
}

// Replica starts another server on the env's database (PostgreSQL only:
// SQLite is one process's file).
func (e *Env) Replica(o Options) *Server {
	e.T.Helper()
	return StartServer(e.T, OpenStore(e.T, e.URL), o)
}

// Clients returns clients of this env's server speaking p with key.
func (e *Env) Clients(key string, p client.Protocol) *client.Clients {
	return client.New(e.Server.URL, key, p, nil)
}

// Admin returns Connect clients with the account's admin key.
func (e *Env) Admin() *client.Clients { return e.Clients(e.AdminKey, client.Connect) }

// Protocols are the protocols handler tests run through.
var Protocols = []client.Protocol{client.Connect, client.GRPC}

// Postgres returns the PostgreSQL backend, skipping the test when
// TEST_DATABASE_URL is not set (CI always sets it). For claims that need
// several server replicas on one database.
func Postgres(t *testing.T) Backend {
	t.Helper()
	for _, b := range Backends(t) {
		if b.Name == "postgres" {
			return b
		}
	}
	t.Skip("needs TEST_DATABASE_URL: replicas share one PostgreSQL database")
	return Backend{}
}
