package store

import (
	"context"
	"errors"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// ErrDirectoryOutsideTx is returned for a change to directory data made
// outside a transaction: its version bump could not be atomic with it.
var ErrDirectoryOutsideTx = errors.New("store: directory changes must run in a transaction")

// versionDirectory moves the account's directory_version forward after every
// change to what routing reads of it (settings, channels, members,
// employees, pipelines, stages, lead statuses), in the change's own
// transaction, and calls changed after that transaction commits. It is
// installed on the client in one place, here, so no write path can forget
// it; caches compare this one number to know they are current.
func versionDirectory(c *ent.Client, changed func(accountID int64)) {
	hook := func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if bookkeeping(m) {
				return next.Mutate(ctx, m)
			}
			txm, ok := m.(interface{ Tx() (*ent.Tx, error) })
			if !ok {
				return nil, ErrDirectoryOutsideTx
			}
			tx, err := txm.Tx()
			if err != nil {
				return nil, ErrDirectoryOutsideTx
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			upd := tx.AccountSettings.Update().AddDirectoryVersion(1)
			acct, ok := tenant.FromContext(ctx)
			if ok {
				upd = upd.Where(accountsettings.AccountID(acct))
			}
			tx.OnCommit(func(next ent.Committer) ent.Committer {
				return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
					err := next.Commit(ctx, tx)
					if err == nil {
						changed(acct) // 0: every account (system scope)
					}
					return err
				})
			})
			return v, upd.Exec(ctx)
		})
	}
	c.AccountSettings.Use(hook)
	c.Channel.Use(hook)
	c.ChannelMember.Use(hook)
	c.Employee.Use(hook)
	c.Pipeline.Use(hook)
	c.Stage.Use(hook)
	c.LeadStatus.Use(hook)
}

// notDirectory are the fields of account settings that routing does not
// read: the version itself and the notification log's pruned position.
var notDirectory = []string{accountsettings.FieldDirectoryVersion, accountsettings.FieldPrunedTxid, accountsettings.FieldPrunedID}

// bookkeeping reports whether m changes none of the directory: the version
// bump itself, or pruning recording how far it went.
func bookkeeping(m ent.Mutation) bool {
	if m.Type() != ent.TypeAccountSettings {
		return false
	}
	changed := slices.Concat(m.Fields(), m.AddedFields(), m.ClearedFields())
	return len(changed) > 0 && !slices.ContainsFunc(changed, func(f string) bool { return !slices.Contains(notDirectory, f) })
}
