package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"golang.org/x/time/rate"

	"github.com/switchboardhq/switchboard/ent"
)

// sqlite is the backend of an SQLite store. One process owns the file and
// runs one write transaction at a time (group.go), which gives most of
// what PostgreSQL needs locks for.
type sqlite struct {
	description string

	mu   sync.Mutex
	pace map[string]time.Time // key → its next free slot (tat)
	// meter: key → hour → units spent (Meter).
	meter map[string]map[time.Time]int
	// limits are the request budgets, by key.
	limits map[string]*bucket
}

// bucket is one key's request budget in memory.
type bucket struct {
	every time.Duration
	burst int
	lim   *rate.Limiter
}

func (s *sqlite) describe() string { return s.description }

func (s *sqlite) river(db *sql.DB) riverdriver.Driver[*sql.Tx] { return riversqlite.New(db) }

// readOptions: an SQLite transaction always reads one snapshot.
func (s *sqlite) readOptions() *sql.TxOptions { return &sql.TxOptions{ReadOnly: true} }

// migrate: one process owns the file, so nobody migrates alongside.
func (s *sqlite) migrate(_ context.Context, schema func() error) error { return schema() }

// lockTx: write transactions run one at a time, so tx excludes every
// other already.
func (s *sqlite) lockTx(context.Context, *ent.Tx, int64) error { return nil }

// Shared implements Notifier: no other replica shares the file.
func (s *sqlite) Shared() bool { return false }

// Listen implements Notifier.
func (s *sqlite) Listen(context.Context) (Listener, error) { return nil, ErrNoListener }

// Notify implements Notifier.
func (s *sqlite) Notify(context.Context, string) error { return ErrNoListener }

// MaxPayload implements Notifier.
func (s *sqlite) MaxPayload() int { return 0 }

// Append implements Log with ent's builders. Writers are serialized, so
// ids are in commit order and every position is 0.
func (s *sqlite) Append(ctx context.Context, tx *ent.Tx, rows []*ent.Notification) ([]*ent.Notification, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	builders := make([]*ent.NotificationCreate, len(rows))
	for i, r := range rows {
		builders[i] = tx.Notification.Create().
			SetTxid(0).
			SetReason(r.Reason).
			SetChatID(r.ChatID).
			SetContactID(r.ContactID).
			SetContactName(r.ContactName).
			SetChannelID(r.ChannelID).
			SetChannelName(r.ChannelName).
			SetChannelKind(r.ChannelKind).
			SetPreview(r.Preview).
			SetExplanation(r.Explanation).
			SetNillableEmployeeID(nonZero(orZero(r.EmployeeID))).
			SetNillableMessageID(nonZero(orZero(r.MessageID)))
	}
	return tx.Notification.CreateBulk(builders...).Save(ctx)
}

// Reserve implements Pace in memory: the process is the only replica.
func (s *sqlite) Reserve(_ context.Context, key string, every, tolerance time.Duration) (time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	tat, ok := s.pace[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	s.pace[key] = tat.Add(every)
	return max(tat.Sub(now)-tolerance, 0), nil
}

// Spend implements Meter in memory: the process is the only replica.
func (s *sqlite) Spend(_ context.Context, key string, at time.Time, n, limit int) (int, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	used, _ := s.spentLocked(key, at)
	if n > 0 && used+n > limit {
		return used, false, nil
	}
	if s.meter == nil {
		s.meter = map[string]map[time.Time]int{}
	}
	hours := s.meter[key]
	if hours == nil {
		hours = map[time.Time]int{}
		s.meter[key] = hours
	}
	h := at.Truncate(MeterBucket).UTC()
	hours[h] = max(hours[h]+n, 0)
	return max(used+n, 0), true, nil
}

// Spent implements Meter.
func (s *sqlite) Spent(_ context.Context, key string, at time.Time) (int, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	used, frees := s.spentLocked(key, at)
	return used, frees, nil
}

// spentLocked sums key's hours in the window at at, dropping older ones.
// Callers hold s.mu.
func (s *sqlite) spentLocked(key string, at time.Time) (int, time.Time) {
	from := meterFrom(at)
	used, oldest := 0, time.Time{}
	for h, v := range s.meter[key] {
		if !h.After(from) {
			delete(s.meter[key], h)
			continue
		}
		used += v
		if v > 0 && (oldest.IsZero() || h.Before(oldest)) {
			oldest = h
		}
	}
	if oldest.IsZero() {
		return used, time.Time{}
	}
	return used, meterFrees(oldest)
}

// Take implements Limits in memory (the process is the only replica), with
// x/time/rate's token bucket.
func (s *sqlite) Take(_ context.Context, key string, now time.Time, every time.Duration, burst int) (time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limits == nil {
		s.limits = map[string]*bucket{}
	}
	b := s.limits[key]
	if b == nil || b.every != every || b.burst != burst {
		b = &bucket{every: every, burst: burst, lim: rate.NewLimiter(rate.Every(every), burst)}
		// A new bucket is full: as at PostgreSQL, for a key seen first.
		s.limits[key] = b
	}
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return every, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, nil
	}
	return 0, nil
}
