package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboardhq/switchboard/server/errs"
)

func init() { errs.RegisterUnreachable(IsUnreachable) }

// IsUnreachable reports whether err means the database could not be
// reached or dropped the connection: refused or reset connections, a
// server shutting down or restarting (SQLSTATE 57P01–57P03), connection
// exceptions (class 08), too many connections (53300). Such an error on a
// statement says nothing about the request: the caller may retry it.
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	// pgx reports a connection it closed after a failure this way.
	return strings.Contains(err.Error(), "conn closed")
}

// errCommit marks a failed commit: whether it took effect is unknown, so
// it is never retried.
type errCommit struct{ err error }

func (e errCommit) Error() string { return "commit: " + e.err.Error() }
func (e errCommit) Unwrap() error { return e.err }

// unreachableAttempts bounds the runs of a transaction that failed before
// its commit because the database dropped or refused the connection: each
// run takes another connection from the pool (dead ones are discarded), so
// a pool whose connections were all terminated recovers inside one call.
const unreachableAttempts = 3

// Health reports whether the database answers, asking it at most once per
// interval and within timeout; it recovers by itself once the database is
// back.
type Health struct {
	db       *sql.DB
	interval time.Duration
	timeout  time.Duration

	mu      sync.Mutex
	checked time.Time
	ok      bool
}

// Health returns the store's health probe.
func (s *Store) Health() *Health {
	return &Health{db: s.DB, interval: 500 * time.Millisecond, timeout: time.Second}
}

// OK pings the database unless it was pinged within the interval.
func (h *Health) OK(ctx context.Context) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.checked) < h.interval {
		return h.ok
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	h.ok = h.db.PingContext(ctx) == nil
	h.checked = time.Now()
	return h.ok
}
