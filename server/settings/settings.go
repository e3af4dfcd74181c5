package settings

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/employee"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Get reads the settings of the context's account, with their revision,
// from one snapshot.
func Get(ctx context.Context, st *store.Store) (*pb.IntegrationSettings, error) {
	var out *pb.IntegrationSettings
	err := st.ReadTx(ctx, func(tx *ent.Tx) error {
		var err error
		out, err = Load(ctx, tx.Client())
		return err
	})
	return out, err
}

// Save writes in as the account's settings, whole, and returns them as
// stored; with validateOnly it checks them as saving would and keeps
// nothing. A document that is malformed in itself fails first, naming
// every bad field, those the store must resolve included; then a stale
// revision fails; then any reference the store does not hold.
func Save(ctx context.Context, st *store.Store, in *pb.IntegrationSettings, validateOnly bool) (*pb.IntegrationSettings, error) {
	run := st.Tx
	if validateOnly {
		run = st.ReadTx
	}
	var out *pb.IntegrationSettings
	err := run(ctx, func(tx *ent.Tx) error {
		var err error
		out, err = saveIn(ctx, tx, in, validateOnly)
		return err
	})
	return out, err
}

// SaveIn checks and stores in inside tx, as Save does, and returns the
// settings as stored; the caller commits or rolls back (a preview rolls
// back).
func SaveIn(ctx context.Context, tx *ent.Tx, in *pb.IntegrationSettings) (*pb.IntegrationSettings, error) {
	return saveIn(ctx, tx, in, false)
}

func saveIn(ctx context.Context, tx *ent.Tx, in *pb.IntegrationSettings, validateOnly bool) (*pb.IntegrationSettings, error) {
	var v errs.Violations
	checkShape(&v, "settings", in)
	if len(v) == 0 {
		if validateOnly {
			if err := current(ctx, tx, in.Revision); err != nil {
				return nil, err
			}
		} else if _, err := Bump(ctx, tx, in.Revision); err != nil {
			return nil, err
		}
	}
	c := tx.Client()
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := check(ctx, c, d, in, &v); err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !validateOnly {
		before, err := Load(ctx, c)
		if err != nil {
			return nil, err
		}
		if err := apply(ctx, tx, d, in); err != nil {
			return nil, err
		}
		if err := RecordAccessChanges(ctx, tx, before); err != nil {
			return nil, err
		}
	}
	return Load(ctx, c)
}

// Delete unlinks the CRM and resets every routing setting, if the
// settings are still at revision (0: whatever is current). A CRM told to
// send its changes here (Zoho's channel) is told to stop, best effort.
func Delete(ctx context.Context, st *store.Store, o CRMOptions, revision int64) (*pb.IntegrationSettings, error) {
	var out *pb.IntegrationSettings
	var prev *ent.CrmConnection
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		acct, _ := tenant.FromContext(ctx)
		if err := st.LockTx(ctx, tx, crmsync.ConnectionLock(acct)); err != nil {
			return err
		}
		if _, err := Bump(ctx, tx, revision); err != nil {
			return err
		}
		var err error
		if prev, err = tx.CrmConnection.Query().First(ctx); err != nil && !ent.IsNotFound(err) {
			return err
		}
		chs, err := tx.Channel.Query().All(ctx)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			if err := applyChannel(ctx, tx, ch, &pb.ChannelSettings{}); err != nil {
				return err
			}
		}
		if err := tx.Channel.Update().SetInIntegration(false).Exec(ctx); err != nil {
			return err
		}
		// The CRM's token and webhook key go with the link.
		if _, err := tx.CrmConnection.Delete().Exec(ctx); err != nil {
			return err
		}
		err = tx.Employee.Update().
			Where(employee.Or(employee.ChatAdmin(true), employee.DefaultOutgoingChannelIDNotNil(), employee.WorkingHoursNotNil())).
			SetChatAdmin(false).ClearDefaultOutgoingChannelID().ClearWorkingHours().Exec(ctx)
		if err != nil {
			return err
		}
		err = tx.AccountSettings.Update().
			SetCrmKind(accountsettings.CrmKindNONE).
			SetSavedOnce(false).
			SetSaveMessages(accountsettings.DefaultSaveMessages).
			SetConvert8ToPlus7(accountsettings.DefaultConvert8ToPlus7).
			SetNotifyManagersAllMessages(accountsettings.DefaultNotifyManagersAllMessages).
			SetGlobalChatVisibility(accountsettings.DefaultGlobalChatVisibility).
			SetTimeZone(accountsettings.DefaultTimeZone).
			ClearHomeRegion().
			Exec(ctx)
		if err != nil {
			return err
		}
		out, err = Load(ctx, tx.Client())
		return err
	})
	if err == nil {
		unsubscribe(ctx, o, prev)
	}
	return out, err
}
