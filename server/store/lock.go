package store

import (
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// modifiable is every generated ent query: Modify adds a selector modifier
// to the query itself.
type modifiable[S any] interface {
	Modify(...func(*entsql.Selector)) S
}

// ForUpdate makes q lock the rows it reads until the transaction ends
// (SELECT … FOR UPDATE) on PostgreSQL. SQLite has no row locks and runs one
// write transaction at a time, so there the query is left as it is.
func ForUpdate[Q modifiable[S], S any](q Q) Q {
	q.Modify(forUpdate)
	return q
}

func forUpdate(s *entsql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}
