package store

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
)

// A transaction of Tx also runs statements that are not ent's: the outbox
// inserts its jobs with River, which takes a *sql.Tx. Tx asks the driver
// for the *sql.Tx it begins (through the context of the begin) and keeps
// it beside the ent transaction until the function returns.

type rawTxKey struct{}

// noteRawTx hands tx to the Tx that began it, if one is asking.
func noteRawTx(ctx context.Context, tx *sql.Tx) {
	if p, ok := ctx.Value(rawTxKey{}).(**sql.Tx); ok {
		*p = tx
	}
}

// SQLTx returns the database/sql transaction under tx, which must be the
// transaction Tx passed to its function (false otherwise, or once the
// function has returned). Statements run on it are part of tx: they commit
// and roll back with it. On SQLite it is the transaction a commit group
// shares, positioned inside tx's savepoint, so it may be used only from
// inside the function, never after it or from another goroutine; run
// statements with a context that is not cancelled midway (SQLite answers
// an interrupted write by rolling back the whole group).
func (s *Store) SQLTx(tx *ent.Tx) (*sql.Tx, bool) {
	v, ok := s.txs.Load(tx)
	if !ok {
		return nil, false
	}
	return v.(*sql.Tx), true
}

// pgDriver is ent's driver for PostgreSQL, telling Tx the *sql.Tx it begins.
type pgDriver struct{ *entsql.Driver }

// Tx implements dialect.Driver.
func (d pgDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx starts a transaction.
func (d pgDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.DB().BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	noteRawTx(ctx, tx)
	return &entsql.Tx{Conn: entsql.Conn{ExecQuerier: tx}, Tx: tx}, nil
}
