package pipedrive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pipedrive counts requests per token in 2-second windows; how many a
// window holds depends on the plan (api_token: Essential 20, Advanced 40,
// Professional 80, Power 100, Enterprise 120; OAuth access tokens four
// times as many), and the search endpoints allow 10 per window on every
// plan. Past the limit it answers 429 with x-ratelimit-limit,
// x-ratelimit-remaining and x-ratelimit-reset (seconds to the window's
// end), which every answer carries. Source: pipedrive.readme.io
// docs/core-api-concepts-rate-limiting.
const (
	Window = 2 * time.Second
	// DefaultWindowLimit is the lowest plan's api_token limit: safe on
	// every plan.
	DefaultWindowLimit = 20
	// DefaultSearchLimit is the search endpoints' limit.
	DefaultSearchLimit = 10
)

// Limiter paces requests. Wait blocks until a request may be sent, or
// returns the context's error. *rate.Limiter satisfies it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// pacer is the process-wide pacing of one token on one host: requests
// spaced evenly so that no 2-second window holds more than the limit, the
// search endpoints' own spacing, and a gate that Pipedrive's own headers
// close (a window almost spent, or a 429) until the window resets.
type pacer struct {
	mu          sync.Mutex
	all, search *rate.Limiter // nil: off
	blocked     time.Time     // no request before this

	persons personMemo // see connector
}

var (
	pacersMu sync.Mutex
	pacers   = map[string]*pacer{}
)

// tokenPacer returns the pacer shared by every client of host and token in
// this process (the token is kept only as a hash). perWindow ≤ 0 turns
// the spacing off; the gate always works. The latest limits asked for
// apply.
func tokenPacer(host, token string, perWindow, searchPerWindow int) *pacer {
	sum := sha256.Sum256([]byte(token))
	key := strings.ToLower(host) + " " + hex.EncodeToString(sum[:8])
	pacersMu.Lock()
	defer pacersMu.Unlock()
	p := pacers[key]
	if p == nil {
		p = &pacer{}
		pacers[key] = p
	}
	p.mu.Lock()
	p.all = spacing(p.all, perWindow)
	p.search = spacing(p.search, searchPerWindow)
	p.mu.Unlock()
	return p
}

// spacing is a limiter that lets n requests through per Window, one every
// Window/n (a burst of 1): a token bucket with a larger burst would let a
// window hold more than n.
func spacing(l *rate.Limiter, n int) *rate.Limiter {
	if n <= 0 {
		return nil
	}
	every := rate.Every(Window / time.Duration(n))
	if l == nil {
		return rate.NewLimiter(every, 1)
	}
	if l.Limit() != every {
		l.SetLimit(every)
	}
	return l
}

// wait blocks until a request may go: past the gate, then the spacing.
func (p *pacer) wait(ctx context.Context, search bool) error {
	var all, srch *rate.Limiter
	for {
		p.mu.Lock()
		until := p.blocked
		all, srch = p.all, p.search
		p.mu.Unlock()
		d := time.Until(until)
		if d <= 0 {
			break
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if all != nil {
		if err := all.Wait(ctx); err != nil {
			return err
		}
	}
	if search && srch != nil {
		return srch.Wait(ctx)
	}
	return nil
}

// block closes the gate for d from now (never shortening it).
func (p *pacer) block(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d)
	p.mu.Lock()
	if until.After(p.blocked) {
		p.blocked = until
	}
	p.mu.Unlock()
}

// observe reads an answer's rate-limit headers: a window with at most a
// tenth of its limit left (at least 1) closes the gate until the window
// resets; a 429 of the window closes it for the wait asked. A 429 of the
// daily budget does not: it is the caller's to wait for (reads may still
// pass).
func (p *pacer) observe(status int, h http.Header, daily bool, wait time.Duration) {
	if status == http.StatusTooManyRequests {
		if !daily {
			p.block(wait)
		}
		return
	}
	rem, err := strconv.Atoi(strings.TrimSpace(h.Get("x-ratelimit-remaining")))
	if err != nil {
		return
	}
	low := 1
	if limit, err := strconv.Atoi(strings.TrimSpace(h.Get("x-ratelimit-limit"))); err == nil && limit/10 > low {
		low = limit / 10
	}
	if rem <= low {
		reset := parseSeconds(h.Get("x-ratelimit-reset"))
		if reset <= 0 {
			reset = Window
		}
		p.block(reset)
	}
}
