package ratelimit_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ratelimit"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// BenchmarkTake is one request taken from a key's budget: a row updated in
// one statement on PostgreSQL, x/time/rate in memory on SQLite. Keys are
// spread over 64, as callers of many credentials would be.
func BenchmarkTake(b *testing.B) {
	for _, be := range Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			st := OpenStore(b, be.NewURL(b))
			l := st.Limits()
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					key := fmt.Sprintf("credential:%d", n.Add(1)%64)
					if _, err := l.Take(context.Background(), key, time.Now(), time.Microsecond, 1_000_000); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkRouteIncoming routes new clients' messages through the API
// with the rate limit off and on (a key allowed 1,000,000 per 5 s, so
// nothing is refused and only the check's cost shows), in one run.
func BenchmarkRouteIncoming(b *testing.B) {
	for _, be := range Backends(b) {
		for _, on := range []bool{false, true} {
			name := be.Name + "/limits=off"
			if on {
				name = be.Name + "/limits=on"
			}
			b.Run(name, func(b *testing.B) {
				env := New(b, be, Options{AuthCacheTTL: 5 * time.Second, Configure: func(o *app.Options) {
					if on {
						o.RateLimit = ratelimit.Config{}
					}
				}})
				co := env.Demo()
				res, err := env.Admin().Account.CreateApiKey(context.Background(), &pb.CreateApiKeyRequest{Name: "gateway", RateLimit: 1_000_000})
				if err != nil {
					b.Fatal(err)
				}
				ch := co.Channels["WhatsApp Sales"]
				var n atomic.Int64
				b.SetParallelism(2) // 2 × GOMAXPROCS callers
				b.ResetTimer()
				b.RunParallel(func(p *testing.PB) {
					c := client.New(env.Server.URL, res.Secret, client.Connect, client.HTTPClient(client.Connect, true))
					for p.Next() {
						i := int(n.Add(1))
						_, err := c.Routing.RouteIncomingMessage(context.Background(), &pb.RouteIncomingMessageRequest{
							ChannelId: ch, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(1_000_000 + i)},
							Content: &pb.MessageContent{Text: "hello"}, GatewayMessageId: fmt.Sprintf("bench-%s-%d", name, i),
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
