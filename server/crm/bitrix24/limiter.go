package bitrix24

import (
	"context"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// The portal's request budget on most plans: a counter that every request
// raises by one and that drains by DefaultDrain per second; above
// DefaultBurst the portal answers 503 QUERY_LIMIT_EXCEEDED. Enterprise
// plans drain 5 per second with a burst of 250. A batch counts as one
// request. Source: apidocs.bitrix24.com settings/performance/limits.html.
const (
	DefaultDrain = 2
	DefaultBurst = 50
)

// Limiter paces requests. Wait blocks until a request may be sent, or
// returns the context's error. *rate.Limiter satisfies it.
type Limiter interface {
	Wait(ctx context.Context) error
}

var (
	bucketsMu sync.Mutex
	buckets   = map[string]*rate.Limiter{}
)

// portalBucket returns the process-wide leaky bucket of a portal (its host
// and port, case-insensitive), so every client of one portal in this
// process shares it. A token bucket of burst b refilled at r per second
// admits exactly what a leaky bucket of capacity b drained at r does. The
// latest limits asked for a portal apply to it.
func portalBucket(host string, perSecond float64, burst int) *rate.Limiter {
	host = strings.ToLower(host)
	bucketsMu.Lock()
	defer bucketsMu.Unlock()
	l := buckets[host]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(perSecond), burst)
		buckets[host] = l
		return l
	}
	if l.Limit() != rate.Limit(perSecond) {
		l.SetLimit(rate.Limit(perSecond))
	}
	if l.Burst() != burst {
		l.SetBurst(burst)
	}
	return l
}
