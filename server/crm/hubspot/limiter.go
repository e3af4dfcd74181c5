package hubspot

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// HubSpot's limits for a private app on Free and Starter accounts:
// DefaultBurst requests per rolling DefaultWindow (190 on Professional and
// Enterprise; 250 with the capacity pack), and DefaultSearchPerSecond
// requests a second to the search endpoints, whichever object they
// search. Sources: developers.hubspot.com docs/api/usage-details and the
// changelog posts "Increasing our API limits" and "CRM Search API rate
// limit increase" (4 a second; some pages say 5: 4 is the safe side).
const (
	DefaultBurst           = 100
	DefaultWindow          = 10 * time.Second
	DefaultSearchPerSecond = 4
)

// Limiter paces requests. Wait blocks until a request may be sent, or
// returns the context's error. *rate.Limiter satisfies it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// windowLimiter returns a token bucket that never lets more than n
// requests into any window of w: a bucket of burst b refilled at r a
// second admits at most b + r·w in w, so b is a tenth of n and r fills the
// rest.
func windowLimiter(n int, w time.Duration) *rate.Limiter {
	b := max(n/10, 1)
	r := float64(n-b) / w.Seconds()
	if r <= 0 {
		r = 1 / w.Seconds()
	}
	return rate.NewLimiter(rate.Limit(r), b)
}

// searchLimiter admits perSecond requests a second, one at a time.
func searchLimiter(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// MaxHold bounds how long the requests of an account are held back after
// a 429 of a secondly limit: the window is full, and requests sent at once
// would be refused too (and may count against it). Longer waits are the
// caller's, through the error's RetryAfter.
const MaxHold = time.Second

// account is the pacing shared by every client of one token in this
// process.
type account struct {
	burst, search *rate.Limiter

	mu                  sync.Mutex
	holdAll, holdSearch time.Time
}

// hold makes the account's requests (only its searches, when search)
// wait until d from now, at most MaxHold.
func (a *account) hold(d time.Duration, search bool) {
	until := time.Now().Add(min(d, MaxHold))
	a.mu.Lock()
	defer a.mu.Unlock()
	if search {
		if until.After(a.holdSearch) {
			a.holdSearch = until
		}
		return
	}
	if until.After(a.holdAll) {
		a.holdAll = until
	}
}

// wait blocks while the account is held, or returns the context's error.
func (a *account) wait(ctx context.Context, search bool) error {
	a.mu.Lock()
	until := a.holdAll
	if search && a.holdSearch.After(until) {
		until = a.holdSearch
	}
	a.mu.Unlock()
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type accountKey struct {
	token [sha256.Size]byte
	n     int
	w     time.Duration
	s     float64
}

var (
	accountsMu sync.Mutex
	accounts   = map[accountKey]*account{}
)

// accountOf returns the process-wide pacing of a token (HubSpot counts
// per app and account: one private app token is one of those), so every
// connector opened with the same token and limits in this process shares
// it. The token is kept only as its SHA-256.
func accountOf(token string, n int, w time.Duration, search float64) *account {
	k := accountKey{token: sha256.Sum256([]byte(token)), n: n, w: w, s: search}
	accountsMu.Lock()
	defer accountsMu.Unlock()
	if a, ok := accounts[k]; ok {
		return a
	}
	a := &account{}
	if n > 0 && w > 0 {
		a.burst = windowLimiter(n, w)
	}
	if search > 0 {
		a.search = searchLimiter(search)
	}
	accounts[k] = a
	return a
}
