package outbox

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// Backoff is the delay between failed attempts: Initial after the first,
// doubling up to Max, each spread by ±Jitter (a fraction) so that jobs
// that failed together do not come back together.
type Backoff struct {
	Initial time.Duration // default 1 s
	Max     time.Duration // default 1 h
	Jitter  float64       // default 0.25
}

func (b Backoff) withDefaults() *Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max < b.Initial {
		b.Max = max(time.Hour, b.Initial)
	}
	if b.Jitter <= 0 || b.Jitter >= 1 {
		b.Jitter = 0.25
	}
	return &b
}

// Delay returns the wait after a job's attempt-th failed attempt.
func (b *Backoff) Delay(attempt int) time.Duration {
	d := b.Initial
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	f := 1 + b.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// NextRetry implements river.ClientRetryPolicy.
func (b *Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b.Delay(job.Attempt))
}
