package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ratelimit"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// clock is a clock the test moves by hand, shared by every replica.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// limited starts servers with the default limit (500 per 5 s) on clk.
func limited(clk *clock) Options {
	return Options{Configure: func(o *app.Options) { o.RateLimit = ratelimit.Config{Now: clk.Now} }}
}

// burst makes n calls from 32 goroutines, spread over the servers' clients
// in turn, and counts the calls answered and refused; every refusal must
// be RESOURCE_EXHAUSTED with a RetryInfo of a positive delay.
func burst(t *testing.T, n int, cs ...*client.Clients) (ok, refused int) {
	t.Helper()
	var okN, refusedN atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, n)
	next := atomic.Int64{}
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				_, err := cs[i%len(cs)].Account.GetAccount(context.Background(), &pb.GetAccountRequest{})
				switch {
				case err == nil:
					okN.Add(1)
				case connect.CodeOf(err) == connect.CodeResourceExhausted:
					refusedN.Add(1)
					if d := retryDelay(err); d <= 0 {
						errc <- errors.New("RESOURCE_EXHAUSTED without a positive RetryInfo delay: " + err.Error())
					}
				default:
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	return int(okN.Load()), int(refusedN.Load())
}

func retryDelay(err error) time.Duration {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return 0
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if ri, ok := v.(*errdetails.RetryInfo); ok {
				return ri.RetryDelay.AsDuration()
			}
		}
	}
	return 0
}

func newKey(t *testing.T, env *Env, limit uint32) string {
	t.Helper()
	res, err := env.Admin().Account.CreateApiKey(context.Background(), &pb.CreateApiKeyRequest{Name: "gateway", RateLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	if res.ApiKey.RateLimit != limit {
		t.Fatalf("created key's rate_limit = %d, want %d", res.ApiKey.RateLimit, limit)
	}
	return res.Secret
}

// Of 1,000 calls at once with one key, exactly 500 are answered; the
// rest are refused with RESOURCE_EXHAUSTED and RetryInfo. Other keys go on;
// 5 s later the key has its 500 again.
func TestDefaultLimit(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := newClock()
		env := New(t, b, limited(clk))
		key := newKey(t, env, 0)
		c := env.Clients(key, client.Connect)
		if ok, refused := burst(t, 1000, c); ok != 500 || refused != 500 {
			t.Fatalf("1000 calls at once: %d answered, %d refused; want 500 and 500", ok, refused)
		}
		// The 501st, alone: refused, told to come back in 10 ms (one
		// request's share of 5 s).
		_, err := c.Account.GetAccount(context.Background(), &pb.GetAccountRequest{})
		WantCode(t, err, connect.CodeResourceExhausted)
		if d := retryDelay(err); d != 10*time.Millisecond {
			t.Fatalf("retry delay %v, want 10ms", d)
		}
		// Another key of the account, and the admin key, are untouched.
		other := env.Clients(newKey(t, env, 0), client.Connect)
		if ok, _ := burst(t, 10, other); ok != 10 {
			t.Fatalf("another key: %d of 10 answered", ok)
		}
		clk.Add(10 * time.Millisecond)
		if _, err := c.Account.GetAccount(context.Background(), &pb.GetAccountRequest{}); err != nil {
			t.Fatalf("10 ms later: %v", err)
		}
		WantCode(t, second(c.Account.GetAccount(context.Background(), &pb.GetAccountRequest{})), connect.CodeResourceExhausted)
		clk.Add(5 * time.Second)
		if ok, refused := burst(t, 600, c); ok != 500 || refused != 100 {
			t.Fatalf("5 s later, 600 calls: %d answered, %d refused; want 500 and 100", ok, refused)
		}
	})
}

func second[T any](_ T, err error) error { return err }

// A key's own limit replaces the default, at creation and when updated.
func TestKeyOwnLimit(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := newClock()
		env := New(t, b, limited(clk))
		created, err := env.Admin().Account.CreateApiKey(context.Background(), &pb.CreateApiKeyRequest{Name: "slow", RateLimit: 20})
		if err != nil {
			t.Fatal(err)
		}
		c := env.Clients(created.Secret, client.Connect)
		if ok, refused := burst(t, 100, c); ok != 20 || refused != 80 {
			t.Fatalf("a key of 20 per 5 s: %d answered, %d refused of 100; want 20 and 80", ok, refused)
		}
		limit := uint32(1000)
		up, err := env.Admin().Account.UpdateApiKey(context.Background(), &pb.UpdateApiKeyRequest{ApiKeyId: created.ApiKey.Id, RateLimit: &limit})
		if err != nil {
			t.Fatal(err)
		}
		if up.ApiKey.RateLimit != 1000 || up.ApiKey.Name != "slow" {
			t.Fatalf("updated key: %v", up.ApiKey)
		}
		clk.Add(5 * time.Second)
		if ok, refused := burst(t, 1200, c); ok != 1000 || refused != 200 {
			t.Fatalf("raised to 1000 per 5 s: %d answered, %d refused of 1200; want 1000 and 200", ok, refused)
		}
		list, err := env.Admin().Account.ListApiKeys(context.Background(), &pb.ListApiKeysRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range list.ApiKeys {
			if want := map[bool]uint32{true: 1000, false: 0}[k.Id == created.ApiKey.Id]; k.RateLimit != want {
				t.Fatalf("listed key %s: rate_limit %d, want %d", k.Name, k.RateLimit, want)
			}
		}
	})
}

// A stream counts once, when it opens, however long it lasts.
func TestStreamCountsOnce(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := newClock()
		env := New(t, b, limited(clk))
		co := env.Demo()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Bruce Wayne's token, limited by the default: use 499 of it first.
		c := env.Clients(co.Token, client.Connect)
		if ok, _ := burst(t, 499, c); ok != 499 {
			t.Fatalf("%d of 499 answered", ok)
		}
		stream, err := c.Notification.Subscribe(ctx, &pb.SubscribeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if !stream.Receive() {
			t.Fatalf("the 500th call, a stream, ended: %v", stream.Err())
		}
		WantCode(t, second(c.Account.GetAccount(ctx, &pb.GetAccountRequest{})), connect.CodeResourceExhausted)
		stream2, err := c.Notification.Subscribe(ctx, &pb.SubscribeRequest{})
		if err == nil && stream2.Receive() {
			t.Fatal("a second stream over the limit opened")
		}
		if err == nil {
			err = stream2.Err()
		}
		WantCode(t, err, connect.CodeResourceExhausted)
	})
}

// Two replicas on one PostgreSQL share each key's budget: of 1,000 calls
// spread over both, exactly 500 are answered.
func TestLimitAcrossReplicas(t *testing.T) {
	b := Postgres(t)
	clk := newClock()
	env := New(t, b, limited(clk))
	key := newKey(t, env, 0)
	other := env.Replica(limited(clk))
	cs := []*client.Clients{env.Clients(key, client.Connect), client.New(other.URL, key, client.Connect, nil)}
	if ok, refused := burst(t, 1000, cs...); ok != 500 || refused != 500 {
		t.Fatalf("1000 calls over 2 replicas: %d answered, %d refused; want 500 and 500", ok, refused)
	}
}
