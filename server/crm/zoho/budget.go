package zoho

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultDailyCredits is the credit limit assumed when the stored
// credential gives none: the Free edition's 5,000 per 24 hours, the
// smallest there is, so an org that says nothing is never overspent.
// Paid editions have 50,000 plus 250 to 2,000 per user licence. Source:
// api/v7/api-limits.html.
const DefaultDailyCredits = 5000

// DefaultCreditReserve is the share of the daily credits the client
// leaves unspent (it stops at 90 %): the org's other integrations and its
// users' own tools draw on the same credits.
const DefaultCreditReserve = 0.10

// CreditWindow is the span over which Zoho counts credits: a rolling 24
// hours (api/v7/api-limits.html).
const CreditWindow = 24 * time.Hour

// creditBucket is the granularity of the client's own count.
const creditBucket = time.Minute

// Credit headers. Zoho's v7 reference documents none for credits; older
// API versions answered X-RATELIMIT-LIMIT, X-RATELIMIT-REMAINING and
// X-RATELIMIT-RESET, so they are read when present and otherwise the
// client counts on its own.
const (
	headerLimit     = "X-RATELIMIT-LIMIT"
	headerRemaining = "X-RATELIMIT-REMAINING"
	headerReset     = "X-RATELIMIT-RESET"
)

type spend struct {
	at time.Time // start of its minute
	n  int
}

// budget counts an org's credits over the rolling window.
type budget struct {
	mu      sync.Mutex
	limit   int
	reserve float64
	spent   []spend
	// remoteUsed/remoteReset/remoteAt: what the CRM's headers said last.
	remoteUsed  int
	remoteReset time.Time
	remoteAt    time.Time
	// blocked: the CRM said the credits are spent; no call before then.
	blocked time.Time
}

func newBudget(limit int, reserve float64) *budget {
	if limit <= 0 {
		limit = DefaultDailyCredits
	}
	if reserve < 0 || reserve >= 1 || math.IsNaN(reserve) {
		reserve = DefaultCreditReserve
	}
	return &budget{limit: limit, reserve: reserve}
}

// prune drops what left the window. Callers hold b.mu.
func (b *budget) prune(now time.Time) {
	i := 0
	for i < len(b.spent) && !b.spent[i].at.Add(CreditWindow).After(now) {
		i++
	}
	b.spent = b.spent[i:]
}

// used is the credits spent in the window: the larger of the client's own
// count and the CRM's last word (which includes other integrations).
// Callers hold b.mu.
func (b *budget) used(now time.Time) int {
	n := 0
	for _, s := range b.spent {
		n += s.n
	}
	if !b.remoteAt.IsZero() && now.Sub(b.remoteAt) < CreditWindow && (b.remoteReset.IsZero() || now.Before(b.remoteReset)) {
		n = max(n, b.remoteUsed)
	}
	return n
}

// resets is when spent credits start to come back. Callers hold b.mu.
func (b *budget) resets(now time.Time) time.Time {
	if b.blocked.After(now) {
		return b.blocked
	}
	if !b.remoteReset.IsZero() && b.remoteReset.After(now) && now.Sub(b.remoteAt) < CreditWindow {
		return b.remoteReset
	}
	if len(b.spent) > 0 {
		return b.spent[0].at.Add(CreditWindow + creditBucket)
	}
	return time.Time{}
}

// stopAt is the count at which calls stop: the limit less the reserve.
// Callers hold b.mu.
func (b *budget) stopAt() int {
	return b.limit - int(math.Ceil(float64(b.limit)*b.reserve))
}

// remoteState is what the CRM's headers said last, while it holds.
// Callers hold b.mu.
func (b *budget) remoteState(now time.Time) (used int, reset time.Time, ok bool) {
	if b.remoteAt.IsZero() || now.Sub(b.remoteAt) >= CreditWindow || !b.remoteReset.IsZero() && !now.Before(b.remoteReset) {
		return 0, time.Time{}, false
	}
	return b.remoteUsed, b.remoteReset, true
}

// precheck is take for a count kept elsewhere (a crm.Meter): it refuses a
// call while the CRM said the credits are spent, or its headers say the
// call would pass the stop; else it returns the stop for the shared
// count.
func (b *budget) precheck(now time.Time, cost int) (stop int, wait time.Duration, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.blocked.After(now) {
		return 0, b.blocked.Sub(now), false
	}
	stop = b.stopAt()
	if used, reset, ok := b.remoteState(now); ok && used+cost > stop {
		if !reset.After(now) {
			reset = now.Add(creditBucket)
		}
		return stop, reset.Sub(now), false
	}
	return stop, 0, true
}

// took counts a call spent through a shared count in the CRM's last word.
func (b *budget) took(cost int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.remoteAt.IsZero() {
		b.remoteUsed += cost
	}
}

// sharedState is state for a count kept elsewhere: used and frees are
// the shared count's.
func (b *budget) sharedState(now time.Time, used int, frees time.Time) (int, int, time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	resets := frees
	if ru, rr, ok := b.remoteState(now); ok {
		used = max(used, ru)
		if !rr.IsZero() {
			resets = rr
		}
	}
	if b.blocked.After(now) {
		resets = b.blocked
	}
	return used, b.limit, resets, b.blocked.After(now) || used+1 > b.stopAt()
}

// paused reports whether a call of one credit would be refused now.
func (b *budget) paused(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	stop := b.limit - int(math.Ceil(float64(b.limit)*b.reserve))
	return b.blocked.After(now) || b.used(now)+1 > stop
}

// take spends cost credits for a call about to be sent, or refuses it
// when the call would pass the limit less the reserve (or the CRM said
// the credits are spent), with the wait until credits come back.
func (b *budget) take(now time.Time, cost int) (wait time.Duration, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	if b.blocked.After(now) {
		return b.blocked.Sub(now), false
	}
	stop := b.limit - int(math.Ceil(float64(b.limit)*b.reserve))
	if b.used(now)+cost > stop {
		r := b.resets(now)
		if !r.After(now) {
			r = now.Add(creditBucket)
		}
		return r.Sub(now), false
	}
	at := now.Truncate(creditBucket)
	if n := len(b.spent); n > 0 && b.spent[n-1].at.Equal(at) {
		b.spent[n-1].n += cost
	} else {
		b.spent = append(b.spent, spend{at: at, n: cost})
	}
	if !b.remoteAt.IsZero() {
		b.remoteUsed += cost
	}
	return 0, true
}

// refund gives back credits taken for a call that was not sent.
func (b *budget) refund(now time.Time, cost int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	at := now.Truncate(creditBucket)
	for i := len(b.spent) - 1; i >= 0 && cost > 0; i-- {
		if b.spent[i].at.After(at) {
			continue
		}
		n := min(cost, b.spent[i].n)
		b.spent[i].n -= n
		cost -= n
	}
}

// observe reads the credit headers of an answer, when it has them.
func (b *budget) observe(h http.Header, now time.Time) {
	limit, err1 := strconv.Atoi(strings.TrimSpace(h.Get(headerLimit)))
	remaining, err2 := strconv.Atoi(strings.TrimSpace(h.Get(headerRemaining)))
	if err1 != nil || err2 != nil || limit <= 0 || remaining < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limit = limit
	b.remoteUsed, b.remoteAt = max(limit-remaining, 0), now
	b.remoteReset = parseReset(h.Get(headerReset), now)
}

// parseReset reads a reset time: Unix milliseconds, Unix seconds, or
// seconds from now, by magnitude.
func parseReset(v string, now time.Time) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	switch {
	case err != nil || n <= 0:
		return time.Time{}
	case n > 1e12:
		return time.UnixMilli(n)
	case n > 1e9:
		return time.Unix(n, 0)
	}
	return now.Add(time.Duration(n) * time.Second)
}

// exhausted records the CRM's own "credits spent" answer and returns the
// wait until credits come back.
func (b *budget) exhausted(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	r := b.resets(now)
	if !r.After(now) {
		r = now.Add(LimitReachedWait)
	}
	b.blocked = r
	return r.Sub(now)
}

// state is what Budget reports.
func (b *budget) state(now time.Time) (used, limit int, resets time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	return b.used(now), b.limit, b.resets(now)
}
