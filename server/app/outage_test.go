package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

var ctx = context.Background()

// health asks a server's gRPC health check (Connect protocol, JSON).
func health(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Post(base+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	defer res.Body.Close()
	var out struct{ Status string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("health: %v", err)
	}
	return strings.TrimPrefix(out.Status, "SERVING_STATUS_")
}

func within(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDatabaseOutage: while the database cannot be reached every call
// answers UNAVAILABLE (never INTERNAL) and health says NOT_SERVING; once it
// is back the server recovers by itself.
func TestDatabaseOutage(t *testing.T) {
	env := New(t, Postgres(t), Options{})
	co := env.Demo()
	proxy, viaProxy := NewProxy(t, env.URL)
	srv := StartServer(t, OpenStore(t, viaProxy), Options{})
	c := client.New(srv.URL, env.AdminKey, client.Connect, nil)
	wa := co.Channels["WhatsApp Sales"]
	d := Route(t, c, wa, Phone(1), "before")
	if s := health(t, srv.URL); s != "SERVING" {
		t.Fatalf("health before the outage: %s", s)
	}

	proxy.Down()
	calls := map[string]func() error{
		"RouteIncomingMessage": func() error {
			_, err := c.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: wa,
				Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(2)}, Content: &pb.MessageContent{Text: "during"},
				GatewayMessageId: GatewayID()})
			return err
		},
		"RouteOutgoingMessage": func() error {
			_, err := c.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: co.Employees["Bruce Wayne"],
				Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id}, Content: &pb.MessageContent{Text: "during"}})
			return err
		},
		"ListChannels": func() error {
			_, err := c.Directory.ListChannels(ctx, &pb.ListChannelsRequest{})
			return err
		},
		"GetIntegrationSettings": func() error {
			_, err := c.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
			return err
		},
		"ListNotifications": func() error {
			_, err := c.Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{EmployeeId: co.Employees["Bruce Wayne"]})
			return err
		},
	}
	for round := 0; round < 3; round++ {
		for name, call := range calls {
			if code := connect.CodeOf(call()); code != connect.CodeUnavailable {
				t.Fatalf("%s while the database is down: %v, want unavailable", name, code)
			}
		}
	}
	within(t, "health reports the outage", 3*time.Second, func() bool { return health(t, srv.URL) == "NOT_SERVING" })

	proxy.Up()
	within(t, "routing works again", 10*time.Second, func() bool { return calls["RouteIncomingMessage"]() == nil })
	within(t, "health reports the recovery", 3*time.Second, func() bool { return health(t, srv.URL) == "SERVING" })
	for name, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("%s after the outage: %v", name, err)
		}
	}
}

// TestConnectionsTerminatedUnderLoad: PostgreSQL terminates every
// connection of two replicas in the middle of a burst of new clients while
// a stream is open. No call is answered INTERNAL; a gateway that retries
// what answered UNAVAILABLE loses nothing; the weighted counts are exact;
// the stream, resumed from its cursor, gets every decision exactly once.
func TestConnectionsTerminatedUnderLoad(t *testing.T) {
	env := New(t, Postgres(t), Options{})
	co := env.Demo()
	replicaB := env.Replica(Options{})
	cs := []*client.Clients{env.Admin(), client.New(replicaB.URL, env.AdminKey, client.GRPC, nil)}
	wa := co.Channels["WhatsApp Sales"]
	bruce := co.Employees["Bruce Wayne"]
	u, err := url.Parse(env.URL)
	NoErr(t, err)
	app := u.Query().Get("application_name")

	// Bruce's phone follows his stream on the second replica, resuming
	// from its last cursor whenever the stream ends.
	phone := client.New(replicaB.URL, co.Token, client.Connect, nil)
	var (
		streamMu sync.Mutex
		streamed []*pb.NotificationDecision
	)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var follower sync.WaitGroup
	follower.Add(1)
	go func() {
		defer follower.Done()
		cursor := "0"
		for sctx.Err() == nil {
			stream, err := phone.Notification.Subscribe(sctx, &pb.SubscribeRequest{Cursor: cursor})
			if err == nil {
				for stream.Receive() {
					if d := stream.Msg().GetDecision(); d != nil {
						streamMu.Lock()
						streamed = append(streamed, d)
						streamMu.Unlock()
						cursor = d.Cursor
					}
				}
				stream.Close()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	const n = 300
	var acked, unavailable atomic.Int64
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				req := &pb.RouteIncomingMessageRequest{ChannelId: wa, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(30000 + i)},
					Content: &pb.MessageContent{Text: "burst"}, GatewayMessageId: fmt.Sprintf("load-%d", i)}
				for attempt := 0; ; attempt++ {
					_, err := cs[(i+attempt)%len(cs)].Routing.RouteIncomingMessage(ctx, req)
					if err == nil {
						acked.Add(1)
						break
					}
					if code := connect.CodeOf(err); code != connect.CodeUnavailable || attempt > 200 {
						t.Errorf("client %d: %v", i, err)
						break
					}
					unavailable.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	killer, err := pgx.Connect(ctx, env.URL)
	NoErr(t, err)
	defer killer.Close(ctx)
	killed := 0
	for i := 0; i < n; i++ {
		work <- i
		if i == n/3 || i == n/2 || i == 2*n/3 {
			var k int
			NoErr(t, killer.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&k))
			killed += k
		}
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d connections terminated; %d calls answered UNAVAILABLE and were retried", killed, unavailable.Load())
	if killed == 0 {
		t.Fatal("no connection was terminated")
	}

	// Every client was routed once: the weighted cycle's exact counts
	// (Bruce 1, Scrooge 1, Tony 2, Constantine 1) and n stored messages.
	actx := tenant.NewContext(ctx, env.AccountID)
	msgs, err := env.Store.Ent.Message.Query().Count(actx)
	NoErr(t, err)
	if acked.Load() != n || msgs != n {
		t.Fatalf("%d acknowledged, %d messages stored; want %d", acked.Load(), msgs, n)
	}
	counts := map[string]int{}
	cts, err := env.Store.Ent.Contact.Query().All(actx)
	NoErr(t, err)
	for _, ct := range cts {
		if ct.ResponsibleID != nil {
			counts[fmt.Sprint(*ct.ResponsibleID)]++
		}
	}
	want := map[string]int{co.Employees["Bruce Wayne"]: 60, co.Employees["Scrooge McDuck"]: 60, co.Employees["Tony Stark"]: 120, co.Employees["Constantine"]: 60}
	for e, w := range want {
		if counts[e] != w {
			t.Fatalf("responsibles %v; want %v", counts, want)
		}
	}

	// The stream caught up with everything Bruce's log holds, once each.
	var log []*pb.NotificationDecision
	cursor := ""
	for {
		res, err := cs[0].Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{EmployeeId: bruce, AfterCursor: cursor, PageSize: 500})
		NoErr(t, err)
		log = append(log, res.Decisions...)
		if len(res.Decisions) == 0 {
			break
		}
		cursor = res.NextCursor
	}
	within(t, "the stream catches up", 20*time.Second, func() bool {
		streamMu.Lock()
		defer streamMu.Unlock()
		return len(streamed) >= len(log)
	})
	stop()
	follower.Wait()
	if len(streamed) != len(log) {
		t.Fatalf("streamed %d decisions, the log holds %d", len(streamed), len(log))
	}
	for i := range log {
		if streamed[i].Cursor != log[i].Cursor {
			t.Fatalf("decision %d: streamed %s, logged %s", i, streamed[i].Cursor, log[i].Cursor)
		}
	}
}
