package amocrm

import (
	"context"

	"golang.org/x/time/rate"
)

// DefaultRate is the CRM's documented ceiling: 7 requests per second per
// account (https://developers.kommo.com/docs/limitations). Above it the CRM
// answers 429 and, when it persists, blocks the caller's IP.
const DefaultRate = 7

// Limiter paces requests to one account. Wait blocks until a request may
// be sent, or returns the context's error. *rate.Limiter satisfies it; a
// limiter shared by every replica can replace it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// NewLimiter returns a process-local limiter of perSecond requests per
// second with a burst of one, so concurrent callers are spaced evenly and
// never exceed the rate in any one-second window.
func NewLimiter(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}
