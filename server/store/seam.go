package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/riverqueue/river/riverdriver"

	"github.com/switchboardhq/switchboard/ent"
)

// The storage seam. What differs between PostgreSQL and SQLite beyond ent
// is one backend, chosen once when the store opens (Open): capabilities
// call the interfaces below and never ask which database they run on.
// Every implementation passes the conformance suite in server/store/storetest.

// Notifier carries short messages between the server replicas that share
// the store: PostgreSQL's LISTEN/NOTIFY on a channel of the store's schema.
// An SQLite file belongs to one process, so there is no one to tell and
// nothing to hear: Shared is false, and Listen and Notify answer
// ErrNoListener.
type Notifier interface {
	// Shared reports whether other replicas may share the store, and so
	// whether Listen and Notify work.
	Shared() bool
	// Listen opens a listener that receives every payload notified on the
	// store (by any replica, this one included) after Listen returns.
	Listen(ctx context.Context) (Listener, error)
	// Notify sends payload to every listener of the store.
	Notify(ctx context.Context, payload string) error
	// MaxPayload is the longest payload Notify takes, in bytes.
	MaxPayload() int
}

// Listener receives what is notified on the store.
type Listener interface {
	// Next waits for the next payload, in the order they were sent. An
	// error means the listener is lost (payloads may have been missed) or
	// ctx ended.
	Next(ctx context.Context) (string, error)
	// Close closes the listener.
	Close(ctx context.Context) error
}

// ErrNoListener is what a Notifier without other replicas answers.
var ErrNoListener = errors.New("store: no other replicas to notify")

// Log appends push decisions to the notification log, whose rows are read
// in (txid, id) order: the log's position, then the id.
type Log interface {
	// Append inserts rows, in order, in tx (a transaction of Store.Tx) for
	// the context's account, and returns them as stored: id, account, log
	// position (txid) and creation time filled in. Of each row it takes
	// the decision's fields; its ID, AccountID, Txid and CreatedAt are
	// ignored. Positions become visible in commit order: a reader that
	// has read position p never later sees a row appear before p. To give
	// that, Append may hold a lock until tx ends (PostgreSQL does): call it
	// as the transaction's last write.
	Append(ctx context.Context, tx *ent.Tx, rows []*ent.Notification) ([]*ent.Notification, error)
}

// Pace keeps counters shared by every replica of the store, for pacing
// requests to an outside service (a generic cell rate algorithm): each key
// holds the time of its next free slot.
type Pace interface {
	// Reserve takes key's next slot and returns how long to wait for it (0:
	// go now). Slots are every apart; a slot may be used up to tolerance
	// before its time, so that many requests may go back to back after a
	// quiet spell. Each reservation takes its own slot, however many run at
	// once.
	Reserve(ctx context.Context, key string, every, tolerance time.Duration) (time.Duration, error)
}

// Meter counts what each key spends of a budget that comes back over a
// rolling day (a CRM's API credits), shared by every replica of the
// store. Spending is counted per hour (MeterBucket): what is spent in an
// hour counts until that hour is a whole MeterWindow past, so the count
// may hold a unit up to an hour longer than the CRM does, never shorter.
type Meter interface {
	// Spend adds n to key's count of the hour holding at, when the
	// window's count at at plus n stays within limit, and reports the
	// window's count after it (before it, when refused) and whether it was
	// spent. n ≤ 0 gives units back (a call that was not sent) and always
	// goes; a count never falls below zero. Concurrent spends of one key,
	// from any replica, are counted one after the other: together they
	// never pass limit.
	Spend(ctx context.Context, key string, at time.Time, n, limit int) (used int, ok bool, err error)
	// Spent is key's count in the window at at, and when its oldest
	// units leave the window (zero when nothing is spent).
	Spent(ctx context.Context, key string, at time.Time) (used int, frees time.Time, err error)
}

// MeterWindow and MeterBucket are the window a Meter counts over and the
// span it counts in.
const (
	MeterWindow = 24 * time.Hour
	MeterBucket = time.Hour
)

// meterFrom is the start of the oldest hour that counts in the window at
// at; an hour starting at or before it does not count.
func meterFrom(at time.Time) time.Time {
	return at.Truncate(MeterBucket).Add(-MeterWindow - MeterBucket)
}

// meterFrees is when what was spent in the hour starting at bucket leaves
// the window.
func meterFrees(bucket time.Time) time.Time { return bucket.Add(MeterWindow + MeterBucket) }

// Limits keeps request budgets shared by every replica of the store, for
// rate limiting callers: a token bucket per key, kept as a generic cell rate
// algorithm (the time its bucket is full again).
type Limits interface {
	// Take takes one request from key's bucket at now: the bucket holds
	// burst requests and gains one every apart. It answers 0 when the
	// request is taken, else how long until one is free; a refused request
	// takes nothing. Of any number of calls at once, exactly as many are
	// taken as the bucket holds, on every replica together.
	Take(ctx context.Context, key string, now time.Time, every time.Duration, burst int) (time.Duration, error)
}

// backend is everything that differs between the databases the store runs
// on. Open chooses one.
type backend interface {
	Notifier
	Log
	Pace
	Meter
	Limits
	// lockTx takes the transaction-level lock key in tx (see Store.LockTx).
	lockTx(ctx context.Context, tx *ent.Tx, key int64) error
	// describe names the database for people: "PostgreSQL", "SQLite in data".
	describe() string
	// river is the outbox's job queue driver on db.
	river(db *sql.DB) riverdriver.Driver[*sql.Tx]
	// readOptions are the options of a read-only transaction that sees one
	// snapshot (ReadTx).
	readOptions() *sql.TxOptions
	// migrate runs schema (the migration of River's tables and the
	// migration files, migrate.go) one replica at a time.
	migrate(ctx context.Context, schema func() error) error
}

// Notifier returns the store's channel between replicas.
func (s *Store) Notifier() Notifier { return s.backend }

// Log returns the store's notification log.
func (s *Store) Log() Log { return s.backend }

// Pace returns the store's pacing counters.
func (s *Store) Pace() Pace { return s.backend }

// Meter returns the store's budget counters.
func (s *Store) Meter() Meter { return s.backend }

// Limits returns the store's request budgets.
func (s *Store) Limits() Limits { return s.backend }

// LockTx takes the lock named key for the rest of tx, a transaction of Tx:
// a transaction that takes the same key after it waits until tx commits or
// rolls back, and then sees what tx committed. (On PostgreSQL a
// transaction-level advisory lock named within the store's schema; an SQLite store runs one write
// transaction at a time, so there it holds already.)
func (s *Store) LockTx(ctx context.Context, tx *ent.Tx, key int64) error {
	return s.backend.lockTx(ctx, tx, key)
}

// Describe names the database for people, as in a start-up log line:
// "PostgreSQL", "SQLite in data", "SQLite /var/lib/switchboard.db".
func (s *Store) Describe() string { return s.backend.describe() }
