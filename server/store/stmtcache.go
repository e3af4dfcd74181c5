package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// stmtCacheDriver is the ent driver for SQLite: it prepares each distinct
// statement once and reuses it, in and out of transactions, instead of
// having SQLite parse the same SQL on every call (the largest cost of a
// query on the embedded store). PostgreSQL needs none of this: pgx caches
// prepared statements per connection.
type stmtCacheDriver struct {
	*entsql.Driver
	db    *sql.DB
	cache *stmtCache
	// group, once set, runs write transactions in groups (group.go).
	group *committer
}

func newStmtCacheDriver(db *sql.DB, d string) *stmtCacheDriver {
	return &stmtCacheDriver{Driver: entsql.OpenDB(d, db), db: db, cache: &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}}
}

// groupCommits makes write transactions share SQLite transactions from
// now on (see group.go).
func (d *stmtCacheDriver) groupCommits() {
	d.group = &committer{db: d.db, cache: d.cache}
}

func (d *stmtCacheDriver) conn() entsql.Conn { return entsql.Conn{ExecQuerier: cachedDB{d.cache}} }

// Exec implements dialect.Driver.
func (d *stmtCacheDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.conn().Exec(ctx, query, args, v)
}

// Query implements dialect.Driver.
func (d *stmtCacheDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.conn().Query(ctx, query, args, v)
}

// Tx implements dialect.Driver.
func (d *stmtCacheDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx starts a transaction whose statements come from the cache.
func (d *stmtCacheDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	if d.group != nil && (opts == nil || !opts.ReadOnly) {
		return d.group.begin(ctx)
	}
	tx, err := d.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	noteRawTx(ctx, tx)
	return &entsql.Tx{Conn: entsql.Conn{ExecQuerier: cachedTx{tx, d.cache}}, Tx: tx}, nil
}

// maxStatements bounds the cache; statements past it run unprepared (ent's
// IN lists make a few shapes with many lengths).
const maxStatements = 512

type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

// get returns the prepared statement of query, or nil when it is not
// prepared yet: then it is prepared in the background, once the (single)
// connection is free, for the next call. Preparing in the caller could
// wait for the connection its own transaction holds.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s
	}
	if len(c.stmts)+len(c.pending) >= maxStatements || c.pending[query] || !cacheable(query) {
		return nil
	}
	if c.pending == nil {
		c.pending = map[string]bool{}
	}
	c.pending[query] = true
	go c.prepare(query)
	return nil
}

// cacheable reports whether a statement may be prepared ahead: only plain
// reads and writes. SQLite applies some PRAGMAs while preparing them (the
// migrator's "PRAGMA foreign_keys = off", prepared later, would switch
// foreign keys off for good), and DDL has no business being cached.
func cacheable(query string) bool {
	q := strings.TrimSpace(query)
	if len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
		return true
	}
	return false
}

func (c *stmtCache) prepare(query string) {
	s, err := c.db.PrepareContext(context.Background(), query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, query)
	if err == nil {
		c.stmts[query] = s
	}
}

type cachedDB struct{ c *stmtCache }

func (d cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := d.c.get(query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return d.c.db.ExecContext(ctx, query, args...)
}

func (d cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := d.c.get(query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return d.c.db.QueryContext(ctx, query, args...)
}

type cachedTx struct {
	tx *sql.Tx
	c  *stmtCache
}

func (t cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.c.get(query); s != nil {
		return t.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.c.get(query); s != nil {
		return t.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}
