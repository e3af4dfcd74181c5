package outbox

import (
	"context"
	"fmt"
	"github.com/switchboardhq/switchboard/server/crm"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboardhq/switchboard/server/store"
)

// Limit is a CRM's documented request ceiling for one account.
type Limit struct {
	PerSecond float64
	// Burst is how many requests may go back to back after a quiet spell
	// (default 1: evenly spaced).
	Burst int
}

// LimitOf is the limit per account of a CRM of kind, as its connector
// registered it (crm.Vendor.Rate); ok is false for a kind without one.
func LimitOf(kind crm.Kind) (Limit, bool) {
	r, ok := crm.RateOf(kind)
	return Limit{PerSecond: r.PerSecond, Burst: r.Burst}, ok
}

// Headroom is the share of a CRM's limit the outbox uses. The rest absorbs
// the time between a request's slot and its arrival (a worker waking, the
// network): at 85 % of 7/s, eight requests are spread over 1.18 s, so a
// request up to 170 ms late cannot put an eighth one into the CRM's second.
const Headroom = 0.85

// Pacer paces the requests to each (CRM, account) within its Limit, for
// all replicas together. Each replica has an x/time/rate limiter per key,
// and every request then also takes a slot from the store's pacing counter
// for the key, shared by the replicas (store.Pace: on PostgreSQL a row
// that holds the next free slot's time, one UPSERT reserving a slot and
// moving it on; on SQLite, whose file one process owns, the counter is in
// memory and the local limiter has already spaced the requests).
type Pacer struct {
	pace  store.Pace
	meter store.Meter

	mu   sync.Mutex
	keys map[string]*Limiter
}

func newPacer(st *store.Store) *Pacer {
	return &Pacer{pace: st.Pace(), meter: st.Meter(), keys: map[string]*Limiter{}}
}

// Limiter returns the limiter of crm's account (the same one for the same
// key; the first call's limit holds).
func (p *Pacer) Limiter(crm string, account int64, l Limit) *Limiter {
	key := crm + ":" + strconv.FormatInt(account, 10)
	p.mu.Lock()
	defer p.mu.Unlock()
	if lim := p.keys[key]; lim != nil {
		return lim
	}
	if l.Burst < 1 {
		l.Burst = 1
	}
	every := time.Duration(float64(time.Second) / (l.PerSecond * Headroom))
	lim := &Limiter{
		local: rate.NewLimiter(rate.Every(every), l.Burst),
		pace:  p.pace, key: key, every: every,
		tolerance: time.Duration(l.Burst-1) * every,
	}
	p.keys[key] = lim
	return lim
}

// Limiter paces one (CRM, account). It satisfies amocrm.Limiter.
type Limiter struct {
	local     *rate.Limiter
	pace      store.Pace
	key       string
	every     time.Duration // spacing between slots
	tolerance time.Duration // how far ahead of its slot a burst may go
}

// Wait blocks until a request may be sent, or returns ctx's error.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := l.local.Wait(ctx); err != nil {
		return err
	}
	wait, err := l.pace.Reserve(ctx, l.key, l.every, l.tolerance)
	if err != nil {
		return fmt.Errorf("outbox: pace %s: %w", l.key, err)
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Meter returns the counter of what account spends of the budget named
// name (a CRM's daily API credits), shared by every replica through the
// store (store.Meter).
func (p *Pacer) Meter(name string, account int64) crm.Meter {
	return meter{m: p.meter, key: name + ":" + strconv.FormatInt(account, 10)}
}

type meter struct {
	m   store.Meter
	key string
}

func (m meter) Spend(ctx context.Context, at time.Time, n, limit int) (int, bool, error) {
	return m.m.Spend(ctx, m.key, at, n, limit)
}

func (m meter) Spent(ctx context.Context, at time.Time) (int, time.Time, error) {
	return m.m.Spent(ctx, m.key, at)
}
