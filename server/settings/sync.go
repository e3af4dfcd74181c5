package settings

import (
	"context"
	"errors"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/store"
)

// kinds names the outbox's CRM jobs as the API does.
var kinds = map[string]string{
	"crm_new_client":  "new client",
	"crm_responsible": "responsible",
	"crm_chat_flush":  "chat messages",
	"crm_chat_log":    "chat log",
}

// JobKind names an outbox job's kind as the API does.
func JobKind(kind string) string {
	if k := kinds[kind]; k != "" {
		return k
	}
	return kind
}

// SyncState reports the account's writes to its CRM: up to size pending
// and size failed (0 means 100), and the last success.
func SyncState(ctx context.Context, o *outbox.Outbox, size int) (outbox.SyncState, error) {
	if o == nil {
		return outbox.SyncState{}, errs.New(errs.ErrUnavailable, "this server delivers no CRM writes")
	}
	if size == 0 {
		size = 100
	}
	return o.Sync(ctx, size)
}

// Budget is a CRM's daily request budget as the server's replicas spent
// it together.
type Budget struct {
	Used, Limit int
	Resets      time.Time
	Paused      bool
}

// CRMBudget reads the account's CRM's daily budget; nil for a CRM without
// one (or an account without a CRM).
func CRMBudget(ctx context.Context, st *store.Store, o crmsync.Options) (*Budget, error) {
	conn, _, err := crmsync.Open(ctx, st.Ent, o)
	if errors.Is(err, errs.ErrFailedPrecondition) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, ok := conn.(crm.Budgeted)
	if !ok {
		return nil, nil
	}
	got, err := b.Budget(ctx)
	if err != nil {
		return nil, err
	}
	return &Budget{Used: got.Used, Limit: got.Limit, Resets: got.Resets, Paused: got.Paused}, nil
}

// RetrySync sends the failed write itemID names to the CRM again.
func RetrySync(ctx context.Context, o *outbox.Outbox, itemID string) error {
	if o == nil {
		return errs.New(errs.ErrUnavailable, "this server delivers no CRM writes")
	}
	_, err := ids.Resolve(ctx, "item_id", "outbox job", itemID, func(ctx context.Context, id int64) (struct{}, error) {
		return struct{}{}, o.Retry(ctx, id)
	})
	return err
}

// FeedPage asks for a client's chat log: the entries that end before
// Before (zero: now), Size of them (0 means 50).
type FeedPage struct {
	ClientID string
	Before   time.Time
	Size     int
}

// ClientFeed lists a client's chat log as the CRM's feed holds it, newest
// first, and where the next page ends (zero when there is none).
func ClientFeed(ctx context.Context, st *store.Store, p FeedPage) ([]crmsync.FeedEntry, time.Time, error) {
	size := p.Size
	if size == 0 {
		size = 50
	}
	ct, err := ids.Resolve(ctx, "client_id", "client", p.ClientID, st.Ent.Contact.Get)
	if err != nil {
		return nil, time.Time{}, err
	}
	return crmsync.Feed(ctx, st.Ent, ct.ID, p.Before, size)
}
