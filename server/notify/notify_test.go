package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/push"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

var ctx = context.Background()

func fast(hb time.Duration) Options {
	return Options{Configure: func(o *app.Options) {
		o.Notify.Heartbeat = hb
		o.Notify.Poll = 50 * time.Millisecond
	}}
}

// list returns every stored decision of an employee ("" for the general
// chat).
func list(t *testing.T, env *Env, c *client.Clients, employee string) []*pb.NotificationDecision {
	t.Helper()
	var out []*pb.NotificationDecision
	cursor := ""
	for {
		res, err := c.Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{EmployeeId: employee, GeneralChat: employee == "",
			AfterCursor: cursor, PageSize: 7})
		NoErr(t, err)
		out = append(out, res.Decisions...)
		if len(res.Decisions) == 0 {
			return out
		}
		cursor = res.NextCursor
	}
}

func reasons(ds []*pb.NotificationDecision) []pb.NotificationReason {
	var out []pb.NotificationReason
	for _, d := range ds {
		out = append(out, d.Reason)
	}
	return out
}

// TestPushTable walks SPEC §6 row by row and reads the pushes back from the
// log: who is pushed and who is not.
func TestPushTable(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		counts := func() map[string]int {
			out := map[string]int{}
			for name, id := range e {
				out[name] = len(list(t, env, admin, id))
			}
			out["general"] = len(list(t, env, admin, ""))
			return out
		}
		expect := func(before map[string]int, pushed ...string) {
			t.Helper()
			after := counts()
			for who := range after {
				want := before[who]
				if slices.Contains(pushed, who) {
					want++ // at most one push per employee per message
				}
				if after[who] != want {
					t.Fatalf("%s: %d pushes, want %d (pushed: %v)", who, after[who], want, pushed)
				}
			}
		}

		// R set (new client): the responsible only; managers and quality
		// control are not pushed; no general chat.
		c0 := counts()
		d := Route(t, admin, wa, Phone(1), "new")
		expect(c0, "Bruce Wayne")
		if r := list(t, env, admin, e["Bruce Wayne"]); r[len(r)-1].Reason != pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED ||
			r[len(r)-1].ClientName == "" || r[len(r)-1].ChannelName != "WhatsApp Sales" || r[len(r)-1].Preview != "new" || r[len(r)-1].MessageId != d.Message.Id {
			t.Fatalf("new client push: %v", r[len(r)-1])
		}
		// R set (known client): RESPONSIBLE.
		c0 = counts()
		Route(t, admin, wa, Phone(1), "again")
		expect(c0, "Bruce Wayne")
		if r := list(t, env, admin, e["Bruce Wayne"]); r[len(r)-1].Reason != pb.NotificationReason_NOTIFICATION_REASON_RESPONSIBLE {
			t.Fatalf("responsible push: %v", r[len(r)-1])
		}
		// First responder pending: every candidate, not the manager.
		c0 = counts()
		pending := Route(t, admin, tg, Phone(2), "anyone?")
		expect(c0, "Bruce Wayne", "Tony Stark")
		// A claim: CHAT_REVOKED to the losing candidate, NEW_CLIENT_ASSIGNED to the winner.
		c0 = counts()
		_, err := admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: e["Tony Stark"],
			Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: pending.Chat.Id}, Content: &pb.MessageContent{Text: "me"}})
		NoErr(t, err)
		expect(c0, "Bruce Wayne", "Tony Stark")
		if r := list(t, env, admin, e["Bruce Wayne"]); r[len(r)-1].Reason != pb.NotificationReason_NOTIFICATION_REASON_CHAT_REVOKED {
			t.Fatalf("loser push: %v", r[len(r)-1])
		}
		// notify_managers_all_messages: the responsible, every manager who
		// can view, and the general chat; quality control still never.
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) { s.Account.NotifyManagersAllMessages = true })
		c0 = counts()
		Route(t, admin, wa, Phone(1), "third")
		expect(c0, "Bruce Wayne", "Alfred Pennyworth", "general")
		// A manager who is the responsible gets one push, not two.
		_, err = admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Chat.Id, EmployeeId: e["Alfred Pennyworth"]})
		NoErr(t, err)
		c0 = counts()
		Route(t, admin, wa, Phone(1), "to the manager")
		expect(c0, "Alfred Pennyworth", "general")
		// Nobody eligible: the general chat (and, with the setting, managers).
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.NotifyManagersAllMessages = false
			for _, m := range ChannelSettings(s, wa).Members {
				m.ReceivesNewClients = false
			}
		})
		c0 = counts()
		Route(t, admin, wa, Phone(3), "nobody?")
		expect(c0, "general")
		// Nobody who cannot view is pushed: a responsible who left the
		// channel is not, and the message lands in the general chat.
		_, err = admin.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{EmployeeIds: []string{e["Alfred Pennyworth"]},
			ChannelIds: []string{wa}, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS})
		NoErr(t, err)
		c0 = counts()
		Route(t, admin, wa, Phone(1), "hello?")
		expect(c0, "general")
		if n := counts()["Diana Prince"]; n != 0 {
			t.Fatalf("quality control was pushed %d times", n)
		}
	})
}

// collect receives from a stream until want decisions arrived (or the
// stream ends) and returns them with the events seen.
func collect(t *testing.T, stream *connect.ServerStreamForClient[pb.SubscribeResponse], want int) (ds []*pb.NotificationDecision, caughtUp, heartbeats int) {
	t.Helper()
	return collectUntil(stream, func(n, _ int) bool { return n >= want })
}

// collectUntil receives until done(decisions, caughtUps) or the stream ends.
func collectUntil(stream *connect.ServerStreamForClient[pb.SubscribeResponse], done func(int, int) bool) (ds []*pb.NotificationDecision, caughtUp, heartbeats int) {
	for !done(len(ds), caughtUp) && stream.Receive() {
		switch ev := stream.Msg().Event.(type) {
		case *pb.SubscribeResponse_Decision:
			ds = append(ds, ev.Decision)
		case *pb.SubscribeResponse_CaughtUp:
			caughtUp++
		case *pb.SubscribeResponse_Heartbeat:
			heartbeats++
		}
	}
	return ds, caughtUp, heartbeats
}

// exactlyOnce fails unless got holds want's decisions, in order, once each.
func exactlyOnce(t *testing.T, got, want []*pb.NotificationDecision) {
	t.Helper()
	if len(got) != len(want) {
		var g, w []string
		for _, d := range got {
			g = append(g, d.Cursor)
		}
		for _, d := range want {
			w = append(w, d.Cursor)
		}
		t.Fatalf("got %d decisions, want %d\ngot  %v\nwant %v", len(got), len(want), g, w)
	}
	for i := range want {
		if got[i].Cursor != want[i].Cursor {
			t.Fatalf("decision %d: cursor %s, want %s", i, got[i].Cursor, want[i].Cursor)
		}
	}
}

func subscribe(t *testing.T, c *client.Clients, employee, cursor string) (*connect.ServerStreamForClient[pb.SubscribeResponse], context.CancelFunc) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	stream, err := c.Notification.Subscribe(sctx, &pb.SubscribeRequest{EmployeeId: employee, Cursor: cursor})
	if err != nil {
		cancel()
		t.Fatalf("subscribe: %v", err)
	}
	return stream, cancel
}

// TestSubscribeReplayAndLive: replay after the cursor, CaughtUp, then live
// decisions routed while the stream is open, with no gap and no duplicate
// at the seam, over both protocols.
func TestSubscribeReplayAndLive(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, fast(time.Hour))
		co := env.Demo()
		admin := env.Admin()
		bruce := co.Employees["Bruce Wayne"]
		wa := co.Channels["WhatsApp Sales"]
		Route(t, admin, wa, Phone(1), "before") // Bruce's client
		for i := 0; i < 5; i++ {
			Route(t, admin, wa, Phone(1), fmt.Sprintf("old %d", i))
		}
		for _, p := range Protocols {
			t.Run(p.String(), func(t *testing.T) {
				c := env.Clients(co.Token, p)
				stream, cancel := subscribe(t, c, "", "0")
				defer cancel()
				// Route while the replay is running and after it.
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 30; i++ {
						Route(t, admin, wa, Phone(1), fmt.Sprintf("live %d", i))
					}
				}()
				wg.Wait()
				want := list(t, env, admin, bruce)
				got, caughtUp, _ := collectUntil(stream, func(n, c int) bool { return n >= len(want) && c > 0 })
				exactlyOnce(t, got, want)
				if caughtUp != 1 {
					t.Fatalf("%d CaughtUp events", caughtUp)
				}
			})
		}
		// An empty cursor starts after the newest settled decision: no
		// replay, then what comes (decisions other transactions were still
		// settling may come first).
		stream, cancel := subscribe(t, env.Clients(co.Token, client.Connect), "", "")
		defer cancel()
		if !stream.Receive() || stream.Msg().GetCaughtUp() == nil {
			t.Fatalf("first event %v", stream.Msg())
		}
		start, _ := notify.ParseCursor(stream.Msg().GetCaughtUp().Cursor)
		d := Route(t, admin, wa, Phone(1), "after subscribing")
		var got []*pb.NotificationDecision
		for stream.Receive() {
			if n := stream.Msg().GetDecision(); n != nil {
				if c, _ := notify.ParseCursor(n.Cursor); !start.Less(c) {
					t.Fatalf("decision %s at or before the start %s", n.Cursor, start)
				}
				if got = append(got, n); n.MessageId == d.Message.Id {
					break
				}
			}
		}
		if len(got) == 0 || got[len(got)-1].MessageId != d.Message.Id {
			t.Fatalf("got %v", got)
		}
	})
}

// TestResumeAfterDisconnect: a client that drops mid-stream and comes back
// with its last cursor gets every later decision exactly once.
func TestResumeAfterDisconnect(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, fast(time.Hour))
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		c := env.Clients(co.Token, client.GRPC)
		for i := 0; i < 10; i++ {
			Route(t, admin, wa, Phone(1), fmt.Sprintf("m%d", i))
		}
		stream, cancel := subscribe(t, c, "", "0")
		first, _, _ := collect(t, stream, 4)
		cancel() // the phone loses its connection
		for i := 10; i < 20; i++ {
			Route(t, admin, wa, Phone(1), fmt.Sprintf("m%d", i))
		}
		stream, cancel = subscribe(t, c, "", first[len(first)-1].Cursor)
		defer cancel()
		rest, _, _ := collect(t, stream, 16)
		exactlyOnce(t, append(first, rest...), list(t, env, admin, co.Employees["Bruce Wayne"]))
	})
}

// TestHeartbeatsAndShutdown: an idle stream gets heartbeats carrying its
// cursor, and ends cleanly when the server stops.
func TestHeartbeatsAndShutdown(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, fast(30*time.Millisecond))
		co := env.Demo()
		d := Route(t, env.Admin(), co.Channels["WhatsApp Sales"], Phone(1), "hi")
		stream, cancel := subscribe(t, env.Clients(co.Token, client.GRPC), "", "0")
		defer cancel()
		_, _, beats := collect(t, stream, 1)
		for beats < 3 && stream.Receive() {
			if hb := stream.Msg().GetHeartbeat(); hb != nil {
				beats++
				if hb.Cursor != d.Notifications[0].Cursor || hb.Time == nil {
					t.Fatalf("heartbeat %v", hb)
				}
			}
		}
		env.Server.Stop()
		for stream.Receive() {
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("stream ended with %v, want a clean end", err)
		}
	})
}

// TestStalledSubscriber: a subscriber that stops reading does not slow
// routing; when it reads again it catches up from the store, in order,
// exactly once.
func TestStalledSubscriber(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{Configure: func(o *app.Options) {
			o.Notify.Buffer = 2
			o.Notify.Heartbeat = time.Hour
		}})
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		Route(t, admin, wa, Phone(1), "hi")
		// A client with a small HTTP/2 window stops reading at once.
		hc := client.HTTPClient(client.GRPC, true)
		hc.Transport.(*http.Transport).HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: 64 << 10, MaxReceiveBufferPerConnection: 64 << 10}
		stalled := client.New(env.Server.URL, co.Token, client.GRPC, hc)
		stream, cancel := subscribe(t, stalled, "", "0")
		defer cancel()
		// Routing goes on at full speed meanwhile (and would time out here
		// if the subscriber could hold it up).
		rctx, rcancel := context.WithTimeout(ctx, 90*time.Second)
		defer rcancel()
		const n = 400
		for i := 0; i < n; i++ {
			_, err := admin.Routing.RouteIncomingMessage(rctx, &pb.RouteIncomingMessageRequest{ChannelId: wa,
				Sender:  &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(1)},
				Content: &pb.MessageContent{Text: fmt.Sprintf("message %d with some padding to fill the window faster %0200d", i, i)}, GatewayMessageId: GatewayID()})
			if err != nil {
				t.Fatalf("routing %d while a subscriber stalls: %v", i, err)
			}
		}
		want := list(t, env, admin, co.Employees["Bruce Wayne"])
		got, _, _ := collect(t, stream, len(want))
		exactlyOnce(t, got, want)
	})
}

// TestSubscribeAudience: tokens read their own stream; account keys any
// employee's or the general chat.
func TestSubscribeAudience(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, fast(time.Hour))
		co := env.Demo()
		admin := env.Admin()
		tok := env.Clients(co.Token, client.Connect)
		recv := func(c *client.Clients, req *pb.SubscribeRequest) error {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			stream, err := c.Notification.Subscribe(sctx, req)
			if err != nil {
				return err
			}
			if stream.Receive() {
				return nil
			}
			return stream.Err()
		}
		WantCode(t, recv(tok, &pb.SubscribeRequest{EmployeeId: co.Employees["Tony Stark"]}), connect.CodePermissionDenied)
		WantCode(t, recv(tok, &pb.SubscribeRequest{GeneralChat: true}), connect.CodePermissionDenied)
		WantCode(t, recv(admin, &pb.SubscribeRequest{}), connect.CodeInvalidArgument)
		WantCode(t, recv(admin, &pb.SubscribeRequest{EmployeeId: "999999"}), connect.CodeNotFound)
		WantCode(t, recv(admin, &pb.SubscribeRequest{EmployeeId: co.Employees["Tony Stark"], Cursor: "yesterday"}), connect.CodeInvalidArgument)
		WantCode(t, recv(admin, &pb.SubscribeRequest{EmployeeId: co.Employees["Tony Stark"], GeneralChat: true}), connect.CodeInvalidArgument)
		NoErr(t, recv(admin, &pb.SubscribeRequest{GeneralChat: true}))
		NoErr(t, recv(admin, &pb.SubscribeRequest{EmployeeId: co.Employees["Tony Stark"]}))
		NoErr(t, recv(tok, &pb.SubscribeRequest{}))
		// Another account's employee is as unknown as a missing one.
		_, otherKey := env.NewAccount("Other")
		WantCode(t, recv(env.Clients(otherKey, client.Connect), &pb.SubscribeRequest{EmployeeId: co.Employees["Bruce Wayne"]}), connect.CodeNotFound)
		_, err := env.Clients(otherKey, client.Connect).Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{EmployeeId: co.Employees["Bruce Wayne"]})
		WantCode(t, err, connect.CodeNotFound)
	})
}

// TestPruning: decisions older than the retention go; a stream resuming
// from before them is told its history was truncated.
func TestPruning(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, fast(time.Hour))
		co := env.Demo()
		admin := env.Admin()
		for i := 0; i < 3; i++ {
			Route(t, admin, co.Channels["WhatsApp Sales"], Phone(1), "old")
		}
		version := func() int64 {
			as, err := env.Store.Ent.AccountSettings.Query().Only(tenant.NewContext(ctx, env.AccountID))
			NoErr(t, err)
			return as.DirectoryVersion
		}
		before := version()
		n, err := notify.Prune(tenant.System(ctx), env.Store.Ent, time.Now().Add(time.Second))
		NoErr(t, err)
		if n != 3 {
			t.Fatalf("pruned %d", n)
		}
		// Pruning is not a directory change: routing's caches stay valid.
		if v := version(); v != before {
			t.Fatalf("pruning moved the directory version from %d to %d", before, v)
		}
		d := Route(t, admin, co.Channels["WhatsApp Sales"], Phone(1), "new")
		stream, cancel := subscribe(t, env.Clients(co.Token, client.Connect), "", "0")
		defer cancel()
		got, _, _ := collectUntil(stream, func(n, c int) bool { return n >= 1 && c >= 1 })
		if len(got) != 1 || got[0].MessageId != d.Message.Id {
			t.Fatalf("after pruning: %v", got)
		}
		// The stream said its history was truncated.
		stream2, cancel2 := subscribe(t, env.Clients(co.Token, client.Connect), "", "0")
		defer cancel2()
		for stream2.Receive() {
			if cu := stream2.Msg().GetCaughtUp(); cu != nil {
				if !cu.HistoryTruncated {
					t.Fatal("history not marked truncated")
				}
				break
			}
		}
	})
}

// Decisions made on replica A reach a subscriber on replica B; a replica
// killed during a burst loses nothing for a subscriber that moves to the
// other with its cursor.
func TestAcrossReplicas(t *testing.T) {
	b := Postgres(t)
	env := New(t, b, fast(time.Hour))
	co := env.Demo()
	replicaB := env.Replica(fast(time.Hour))
	onA := env.Admin()
	onB := client.New(replicaB.URL, co.Token, client.GRPC, nil)
	wa := co.Channels["WhatsApp Sales"]
	Route(t, onA, wa, Phone(1), "hi")

	stream, cancel := subscribe(t, onB, "", "")
	defer cancel()
	if !stream.Receive() || stream.Msg().GetCaughtUp() == nil {
		t.Fatalf("first event %v", stream.Msg())
	}
	d := Route(t, onA, wa, Phone(1), "made on A")
	got, _, _ := collect(t, stream, 1)
	if len(got) != 1 || got[0].MessageId != d.Message.Id {
		t.Fatalf("B received %v", got)
	}

	// Replica C serves the stream; it is killed mid-burst while A keeps
	// routing; the subscriber moves to B with its last cursor.
	replicaC := env.Replica(fast(time.Hour))
	onC := client.New(replicaC.URL, co.Token, client.GRPC, nil)
	start := list(t, env, onA, co.Employees["Bruce Wayne"])
	stream, cancel2 := subscribe(t, onC, "", start[len(start)-1].Cursor)
	defer cancel2()
	var received []*pb.NotificationDecision
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			Route(t, onA, wa, Phone(1), fmt.Sprintf("burst %d", i))
		}
	}()
	for len(received) < 20 && stream.Receive() {
		if d := stream.Msg().GetDecision(); d != nil {
			received = append(received, d)
		}
	}
	replicaC.Kill() // during the burst
	for stream.Receive() {
		if d := stream.Msg().GetDecision(); d != nil {
			received = append(received, d)
		}
	}
	<-done
	last := start[len(start)-1].Cursor
	if len(received) > 0 {
		last = received[len(received)-1].Cursor
	}
	t.Logf("moved to B after %d decisions from C, at %s", len(received), last)
	stream, cancel3 := subscribe(t, onB, "", last)
	defer cancel3()
	want := list(t, env, onA, co.Employees["Bruce Wayne"])[len(start):]
	rest, _, _ := collect(t, stream, len(want)-len(received))
	exactlyOnce(t, append(received, rest...), want)
	if len(want) != 100 {
		t.Fatalf("%d decisions in the burst", len(want))
	}
}

// TestTailerStartsAtTheLogsEnd: when the first subscriber of a replica
// joins, the tailer starts after every account's newest decision, not only
// the subscriber's account's: nothing already in the log is read again.
func TestTailerStartsAtTheLogsEnd(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, fast(time.Hour))
		co := env.Demo()
		admin := env.Admin()
		for i := range 20 {
			Route(t, admin, co.Channels["WhatsApp Sales"], Phone(i), "hello")
		}
		hub := env.Server.App.Hub()
		before := hub.Tailed()
		// Another account, with no decisions, subscribes first.
		_, otherKey := env.NewAccount("Other")
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		stream, err := env.Clients(otherKey, client.Connect).Notification.Subscribe(sctx, &pb.SubscribeRequest{GeneralChat: true})
		NoErr(t, err)
		if !stream.Receive() || stream.Msg().GetCaughtUp() == nil {
			t.Fatalf("first event %v (%v)", stream.Msg(), stream.Err())
		}
		time.Sleep(200 * time.Millisecond) // several polls of the tailer
		if n := hub.Tailed() - before; n != 0 {
			t.Fatalf("the tailer read %d old decisions again", n)
		}
	})
}

// TestStreamEndsOnRevocation: SPEC §9 — a stream stops as soon as its
// credential is revoked or its employee deactivated, on whichever replica
// serves it (on PostgreSQL the streams are on a second replica); other
// streams go on.
func TestStreamEndsOnRevocation(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, fast(time.Hour))
		co := env.Demo()
		admin := env.Admin()
		url := env.Server.URL
		if b.Name == "postgres" {
			url = env.Replica(fast(time.Hour)).URL
		}
		open := func(secret string, req *pb.SubscribeRequest) (*connect.ServerStreamForClient[pb.SubscribeResponse], context.CancelFunc) {
			t.Helper()
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			stream, err := client.New(url, secret, client.Connect, nil).Notification.Subscribe(sctx, req)
			NoErr(t, err)
			if !stream.Receive() || stream.Msg().GetCaughtUp() == nil {
				t.Fatalf("first event %v (%v)", stream.Msg(), stream.Err())
			}
			return stream, cancel
		}
		ended := func(what string, stream *connect.ServerStreamForClient[pb.SubscribeResponse]) {
			t.Helper()
			for stream.Receive() {
			}
			if connect.CodeOf(stream.Err()) != connect.CodeUnauthenticated {
				t.Fatalf("%s: stream ended with %v, want unauthenticated", what, stream.Err())
			}
		}

		tony := co.Employees["Tony Stark"]
		tok, err := admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: tony, Name: "phone"})
		NoErr(t, err)
		key, err := admin.Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "crm"})
		NoErr(t, err)
		byToken, cancel1 := open(tok.Secret, &pb.SubscribeRequest{})
		defer cancel1()
		byKey, cancel2 := open(key.Secret, &pb.SubscribeRequest{GeneralChat: true})
		defer cancel2()
		byBruce, cancel3 := open(co.Token, &pb.SubscribeRequest{})
		defer cancel3()
		stays, cancel4 := open(env.AdminKey, &pb.SubscribeRequest{EmployeeId: co.Employees["Scrooge McDuck"]})
		defer cancel4()

		_, err = admin.Account.RevokeEmployeeToken(ctx, &pb.RevokeEmployeeTokenRequest{EmployeeTokenId: tok.EmployeeToken.Id})
		NoErr(t, err)
		ended("revoked employee token", byToken)
		_, err = admin.Account.RevokeApiKey(ctx, &pb.RevokeApiKeyRequest{ApiKeyId: key.ApiKey.Id})
		NoErr(t, err)
		ended("revoked API key", byKey)
		_, err = admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: co.Employees["Bruce Wayne"]})
		NoErr(t, err)
		ended("deactivated employee", byBruce)

		// The admin key's stream is still live.
		d := Route(t, admin, co.Channels["WhatsApp Sales"], Phone(7), "still here?")
		for stays.Receive() {
			if n := stays.Msg().GetDecision(); n != nil && n.MessageId == d.Message.Id {
				return
			}
		}
		t.Fatalf("the admin key's stream ended: %v", stays.Err())
	})
}

// TestOlderTransactionHoldsBackNewer: SPEC §6 (no gap) — on PostgreSQL a
// transaction that stored decisions holds the log's lock until it ends: a
// newer one's decisions come after it and are not handed out before it
// commits; then readers and streams get both, in log order, exactly once.
func TestOlderTransactionHoldsBackNewer(t *testing.T) {
	env := New(t, Postgres(t), fast(time.Hour))
	co := env.Demo()
	admin := env.Admin()
	bruce := co.Employees["Bruce Wayne"]
	wa := co.Channels["WhatsApp Sales"]
	first := Route(t, admin, wa, Phone(1), "first") // Bruce's client
	before := list(t, env, admin, bruce)
	from := before[len(before)-1].Cursor
	stream, cancel := subscribe(t, env.Clients(co.Token, client.Connect), "", from)
	defer cancel()
	if _, caughtUp, _ := collectUntil(stream, func(_, c int) bool { return c > 0 }); caughtUp != 1 {
		t.Fatal("no CaughtUp")
	}

	// An older transaction stores a decision and stays open.
	actx := tenant.NewContext(ctx, env.AccountID)
	tx, err := env.Store.Ent.Tx(actx)
	NoErr(t, err)
	defer tx.Rollback() //nolint:errcheck // committed below
	_, err = notify.Record(actx, env.Store, tx, []notify.Decision{{EmployeeID: ids.Value(bruce), Reason: push.Responsible,
		ChatID: ids.Value(first.Chat.Id), ContactID: ids.Value(first.Client.Id), ChannelID: ids.Value(wa), Preview: "older"}})
	NoErr(t, err)

	// A newer one waits for it, and nothing is handed out meanwhile.
	newer := make(chan *pb.RoutingDecision, 1)
	go func() { newer <- Route(t, admin, wa, Phone(1), "newer") }()
	select {
	case d := <-newer:
		t.Fatalf("a newer transaction stored decisions before an older one ended: %v", d.Notifications)
	case <-time.After(300 * time.Millisecond):
	}
	res, err := admin.Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{EmployeeId: bruce, AfterCursor: from})
	NoErr(t, err)
	if len(res.Decisions) != 0 {
		t.Fatalf("handed out %v while an older transaction could still write before it", res.Decisions)
	}

	NoErr(t, tx.Commit())
	<-newer
	want := list(t, env, admin, bruce)[len(before):]
	if len(want) != 2 || want[0].Preview != "older" || want[1].Preview != "newer" {
		t.Fatalf("after the commit: %v", want)
	}
	got, _, _ := collect(t, stream, len(want))
	exactlyOnce(t, got, want)
}

// TestStrangersDoNotHoldBackTheLog: a transaction that stores no decisions
// — in another database of the same server, or on another table of ours —
// delays nobody's pushes, however long it stays open.
func TestStrangersDoNotHoldBackTheLog(t *testing.T) {
	env := New(t, Postgres(t), fast(time.Hour))
	co := env.Demo()
	admin := env.Admin()
	bruce := co.Employees["Bruce Wayne"]
	wa := co.Channels["WhatsApp Sales"]
	stream, cancel := subscribe(t, env.Clients(co.Token, client.Connect), "", "")
	defer cancel()
	if _, caughtUp, _ := collectUntil(stream, func(_, c int) bool { return c > 0 }); caughtUp != 1 {
		t.Fatal("no CaughtUp")
	}

	// A write transaction in the server's "postgres" database, and one on
	// an unrelated table of ours, both left open.
	base, err := url.Parse(os.Getenv("TEST_DATABASE_URL"))
	NoErr(t, err)
	base.Path = "/postgres"
	other, err := pgx.Connect(ctx, base.String())
	NoErr(t, err)
	defer other.Close(ctx)
	otx, err := other.Begin(ctx)
	NoErr(t, err)
	defer otx.Rollback(ctx) //nolint:errcheck // never committed
	_, err = otx.Exec(ctx, "SELECT pg_current_xact_id()")
	NoErr(t, err)
	ours, err := pgx.Connect(ctx, env.URL)
	NoErr(t, err)
	defer ours.Close(ctx)
	utx, err := ours.Begin(ctx)
	NoErr(t, err)
	defer utx.Rollback(ctx) //nolint:errcheck // never committed
	_, err = utx.Exec(ctx, "UPDATE employees SET name = name WHERE id = $1", ids.Value(co.Employees["Diana Prince"]))
	NoErr(t, err)

	d := Route(t, admin, wa, Phone(1), "while strangers wait")
	res, err := admin.Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{EmployeeId: bruce})
	NoErr(t, err)
	if len(res.Decisions) != 1 || res.Decisions[0].MessageId != d.Message.Id {
		t.Fatalf("listed %v right after the commit; want the new decision", res.Decisions)
	}
	got, _, _ := collect(t, stream, 1)
	if len(got) != 1 || got[0].MessageId != d.Message.Id {
		t.Fatalf("streamed %v", got)
	}
}
