package notify

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// prune deletes decisions older than the retention, every PruneEvery.
func (h *Hub) prune(ctx context.Context) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := Prune(ctx, h.st.Ent, time.Now().Add(-h.opts.Retention)); err != nil && ctx.Err() == nil {
			h.log.Error("notification log: prune", "err", err)
		} else if n > 0 {
			h.log.Info("notification log: pruned", "decisions", n)
		}
		t.Reset(h.opts.PruneEvery)
	}
}

// Prune deletes the decisions created before cutoff, in batches, and records
// per account the newest one pruned. ctx must have system scope.
func Prune(ctx context.Context, c *ent.Client, cutoff time.Time) (int, error) {
	total := 0
	for {
		rows, err := c.Notification.Query().Where(notification.CreatedAtLT(cutoff)).
			Order(ent.Asc(notification.FieldTxid), ent.Asc(notification.FieldID)).
			Select(notification.FieldID, notification.FieldAccountID, notification.FieldTxid).
			Limit(5000).All(ctx)
		if err != nil || len(rows) == 0 {
			return total, err
		}
		newest := map[int64]Cursor{}
		idsToDelete := make([]int64, len(rows))
		for i, r := range rows {
			idsToDelete[i] = r.ID
			if c := (Cursor{Pos: r.Txid, ID: r.ID}); newest[r.AccountID].Less(c) {
				newest[r.AccountID] = c
			}
		}
		tx, err := c.Tx(ctx)
		if err != nil {
			return total, err
		}
		n, err := tx.Notification.Delete().Where(notification.IDIn(idsToDelete...)).Exec(ctx)
		for acct, cur := range newest {
			if err != nil {
				break
			}
			actx := tenant.NewContext(ctx, acct)
			err = tx.AccountSettings.Update().
				Where(accountsettings.Or(accountsettings.PrunedTxidLT(cur.Pos),
					accountsettings.And(accountsettings.PrunedTxid(cur.Pos), accountsettings.PrunedIDLT(cur.ID)))).
				SetPrunedTxid(cur.Pos).SetPrunedID(cur.ID).Exec(actx)
		}
		if err != nil {
			_ = tx.Rollback()
			return total, err
		}
		if err := tx.Commit(); err != nil {
			return total, err
		}
		total += n
		if len(rows) < 5000 {
			return total, nil
		}
	}
}
