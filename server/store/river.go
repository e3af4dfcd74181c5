package store

import (
	"database/sql"

	"github.com/riverqueue/river/riverdriver"
)

// River returns the River driver of the store's database (the outbox's job
// queue, server/outbox): database/sql over pgx on PostgreSQL, the SQLite
// driver on SQLite. Both take the *sql.Tx of SQLTx, so a job is inserted in
// the transaction of the decision that made it.
func (s *Store) River() riverdriver.Driver[*sql.Tx] { return s.river }
