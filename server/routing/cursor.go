package routing

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/distributioncursor"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/store"
)

// A channel's distribution cursor is stored in its own row, locked by
// whoever distributes a client of the channel or edits its member list, so
// the two never interleave, on any number of replicas. The rules over it
// are package distribution's; this is their storage.

// LockCursor locks a channel's stored cursor until the transaction ends,
// creating it if missing. Editing a channel's member list takes it (package
// settings), as distributing a client does.
func LockCursor(ctx context.Context, tx *ent.Tx, channelID int64) (*ent.DistributionCursor, error) {
	cur, _, err := lockCursorVersioned(ctx, tx, channelID)
	return cur, err
}

// lockCursorVersioned is LockCursor that also returns the account's
// directory version as it stands once the lock is held: a member list read
// at that version is the one the cursor goes with.
func lockCursorVersioned(ctx context.Context, tx *ent.Tx, channelID int64) (*ent.DistributionCursor, int64, error) {
	q := store.ForUpdate(tx.DistributionCursor.Query().Where(distributioncursor.ChannelID(channelID)))
	q.Modify(func(s *sql.Selector) {
		s.AppendSelectExprAs(sql.Expr("(SELECT directory_version FROM account_settings WHERE account_settings.account_id = "+
			s.C(distributioncursor.FieldAccountID)+")"), "directory_version")
	})
	cur, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		// Channels are created with their cursor; this is for one that
		// lost it. Two transactions may get here at once: the loser runs
		// again and finds the winner's.
		err = tx.DistributionCursor.Create().SetChannelID(channelID).Exec(ctx)
		if store.IsUniqueViolation(err) {
			return nil, 0, fmt.Errorf("cursor of channel %d created concurrently: %w", channelID, store.ErrRetry)
		}
		if err != nil {
			return nil, 0, err
		}
		return lockCursorVersioned(ctx, tx, channelID)
	}
	if err != nil {
		return nil, 0, err
	}
	v, err := cur.Value("directory_version")
	if err != nil {
		return nil, 0, err
	}
	version, err := store.Int64(v)
	return cur, version, err
}

// moveCursor stores next as the channel's cursor (row id), counting
// assigned distributed clients, on the condition that the account's
// directory is still at version, the one the distribution was decided on
// (0: no condition); otherwise it returns an error wrapping store.ErrRetry
// and the transaction runs again.
//
// lockCursorVersioned reads the version in its locking statement, but on
// PostgreSQL that statement keeps the version it read before it waited for
// the lock (a statement evaluated again after a wait re-reads only the rows
// it locks): an edit of the member list that held the lock and committed
// meanwhile shows only to a later statement, such as this one.
func moveCursor(ctx context.Context, tx *ent.Tx, id int64, next distribution.Cursor, assigned int, version int64) error {
	upd := tx.DistributionCursor.Update().Where(distributioncursor.ID(id)).SetStreak(next.Streak).AddAssigned(int64(assigned))
	if next.Last == 0 {
		upd = upd.ClearLastEmployeeID()
	} else {
		upd = upd.SetLastEmployeeID(next.Last)
	}
	if version != 0 {
		upd = upd.Where(directoryAt(version))
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("directory moved past version %d while waiting for the cursor of row %d: %w", version, id, store.ErrRetry)
	}
	return nil
}

// directoryAt holds for a cursor whose account's directory is at version.
func directoryAt(version int64) func(*sql.Selector) {
	return func(s *sql.Selector) {
		col := s.C(distributioncursor.FieldAccountID)
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("(SELECT directory_version FROM account_settings WHERE account_settings.account_id = " + col + ") = ").Arg(version)
		}))
	}
}

// cursorOf reads a stored cursor.
func cursorOf(c *ent.DistributionCursor) distribution.Cursor {
	out := distribution.Cursor{Streak: c.Streak}
	if c.LastEmployeeID != nil {
		out.Last = *c.LastEmployeeID
	}
	return out
}

// RebaseCursor keeps a locked cursor on the channel's last assignee across
// an edit of its member list (before → after, employee ids in list order;
// distribution.Rebase).
func RebaseCursor(ctx context.Context, tx *ent.Tx, c *ent.DistributionCursor, before, after []int64) error {
	return saveCursor(ctx, tx, c, distribution.Rebase(before, after, cursorOf(c)), false)
}

// saveCursor stores next as the channel's cursor; assigned counts a
// distributed client.
func saveCursor(ctx context.Context, tx *ent.Tx, c *ent.DistributionCursor, next distribution.Cursor, assigned bool) error {
	if next == cursorOf(c) && !assigned {
		return nil
	}
	upd := tx.DistributionCursor.Update().Where(distributioncursor.ID(c.ID)).SetStreak(next.Streak)
	if next.Last == 0 {
		upd = upd.ClearLastEmployeeID()
	} else {
		upd = upd.SetLastEmployeeID(next.Last)
	}
	if assigned {
		upd = upd.AddAssigned(1)
	}
	return upd.Exec(ctx)
}
