package distribution

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/distributioncursor"
	"github.com/switchboardhq/switchboard/server/store"
)

// Lock locks a channel's stored cursor until the transaction ends, creating
// it if missing. Distributing a client and editing the member list both take
// this lock, so they never interleave, on any number of replicas.
func Lock(ctx context.Context, tx *ent.Tx, channelID int64) (*ent.DistributionCursor, error) {
	cur, _, err := LockVersioned(ctx, tx, channelID)
	return cur, err
}

// LockVersioned is Lock that also returns the account's directory version
// as it stands once the lock is held: a member list read at that version is
// the one the cursor goes with.
func LockVersioned(ctx context.Context, tx *ent.Tx, channelID int64) (*ent.DistributionCursor, int64, error) {
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
		return LockVersioned(ctx, tx, channelID)
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

// CursorOf reads a stored cursor.
func CursorOf(c *ent.DistributionCursor) Cursor {
	out := Cursor{Streak: c.Streak}
	if c.LastEmployeeID != nil {
		out.Last = *c.LastEmployeeID
	}
	return out
}

// Save stores next as the channel's cursor; assigned counts a distributed
// client.
func Save(ctx context.Context, tx *ent.Tx, c *ent.DistributionCursor, next Cursor, assigned bool) error {
	if next == CursorOf(c) && !assigned {
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
