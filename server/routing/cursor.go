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
// creating it if missing, for an edit of the channel's member list (package
// settings); distributing a client locks it with lockCursorVersioned.
//
// The edit counts itself on the row (edits), so that a distribution that
// waited on the row meanwhile learns of it: see lockCursorVersioned.
func LockCursor(ctx context.Context, tx *ent.Tx, channelID int64) (*ent.DistributionCursor, error) {
	n, err := tx.DistributionCursor.Update().Where(distributioncursor.ChannelID(channelID)).AddEdits(1).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		cur, _, err := lockCursorVersioned(ctx, tx, channelID)
		return cur, err
	}
	return tx.DistributionCursor.Query().Where(distributioncursor.ChannelID(channelID)).Only(ctx)
}

// lockCursorVersioned is LockCursor that also returns the account's
// directory version as it stands once the lock is held: a member list read
// at that version is the one the cursor goes with.
func lockCursorVersioned(ctx context.Context, tx *ent.Tx, channelID int64) (*ent.DistributionCursor, int64, error) {
	q := store.ForUpdate(tx.DistributionCursor.Query().Where(distributioncursor.ChannelID(channelID)))
	q.Modify(func(s *sql.Selector) {
		s.AppendSelectExprAs(sql.Expr("(SELECT directory_version FROM account_settings WHERE account_settings.account_id = "+
			s.C(distributioncursor.FieldAccountID)+")"), "directory_version")
		// The row's edits as the statement first saw it: on PostgreSQL a
		// statement that waited for the lock returns the row as the edit
		// that held it left it, but reads other rows — the version above,
		// this subquery — as they were before the wait.
		s.AppendSelectExprAs(sql.Expr("(SELECT c.edits FROM distribution_cursors c WHERE c.id = "+
			s.C(distributioncursor.FieldID)+")"), "edits_before")
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
	if err != nil {
		return nil, 0, err
	}
	if v, err = cur.Value("edits_before"); err != nil {
		return nil, 0, err
	}
	before, err := store.Int64(v)
	if err != nil {
		return nil, 0, err
	}
	if before != cur.Edits {
		// A member edit committed while this waited: the version read is
		// older than the list the cursor now goes with.
		return nil, 0, fmt.Errorf("cursor of channel %d edited while waiting for it: %w", channelID, store.ErrRetry)
	}
	return cur, version, nil
}

// moveCursor stores next as the channel's cursor (row id), counting
// assigned distributed clients.
func moveCursor(ctx context.Context, tx *ent.Tx, id int64, next distribution.Cursor, assigned int) error {
	upd := tx.DistributionCursor.Update().Where(distributioncursor.ID(id)).SetStreak(next.Streak).AddAssigned(int64(assigned))
	if next.Last == 0 {
		upd = upd.ClearLastEmployeeID()
	} else {
		upd = upd.SetLastEmployeeID(next.Last)
	}
	return upd.Exec(ctx)
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
