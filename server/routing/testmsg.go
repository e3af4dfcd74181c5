package routing

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/notification"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// testIdentity is the built-in test client's identity; no real sender
// normalizes to it.
const testIdentity = "test:switchboard"

// DefaultTestText is the test message's text when none is given.
const DefaultTestText = "Hello! This is a test message from Switchboard."

// SendTestMessage routes a message from the built-in test client through
// the first WhatsApp, WABA or Telegram channel of the integration.
func (r *Router) SendTestMessage(ctx context.Context, text string) (*pb.SendTestMessageResponse, error) {
	as, err := r.loadSettings(ctx, r.st.Ent)
	if err != nil {
		return nil, err
	}
	if !as.SavedOnce {
		return nil, errs.Precondition("save the integration settings once before sending a test message")
	}
	ch, err := r.st.Ent.Channel.Query().
		Where(channel.InIntegration(true), channel.KindIn(channel.KindWHATSAPP, channel.KindWABA, channel.KindTELEGRAM)).
		Order(ent.Asc(channel.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, errs.Precondition("the integration has no WhatsApp, WABA or Telegram channel to send a test message through")
	}
	if err != nil {
		return nil, err
	}
	if text == "" {
		text = DefaultTestText
	}
	d, _, err := r.RouteIncoming(ctx, Incoming{
		ChannelID:  ch.ID,
		Handle:     testIdentity,
		SenderName: "Switchboard test client",
		Content:    Content{Text: text},
		GatewayID:  fmt.Sprintf("switchboard-test-%d", time.Now().UnixNano()),
		Test:       true,
	})
	if err != nil {
		return nil, err
	}
	return &pb.SendTestMessageResponse{Channel: convert.Channel(ch), Decision: d}, nil
}

// RemoveTestClient deletes the test client with its deals, chats,
// messages and pushes.
func (r *Router) RemoveTestClient(ctx context.Context) (bool, error) {
	removed := false
	err := r.st.Tx(ctx, func(tx *ent.Tx) error {
		ids, err := tx.Contact.Query().Where(contact.IsTest(true)).IDs(ctx)
		if err != nil || len(ids) == 0 {
			return err
		}
		if _, err := tx.Notification.Delete().Where(notification.ContactIDIn(ids...)).Exec(ctx); err != nil {
			return err
		}
		// Deals, chats and messages go with the client (ON DELETE CASCADE).
		acct, _ := tenant.FromContext(ctx)
		r.handsChanged(tx, acct, ids...)
		n, err := tx.Contact.Delete().Where(contact.IDIn(ids...)).Exec(ctx)
		removed = n > 0
		return err
	})
	return removed, err
}
