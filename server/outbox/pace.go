package outbox

import (
	"context"
	"database/sql"
	"fmt"
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

// The CRMs' limits per account (shared/CRM-APIS.md).
var (
	AmoCRMLimit   = Limit{PerSecond: 7, Burst: 1}
	Bitrix24Limit = Limit{PerSecond: 2, Burst: 50}
)

// Headroom is the share of a CRM's limit the outbox uses. The rest absorbs
// the time between a request's slot and its arrival (a worker waking, the
// network): at 85 % of 7/s, eight requests are spread over 1.18 s, so a
// request up to 170 ms late cannot put an eighth one into the CRM's second.
const Headroom = 0.85

// Pacer paces the requests to each (CRM, account) within its Limit, for
// all replicas together. Each replica has an x/time/rate limiter per key;
// on PostgreSQL every request also takes a slot from a row shared by the
// replicas (a generic cell rate algorithm: the row holds the next free
// slot's time, one UPSERT reserves a slot and moves it on). On SQLite
// there is one process, and its limiter is the whole story.
type Pacer struct {
	db *sql.DB // nil: process-local pacing (SQLite)

	mu   sync.Mutex
	keys map[string]*Limiter
}

func newPacer(st *store.Store) *Pacer {
	p := &Pacer{keys: map[string]*Limiter{}}
	if st.IsPostgres() {
		p.db = st.DB
	}
	return p
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
		db:    p.db, key: key, every: every,
		tolerance: time.Duration(l.Burst-1) * every,
	}
	p.keys[key] = lim
	return lim
}

// Limiter paces one (CRM, account). It satisfies amocrm.Limiter.
type Limiter struct {
	local     *rate.Limiter
	db        *sql.DB
	key       string
	every     time.Duration // spacing between slots
	tolerance time.Duration // how far ahead of its slot a burst may go
}

// paceSQL reserves the key's next slot and returns how long to wait for it
// (seconds). tat is the theoretical arrival time of the next request; a
// request may go at tat - tolerance, and moves tat on by one spacing.
const paceSQL = `INSERT INTO outbox_pace AS p (key, tat) VALUES ($1, now() + make_interval(secs => $2))
ON CONFLICT (key) DO UPDATE SET tat = GREATEST(p.tat, now()) + make_interval(secs => $2)
RETURNING GREATEST(EXTRACT(EPOCH FROM (p.tat - make_interval(secs => $2 + $3) - now())), 0)::float8`

// Wait blocks until a request may be sent, or returns ctx's error.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := l.local.Wait(ctx); err != nil {
		return err
	}
	if l.db == nil {
		return nil
	}
	var wait float64
	err := l.db.QueryRowContext(ctx, paceSQL, l.key, l.every.Seconds(), l.tolerance.Seconds()).Scan(&wait)
	if err != nil {
		return fmt.Errorf("outbox: pace %s: %w", l.key, err)
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(wait * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
