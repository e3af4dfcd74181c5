package distribution

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/distributioncursor"
	"github.com/switchboardhq/switchboard/server/store"
)

// Lock locks a channel's stored cursor until the transaction ends, creating
// it if missing. Distributing a client and editing the member list both take
// this lock, so they never interleave, on any number of replicas.
func Lock(ctx context.Context, tx *ent.Tx, channelID int64) (*ent.DistributionCursor, error) {
	cur, err := store.ForUpdate(tx.DistributionCursor.Query().Where(distributioncursor.ChannelID(channelID))).Only(ctx)
	if ent.IsNotFound(err) {
		return tx.DistributionCursor.Create().SetChannelID(channelID).Save(ctx)
	}
	return cur, err
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
