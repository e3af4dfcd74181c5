package routing

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/server/store"
)

// Reads and writes the commands share, on every store.

// latestDeal returns the client's most recent open deal, else its most
// recently closed one; nil when it has none. One query: open deals first,
// newest first; then closed ones, the last closed first.
func latestDeal(ctx context.Context, c *ent.Client, clientID int64) (*ent.Deal, error) {
	d, err := c.Deal.Query().Where(deal.ContactID(clientID)).Order(func(s *sql.Selector) {
		open := s.C(deal.FieldState) + " = 'OPEN'"
		s.OrderExpr(sql.Expr("CASE WHEN " + open + " THEN 0 ELSE 1 END"))
		s.OrderExpr(sql.Expr("CASE WHEN " + open + " THEN " + s.C(deal.FieldID) + " ELSE 0 END DESC"))
	}, ent.Desc(deal.FieldClosedAt), ent.Desc(deal.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return d, err
}

// touchChat marks the client's chat on the channel active now and points
// it at the deal (when there is one), creating it when the client has none
// there yet (existing nil).
func touchChat(ctx context.Context, tx *ent.Tx, channelID, clientID int64, existing *ent.Chat, dl *ent.Deal) (*ent.Chat, error) {
	var dealID *int64
	if dl != nil {
		dealID = &dl.ID
	}
	t := now()
	if existing == nil {
		return createChat(ctx, tx, channelID, clientID, dealID, t)
	}
	cht := *existing
	upd := tx.Chat.Update().Where(chat.ID(cht.ID)).SetLastMessageAt(t)
	if dealID != nil {
		upd = upd.SetDealID(*dealID)
		cht.DealID = dealID
	}
	cht.LastMessageAt = t
	return &cht, upd.Exec(ctx)
}

// createChat creates a known client's chat on a channel, active at.
func createChat(ctx context.Context, tx *ent.Tx, channelID, clientID int64, dealID *int64, at time.Time) (*ent.Chat, error) {
	created, err := tx.Chat.Create().SetChannelID(channelID).SetContactID(clientID).SetNillableDealID(dealID).
		SetLastMessageAt(at).Save(ctx)
	if store.IsUniqueViolation(err) {
		return nil, fmt.Errorf("chat created concurrently: %w", store.ErrRetry)
	}
	return created, err
}

// errResponsibleMoved: the client's responsible changed (a claim, a
// transfer) after this transaction read it; run again on the new one.
var errResponsibleMoved = fmt.Errorf("routing: the client's responsible changed meanwhile: %w", store.ErrRetry)

// responsibleIs selects the client if its responsible is id (nil: nobody).
func responsibleIs(id *int64) predicate.Contact {
	if id == nil {
		return contact.ResponsibleIDIsNil()
	}
	return contact.ResponsibleID(*id)
}
