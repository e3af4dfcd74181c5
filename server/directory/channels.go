package directory

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
)

// Channels lists the account's channels.
func Channels(ctx context.Context, st *store.Store) ([]*ent.Channel, error) {
	return st.Ent.Channel.Query().Order(ent.Asc(channel.FieldID)).All(ctx)
}

// NewChannel is a channel to add.
type NewChannel struct {
	Kind             channel.Kind
	Name, ExternalID string
	OpenChannels     bool
}

// CreateChannel adds a channel, in the integration, with default settings
// and its distribution cursor.
func CreateChannel(ctx context.Context, st *store.Store, n NewChannel) (*ent.Channel, error) {
	var out *ent.Channel
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		out, err = tx.Channel.Create().
			SetKind(n.Kind).
			SetName(n.Name).
			SetExternalID(n.ExternalID).
			SetOpenChannels(n.OpenChannels).
			Save(ctx)
		if err != nil {
			return err
		}
		return tx.DistributionCursor.Create().SetChannelID(out.ID).Exec(ctx)
	})
	return out, err
}

// ChannelChange renames the channel ID names or changes its flags; nil
// fields stay as they are.
type ChannelChange struct {
	ID                          string
	Name                        *string
	InIntegration, OpenChannels *bool
}

// UpdateChannel applies c.
func UpdateChannel(ctx context.Context, st *store.Store, c ChannelChange) (*ent.Channel, error) {
	var out *ent.Channel
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		out, err = ids.Resolve(ctx, "channel_id", "channel", c.ID, func(ctx context.Context, id int64) (*ent.Channel, error) {
			upd := tx.Channel.UpdateOneID(id)
			if c.Name != nil {
				upd = upd.SetName(*c.Name)
			}
			if c.InIntegration != nil {
				upd = upd.SetInIntegration(*c.InIntegration)
			}
			if c.OpenChannels != nil {
				upd = upd.SetOpenChannels(*c.OpenChannels)
			}
			return upd.Save(ctx)
		})
		return err
	})
	return out, err
}
