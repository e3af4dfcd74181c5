package store

import (
	"fmt"

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

// Int64 reads an integer a query selected beyond an entity's fields (ent
// hands those over as driver values).
func Int64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case *entsql.NullInt64:
		if !x.Valid {
			return 0, fmt.Errorf("store: NULL where a number was expected")
		}
		return x.Int64, nil
	case *any:
		return Int64(*x)
	case nil:
		return 0, fmt.Errorf("store: NULL where a number was expected")
	}
	return 0, fmt.Errorf("store: %T where a number was expected", v)
}
