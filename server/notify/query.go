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
			entsql.GT(tx, c.Pos),
			entsql.And(entsql.EQ(tx, c.Pos), entsql.GT(id, c.ID)),
		))
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

// Read returns up to limit decisions of the audience after cursor,
// in log order. ctx must be scoped to the audience's account.
func Read(ctx context.Context, st *store.Store, a Audience, from Cursor, limit int) ([]*ent.Notification, error) {
	return read(ctx, st, from, limit, forAudience(a))
}

// Head returns the position of the audience's newest decision, or
// the zero cursor when it has none.
func Head(ctx context.Context, st *store.Store, a Audience) (Cursor, error) {
	return head(ctx, st, forAudience(a))
}

// read returns up to limit decisions after cursor that match where,
// in log order. With no predicate and system scope in ctx, every account's:
// what a replica's tailer fans out.
func read(ctx context.Context, st *store.Store, from Cursor, limit int, where ...predicate.Notification) ([]*ent.Notification, error) {
	return ordered(st.Ent.Notification.Query().Where(where...).Where(after(from))).Limit(limit).All(ctx)
}

// head is the position of the newest decision that matches where,
// or the zero cursor when there is none.
func head(ctx context.Context, st *store.Store, where ...predicate.Notification) (Cursor, error) {
	n, err := st.Ent.Notification.Query().Where(where...).
		Order(ent.Desc(notification.FieldTxid), ent.Desc(notification.FieldID)).
		Select(notification.FieldTxid, notification.FieldID).First(ctx)
	if ent.IsNotFound(err) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, err
	}
	return Cursor{Pos: n.Txid, ID: n.ID}, nil
}
