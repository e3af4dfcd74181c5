package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Group commit for SQLite.
//
// SQLite has one writer, and with synchronous=FULL every commit waits for
// its write-ahead log to reach the disk: about a third of a routing
// transaction's time on a typical disk, with the connection idle. So write
// transactions that arrive while another holds the connection run together
// in the next SQLite transaction, one after another, each inside its own
// savepoint, and that transaction commits once: one disk flush makes all
// of them durable.
//
// To each caller this is an ordinary transaction. It sees the writes of
// the members before it, as it would had they committed just before; a
// member that fails rolls back to its savepoint and leaves the others'
// work alone; Commit returns only once the group's commit is on disk, so
// nothing is acknowledged before it is durable, and ent's commit hooks run
// after that. If the group's commit fails, every member's Commit returns
// the error.

// group is one SQLite transaction shared by several write transactions.
type group struct {
	ready chan struct{} // closed once tx is open or err is set
	tx    *sql.Tx
	err   error // why the group failed; read after ready or done is closed

	turn chan struct{} // held by the member running (capacity 1)
	// broken is set, holding the turn, when the transaction is found gone
	// (SQLite rolls a whole transaction back on some I/O errors): later
	// members must not run in autocommit mode, and the group must not
	// commit.
	broken error

	active int           // members not finished; guarded by committer.mu
	begun  bool          // tx is open or failed to; guarded by committer.mu
	done   chan struct{} // closed once the group committed or failed
}

// committer forms groups over the single SQLite connection.
type committer struct {
	db    *sql.DB
	cache *stmtCache

	mu   sync.Mutex
	open *group // forming: waits for the connection, takes new members

	// counts, for tests and metrics; guarded by mu
	groups, members int
}

// begin joins the forming group (or forms one) and returns a transaction
// that runs inside it, once the member before it has finished.
func (c *committer) begin(ctx context.Context) (dialect.Tx, error) {
	c.mu.Lock()
	g := c.open
	if g == nil {
		g = &group{ready: make(chan struct{}), done: make(chan struct{}), turn: make(chan struct{}, 1)}
		c.open = g
		c.groups++
		go c.start(g)
	}
	g.active++
	c.members++
	c.mu.Unlock()

	select {
	case <-g.ready:
	case <-ctx.Done():
		c.leave(g)
		return nil, ctx.Err()
	}
	if g.err != nil {
		c.leave(g)
		return nil, g.err
	}
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		c.leave(g)
		return nil, ctx.Err()
	}
	m := &member{c: c, g: g, conn: entsql.Conn{ExecQuerier: detached{cachedTx{g.tx, c.cache}}}}
	if g.broken != nil {
		m.end()
		return nil, fmt.Errorf("store: the shared transaction failed: %w", g.broken)
	}
	if _, err := g.tx.ExecContext(context.WithoutCancel(ctx), "SAVEPOINT member"); err != nil {
		g.broken = err
		m.end()
		return nil, err
	}
	noteRawTx(ctx, g.tx)
	return m, nil
}

// start opens g's transaction once the connection is free; from then on
// arrivals form the next group. It runs on its own so that members can
// give up waiting.
func (c *committer) start(g *group) {
	tx, err := c.db.BeginTx(context.Background(), nil)
	c.mu.Lock()
	if c.open == g {
		c.open = nil
	}
	g.tx, g.err, g.begun = tx, err, true
	empty := g.active == 0
	c.mu.Unlock()
	close(g.ready)
	if empty { // everyone gave up waiting
		c.finish(g)
	}
}

// leave ends a member's part in g; the last one out ends the group.
func (c *committer) leave(g *group) {
	c.mu.Lock()
	g.active--
	last := g.active == 0 && g.begun
	c.mu.Unlock()
	if last {
		c.finish(g)
	}
}

// finish commits g, or rolls it back when broken.
func (c *committer) finish(g *group) {
	switch {
	case g.err != nil: // never began
	case g.broken != nil:
		_ = g.tx.Rollback()
		g.err = fmt.Errorf("store: the shared transaction failed: %w", g.broken)
	default:
		g.err = g.tx.Commit()
	}
	close(g.done)
}

// stats returns how many groups were formed and how many members joined.
func (c *committer) stats() (groups, members int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups, c.members
}

// member is one write transaction inside a group.
type member struct {
	c     *committer
	g     *group
	conn  entsql.Conn
	ended bool
}

// Exec implements dialect.ExecQuerier.
func (m *member) Exec(ctx context.Context, query string, args, v any) error {
	if m.ended {
		return sql.ErrTxDone
	}
	return m.conn.Exec(ctx, query, args, v)
}

// Query implements dialect.ExecQuerier.
func (m *member) Query(ctx context.Context, query string, args, v any) error {
	if m.ended {
		return sql.ErrTxDone
	}
	return m.conn.Query(ctx, query, args, v)
}

// ExecContext runs a statement in the member (ent's ExecContext on a Tx).
func (m *member) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if m.ended {
		return nil, sql.ErrTxDone
	}
	return m.conn.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the member (ent's QueryContext on a Tx).
func (m *member) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if m.ended {
		return nil, sql.ErrTxDone
	}
	return m.conn.QueryContext(ctx, query, args...)
}

// end gives the turn to the next member and leaves the group.
func (m *member) end() {
	m.ended = true
	<-m.g.turn
	m.c.leave(m.g)
}

// Commit keeps the member's writes and returns once the group's commit is
// on disk (or failed).
func (m *member) Commit() error {
	if m.ended {
		return sql.ErrTxDone
	}
	if _, err := m.g.tx.Exec("RELEASE member"); err != nil {
		m.undo()
		m.end()
		return err
	}
	g := m.g
	m.end()
	<-g.done
	return g.err
}

// Rollback undoes the member's writes only.
func (m *member) Rollback() error {
	if m.ended {
		return sql.ErrTxDone
	}
	m.undo()
	m.end()
	return nil
}

// undo rolls back to the member's savepoint; failing that, the whole
// transaction is gone and the group is broken.
func (m *member) undo() {
	if _, err := m.g.tx.Exec("ROLLBACK TO member"); err != nil {
		m.g.broken = err
		return
	}
	if _, err := m.g.tx.Exec("RELEASE member"); err != nil {
		m.g.broken = err
	}
}

// detached runs statements without their caller's cancellation: SQLite
// answers an interrupted write by rolling back the whole transaction, which
// here holds other callers' work. Statements are short; a caller that
// gives up stops at its next statement instead.
type detached struct{ cachedTx }

func (d detached) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.cachedTx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (d detached) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.cachedTx.QueryContext(context.WithoutCancel(ctx), query, args...)
}
