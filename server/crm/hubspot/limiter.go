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

type bucketKey struct {
	token [sha256.Size]byte
	n     int
	w     time.Duration
	s     float64
}

var (
	bucketsMu sync.Mutex
	buckets   = map[bucketKey][2]*rate.Limiter{}
)

// accountBuckets returns the process-wide burst and search limiters of a
// token (HubSpot counts per app and account: one private app token is
// one of those), so every connector opened with the same token in this
// process shares them. The token is kept only as its SHA-256.
func accountBuckets(token string, n int, w time.Duration, search float64) (burst, srch *rate.Limiter) {
	k := bucketKey{token: sha256.Sum256([]byte(token)), n: n, w: w, s: search}
	bucketsMu.Lock()
	defer bucketsMu.Unlock()
	if b, ok := buckets[k]; ok {
		return b[0], b[1]
	}
	var b [2]*rate.Limiter
	if n > 0 && w > 0 {
		b[0] = windowLimiter(n, w)
	}
	if search > 0 {
		b[1] = searchLimiter(search)
	}
	buckets[k] = b
	return b[0], b[1]
}
