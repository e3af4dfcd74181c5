package notify

import (
	"context"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/server/store"
)

// Audience is whose decisions a reader wants: one employee, or the general
// chat (Employee 0).
type Audience struct {
	Account  int64
	Employee int64
}

// after selects rows past a cursor in log order.
func after(c Cursor) predicate.Notification {
	return func(s *entsql.Selector) {
		tx, id := s.C(notification.FieldTxid), s.C(notification.FieldID)
		s.Where(entsql.Or(
			entsql.GT(tx, c.TxID),
			entsql.And(entsql.EQ(tx, c.TxID), entsql.GT(id, c.ID)),
		))
	}
}

// settled selects rows that no running transaction can precede. On
// PostgreSQL a row is settled once every transaction older than its own has
// ended, so a reader that stops at the first unsettled row never sees a row
// appear behind its cursor later. SQLite commits one writer at a time in id
// order, so every visible row is settled.
func settled(st *store.Store) predicate.Notification {
	if !st.IsPostgres() {
		return func(*entsql.Selector) {}
	}
	return func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) {
			b.Ident(s.C(notification.FieldTxid)).WriteString(" < pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
		}))
	}
}

func ordered(q *ent.NotificationQuery) *ent.NotificationQuery {
	return q.Order(ent.Asc(notification.FieldTxid), ent.Asc(notification.FieldID))
}

func forAudience(a Audience) predicate.Notification {
	if a.Employee == 0 {
		return notification.EmployeeIDIsNil()
	}
	return notification.EmployeeID(a.Employee)
}

// Read returns up to limit settled decisions of the audience after cursor,
// in log order. ctx must be scoped to the audience's account.
func Read(ctx context.Context, st *store.Store, a Audience, from Cursor, limit int) ([]*ent.Notification, error) {
	return read(ctx, st, from, limit, forAudience(a))
}

// Head returns the position of the audience's newest settled decision, or
// the zero cursor when it has none.
func Head(ctx context.Context, st *store.Store, a Audience) (Cursor, error) {
	return head(ctx, st, forAudience(a))
}

// read returns up to limit settled decisions after cursor that match where,
// in log order. With no predicate and system scope in ctx, every account's:
// what a replica's tailer fans out.
func read(ctx context.Context, st *store.Store, from Cursor, limit int, where ...predicate.Notification) ([]*ent.Notification, error) {
	return ordered(st.Ent.Notification.Query().Where(where...).Where(after(from), settled(st))).Limit(limit).All(ctx)
}

// head is the position of the newest settled decision that matches where,
// or the zero cursor when there is none.
func head(ctx context.Context, st *store.Store, where ...predicate.Notification) (Cursor, error) {
	n, err := st.Ent.Notification.Query().Where(where...).Where(settled(st)).
		Order(ent.Desc(notification.FieldTxid), ent.Desc(notification.FieldID)).
		Select(notification.FieldTxid, notification.FieldID).First(ctx)
	if ent.IsNotFound(err) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, err
	}
	return Cursor{TxID: n.Txid, ID: n.ID}, nil
}

// Unsettled counts the committed decisions a reader cannot return yet
// because an older transaction still runs (always 0 on SQLite).
func Unsettled(ctx context.Context, st *store.Store) (int, error) {
	if !st.IsPostgres() {
		return 0, nil
	}
	all, err := st.Ent.Notification.Query().Count(ctx)
	if err != nil {
		return 0, err
	}
	settledRows, err := st.Ent.Notification.Query().Where(settled(st)).Count(ctx)
	return all - settledRows, err
}
