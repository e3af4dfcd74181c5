package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/store"
)

// Defaults: 500 requests per 5 s per credential, as messenger CRMs allow
// their integrations.
const (
	DefaultLimit  = 500
	DefaultWindow = 5 * time.Second
)

// Config tunes the limiter.
type Config struct {
	// Limit is the requests a credential may make per Window unless its
	// own limit says otherwise: a burst of Limit, refilled evenly over
	// Window. 0: DefaultLimit. Negative: no limit at all.
	Limit int
	// Window is the limit's period; 0: DefaultWindow.
	Window time.Duration
	// Now is the clock (nil: time.Now); tests move it by hand.
	Now func() time.Time
}

// Limiter takes each call from its caller's budget.
type Limiter struct {
	limits store.Limits
	limit  int
	window time.Duration
	now    func() time.Time
}

// New returns a limiter over the store's budgets.
func New(l store.Limits, cfg Config) *Limiter {
	if cfg.Limit == 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{limits: l, limit: cfg.Limit, window: cfg.Window, now: cfg.Now}
}

// Off reports whether the limiter limits nothing.
func (l *Limiter) Off() bool { return l.limit < 0 }

// Allow takes one request from p's budget, or fails with
// RESOURCE_EXHAUSTED and a RetryInfo saying how long until one is free.
func (l *Limiter) Allow(ctx context.Context, p auth.Principal) error {
	limit := l.limit
	if p.RateLimit > 0 {
		limit = p.RateLimit
	}
	if limit < 0 {
		return nil
	}
	every := l.window / time.Duration(limit)
	wait, err := l.limits.Take(ctx, key(p.CredentialID), l.now(), every, limit)
	if err != nil {
		return err
	}
	if wait <= 0 {
		return nil
	}
	return Exhausted(limit, l.window, wait)
}

// key names a credential's budget in the store.
func key(credentialID int64) string { return "credential:" + strconv.FormatInt(credentialID, 10) }

// Exhausted is the error of a call over its limit.
func Exhausted(limit int, window, wait time.Duration) error {
	err := connect.NewError(connect.CodeResourceExhausted,
		fmt.Errorf("rate limit exceeded: this credential may make %d requests per %v; retry in %v", limit, window, wait.Round(time.Millisecond)))
	if d, derr := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); derr == nil {
		err.AddDetail(d)
	}
	return err
}

// Interceptor takes every call, and every stream once when it opens, from
// its caller's budget. It runs after authentication (it needs the caller).
func (l *Limiter) Interceptor() connect.Interceptor { return interceptor{l} }

type interceptor struct{ l *Limiter }

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := i.allow(ctx); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := i.allow(ctx); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

func (i interceptor) allow(ctx context.Context) error {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil
	}
	return i.l.Allow(ctx, p)
}
