package crmsync

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/crmconnection"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// WebhookPath is where CRM webhooks arrive: WebhookPath + the connection's
// webhook key.
const WebhookPath = "/webhooks/crm/"

// WebhookURL is the address a CRM calls for the connection whose webhook
// key is key ("" base: relative).
func WebhookURL(publicURL, key string) string {
	return strings.TrimRight(publicURL, "/") + WebhookPath + key
}

// SubscriptionToken is the token a subscribed CRM sends back with every
// notification for the webhook key key: derived from the key, so renewing
// gives the same one, and 40 characters (Zoho takes at most 50).
func SubscriptionToken(key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("switchboard crm subscription"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:40]
}

// ErrNoPublicURL: a CRM that is told where to send its changes cannot be
// told a relative address.
var ErrNoPublicURL = errors.New("crmsync: the server was not told its public URL (--public-url), so the CRM cannot be told where to send its changes")

// Subscribe opens or renews conn's subscription to the webhook URL of key,
// when conn's CRM needs one (crm.Subscriber); ok is false for a CRM whose
// webhooks are set up on its side.
func Subscribe(ctx context.Context, conn crm.Connector, publicURL, key string) (until time.Time, ok bool, err error) {
	sub, ok := conn.(crm.Subscriber)
	if !ok {
		return time.Time{}, false, nil
	}
	if !strings.HasPrefix(publicURL, "http://") && !strings.HasPrefix(publicURL, "https://") {
		return time.Time{}, true, ErrNoPublicURL
	}
	until, err = sub.Subscribe(ctx, WebhookURL(publicURL, key), SubscriptionToken(key))
	return until, true, err
}

// Unsubscribe closes conn's subscription to the webhook URL of key, when
// its CRM has one (crm.Subscriber).
func Unsubscribe(ctx context.Context, conn crm.Connector, key string) error {
	sub, ok := conn.(crm.Subscriber)
	if !ok {
		return nil
	}
	return sub.Unsubscribe(ctx, SubscriptionToken(key))
}

// RenewWithin is how long before a subscription lapses it is renewed.
const RenewWithin = 12 * time.Hour

// RenewSubscriptions renews every account's CRM subscription that lapses
// within RenewWithin (or has lapsed). One that fails is tried again at the
// next run; the first error is returned after all were tried.
func (s *Syncer) RenewSubscriptions(ctx context.Context) error {
	sys := tenant.System(ctx)
	due, err := s.st.Ent.CrmConnection.Query().Where(crmconnection.SubscribedUntilNotNil(),
		crmconnection.SubscribedUntilLT(time.Now().Add(RenewWithin))).All(sys)
	if err != nil {
		return err
	}
	var first error
	for _, cc := range due {
		if err := s.renew(tenant.NewContext(ctx, cc.AccountID), cc); err != nil && first == nil {
			first = fmt.Errorf("account %d: %w", cc.AccountID, err)
		}
	}
	return first
}

func (s *Syncer) renew(ctx context.Context, cc *ent.CrmConnection) error {
	if len(cc.WebhookKeySealed) == 0 {
		return nil
	}
	key, err := s.o.Sealer.Open(cc.WebhookKeySealed, Owner(cc.AccountID))
	if err != nil {
		return err
	}
	conn, _, err := Open(ctx, s.st.Ent, s.o)
	if err != nil {
		return err
	}
	until, ok, err := Subscribe(ctx, conn, s.o.PublicURL, string(key))
	if errors.Is(err, ErrNoPublicURL) {
		return nil // said when connecting; nothing to renew without it
	}
	if err != nil || !ok {
		return err
	}
	return s.st.Ent.CrmConnection.UpdateOneID(cc.ID).SetSubscribedUntil(until).Exec(ctx)
}

// SubscriptionsArgs is the job that renews CRM subscriptions (all
// accounts), run every hour by the outbox's leader.
type SubscriptionsArgs struct{}

// Kind implements river.JobArgs.
func (SubscriptionsArgs) Kind() string { return "crm_subscriptions" }

type subscriptionsWorker struct {
	river.WorkerDefaults[SubscriptionsArgs]
	w *Workers
}

func (k *subscriptionsWorker) Work(ctx context.Context, _ *river.Job[SubscriptionsArgs]) error {
	return k.w.Syncer.RenewSubscriptions(ctx)
}

// Periodic are the CRM jobs the outbox runs on a schedule, exactly once
// across replicas (River's leader inserts them).
func Periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return SubscriptionsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}
