package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
)

// River returns the River driver of the store's database (the outbox's job
// queue, server/outbox): database/sql over pgx on PostgreSQL, the SQLite
// driver on SQLite. Both take the *sql.Tx of SQLTx, so a job is inserted in
// the transaction of the decision that made it.
func (s *Store) River() riverdriver.Driver[*sql.Tx] { return s.river }

// migrateRiver creates or updates River's tables in the store's schema (the
// search_path's on PostgreSQL). It runs under the store's migration lock.
func (s *Store) migrateRiver(ctx context.Context) error {
	m, err := rivermigrate.New(s.river, &rivermigrate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("migrate the outbox: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate the outbox: %w", err)
	}
	// An account's sync state lists its jobs by state (outbox.Sync); the
	// account is in each job's metadata.
	if _, err := s.DB.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS river_job_account
		ON river_job ((metadata ->> 'account'), state, id)`); err != nil {
		return fmt.Errorf("migrate the outbox: the account index: %w", err)
	}
	return nil
}
