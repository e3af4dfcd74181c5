package routing_test

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// replicas returns clients of n server replicas on the env's database: the
// env's own server and, on PostgreSQL, n-1 more.
func replicas(t *testing.T, env *Env, n int, key string) []*client.Clients {
	out := []*client.Clients{client.New(env.Server.URL, key, client.GRPC, nil)}
	for i := 1; i < n; i++ {
		out = append(out, client.New(env.Replica(Options{}).URL, key, client.GRPC, nil))
	}
	return out
}

// sequential is what n clients get when routed one after another: the pure
// distribution run over the same member list.
func sequential(co *Company, n int) map[string]int {
	var ms []distribution.Member
	for _, name := range []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Constantine"} {
		w := 1
		if name == "Tony Stark" {
			w = 2
		}
		ms = append(ms, distribution.Member{EmployeeID: ids.Value(co.Employees[name]), Weight: w, Eligible: true})
	}
	out := map[string]int{}
	var cur distribution.Cursor
	for i := 0; i < n; i++ {
		p, _ := distribution.Next(distribution.Weighted, ms, cur)
		cur = p.Cursor
		out[ids.Format(p.EmployeeID)]++
	}
	return out
}

func testConcurrentDistribution(t *testing.T, b Backend, nReplicas int) {
	testDistributionLoad(t, b, nReplicas, 200, 200)
}

// testDistributionLoad routes n new clients to one channel, inFlight at a
// time, through nReplicas servers, and checks the counts against a
// sequential run.
func testDistributionLoad(t *testing.T, b Backend, nReplicas, n, inFlight int) {
	env := New(t, b, Options{})
	co := env.Demo()
	cs := replicas(t, env, nReplicas, env.AdminKey)
	got := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, inFlight)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			res, err := cs[i%len(cs)].Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{
				ChannelId: co.Channels["WhatsApp Sales"], Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(10000 + i)},
				Content: &pb.MessageContent{Text: "at once"}, GatewayMessageId: fmt.Sprintf("burst-%d", i)})
			if err != nil {
				t.Errorf("route %d: %v", i, err)
				return
			}
			mu.Lock()
			got[res.Decision.Client.ResponsibleEmployeeId]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	want := sequential(co, n)
	if !maps.Equal(got, want) {
		t.Fatalf("%d concurrent new clients on %d replicas: %v; a sequential run gives %v", n, len(cs), got, want)
	}
	if n == 200 && (want[co.Employees["Tony Stark"]] != 80 || want[co.Employees["Bruce Wayne"]] != 40) {
		t.Fatalf("sequential counts %v", want)
	}
}

// TestConcurrentDistribution: 200 new clients at once on one channel get
// exactly the counts of a sequential run.
func TestConcurrentDistribution(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) { testConcurrentDistribution(t, b, 1) })
}

// TestConcurrentDistributionAcrossReplicas: the same with two server
// instances on one PostgreSQL.
func TestConcurrentDistributionAcrossReplicas(t *testing.T) {
	testConcurrentDistribution(t, Postgres(t), 2)
}

// TestSustainedLoadAcrossReplicas: two server instances on one PostgreSQL
// under longer load — 500 round-robin and weighted new clients 32 at a time
// get a sequential run's counts, and 200 races of 16 candidates each have
// exactly one winner.
func TestSustainedLoadAcrossReplicas(t *testing.T) {
	t.Run("distribution", func(t *testing.T) { testDistributionLoad(t, Postgres(t), 2, 500, 32) })
	t.Run("claims", func(t *testing.T) { testClaimRaces(t, Postgres(t), 2, 200) })
}

func testConcurrentClaims(t *testing.T, b Backend, nReplicas int) {
	testClaimRaces(t, b, nReplicas, 50)
}

// testClaimRaces runs rounds races of 16 first-responder candidates
// replying at once through nReplicas servers: one winner each.
func testClaimRaces(t *testing.T, b Backend, nReplicas, rounds int) {
	env := New(t, b, Options{})
	admin := env.Admin()
	const candidates = 16
	channel, emps := firstResponderChannel(t, admin, candidates)
	cs := replicas(t, env, nReplicas, env.AdminKey)
	for round := 0; round < rounds; round++ {
		d := Route(t, admin, channel, Phone(round), "first to answer wins")
		if len(d.Assignment.CandidateEmployeeIds) != candidates {
			t.Fatalf("round %d: %d candidates", round, len(d.Assignment.CandidateEmployeeIds))
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]error, candidates)
		winners := make([]*pb.RouteOutgoingMessageResponse, candidates)
		for i := 0; i < candidates; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				winners[i], results[i] = cs[i%len(cs)].Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{
					EmployeeId: emps[i], Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id},
					Content: &pb.MessageContent{Text: "mine!"}})
			}(i)
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range results {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: %s and %s both won", round, emps[winner], emps[i])
				}
				winner = i
				if !winners[i].Claimed {
					t.Fatalf("round %d: the winner did not claim", round)
				}
			case connect.CodeOf(err) == connect.CodeAborted:
				if ei := errorInfo(err); ei == nil || ei.Reason != "CLIENT_CLAIMED" {
					t.Fatalf("round %d: loser error %v", round, err)
				}
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody won", round)
		}
		// Every loser's error names the winner, and the client is the winner's.
		for i, err := range results {
			if err != nil && errorInfo(err).Metadata["responsible_employee_id"] != emps[winner] {
				t.Fatalf("round %d: loser %d told the winner is %v", round, i, errorInfo(err).Metadata)
			}
		}
		if got := winners[winner].Client.ResponsibleEmployeeId; got != emps[winner] {
			t.Fatalf("round %d: responsible %s", round, got)
		}
		revoked := 0
		for _, n := range winners[winner].Notifications {
			if n.Reason == pb.NotificationReason_NOTIFICATION_REASON_CHAT_REVOKED {
				revoked++
			}
		}
		if revoked != candidates-1 {
			t.Fatalf("round %d: %d losers told they lost the chat", round, revoked)
		}
	}
}

// TestConcurrentClaims: 50 rounds of 16 candidates replying at once, exactly
// one winner each round.
func TestConcurrentClaims(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) { testConcurrentClaims(t, b, 1) })
}

// TestConcurrentClaimsAcrossReplicas: the same over two server instances on
// one PostgreSQL.
func TestConcurrentClaimsAcrossReplicas(t *testing.T) {
	testConcurrentClaims(t, Postgres(t), 2)
}

// TestDirectoryChangesReachEveryReplica: a replica that cached the
// directory uses a change made through another one at once, for routing
// and for access checks.
func TestDirectoryChangesReachEveryReplica(t *testing.T) {
	env := New(t, Postgres(t), Options{})
	co := env.Demo()
	e := co.Employees
	wa := co.Channels["WhatsApp Sales"]
	onA := env.Admin()
	onB := client.New(env.Replica(Options{}).URL, env.AdminKey, client.GRPC, nil)
	d := Route(t, onA, wa, Phone(1), "hi") // A caches the directory; Bruce gets it
	if d.Client.ResponsibleEmployeeId != e["Bruce Wayne"] {
		t.Fatalf("first pick %s", d.Client.ResponsibleEmployeeId)
	}
	if chk := check(t, onA, e["Scrooge McDuck"], d.Chat.Id); chk.CanView {
		t.Fatal("Scrooge sees Bruce's chat under OWN")
	}
	// Through B: Scrooge leaves WhatsApp, visibility becomes ALL.
	_, err := onB.Directory.SetChannelAccess(ctx, &pb.SetChannelAccessRequest{EmployeeIds: []string{e["Scrooge McDuck"]},
		ChannelIds: []string{wa}, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS})
	NoErr(t, err)
	UpdateSettings(t, onB, func(s *pb.IntegrationSettings) {
		s.Account.GlobalChatVisibility = pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_ALL
	})
	// A routes the next client past Scrooge, straight to Tony.
	if d2 := Route(t, onA, wa, Phone(2), "hi"); d2.Client.ResponsibleEmployeeId != e["Tony Stark"] {
		t.Fatalf("A still routes with the old member list: %s", d2.Client.ResponsibleEmployeeId)
	}
	// CheckAccess answers from A's memory, told of B's changes on the bus
	// within milliseconds (at most AccessCacheTTL if a message is lost).
	eventually(t, "A checks access with the new settings", func() bool {
		chk := check(t, onA, e["Tony Stark"], d.Chat.Id)
		return chk.CanView && chk.Rule == pb.AccessRule_ACCESS_RULE_ALL_VISIBLE
	})
	eventually(t, "A sees Scrooge out of the channel", func() bool {
		chk := check(t, onA, e["Scrooge McDuck"], d.Chat.Id)
		return !chk.CanView && chk.Rule == pb.AccessRule_ACCESS_RULE_NOT_A_MEMBER
	})
	// A claim through B reaches A's access checks.
	UpdateSettings(t, onB, func(s *pb.IntegrationSettings) {
		s.Account.GlobalChatVisibility = pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_OWN_AND_UNASSIGNED
		ChannelSettings(s, wa).Distribution = pb.DistributionMode_DISTRIBUTION_MODE_FIRST_RESPONDER
	})
	pending := Route(t, onA, wa, Phone(3), "anyone?")
	if chk := check(t, onA, e["Tony Stark"], pending.Chat.Id); !chk.CanWrite || !chk.WriteClaims {
		t.Fatalf("Tony before the claim: %v", chk)
	}
	_, err = write(onB, e["Constantine"], pending.Chat.Id)
	NoErr(t, err)
	eventually(t, "A sees the claim made through B", func() bool {
		return !check(t, onA, e["Tony Stark"], pending.Chat.Id).CanView
	})
	// A deactivation through B stops writing through A.
	_, err = onB.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: e["Bruce Wayne"]})
	NoErr(t, err)
	_, err = write(onA, e["Bruce Wayne"], d.Chat.Id)
	WantCode(t, err, connect.CodePermissionDenied)
}

// eventually waits for cond, which another replica's bus message makes
// true: in half the access cache's bound, so expiry alone would not do.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := routing.AccessCacheTTL / 2
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClaimRacesIncomingMessage: a client waiting for a first responder
// writes on a round-robin channel while a candidate claims it. Whichever
// commits first, a claim that was answered as won stands: the message
// does not hand the client to someone else behind the winner's back.
func TestClaimRacesIncomingMessage(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		tony := co.Employees["Tony Stark"]
		tg, wa := co.Channels["Telegram Support"], co.Channels["WhatsApp Sales"]
		actx := tenant.NewContext(ctx, env.AccountID)
		won := 0
		for round := range 40 {
			phone := Phone(1000 + round)
			pending := Route(t, admin, tg, phone, "anyone?")
			if pending.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER {
				t.Fatalf("round %d: %v", round, pending.Assignment)
			}
			var claim *pb.RouteOutgoingMessageResponse
			var claimErr error
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				claim, claimErr = write(admin, tony, pending.Chat.Id)
			}()
			go func() {
				defer wg.Done()
				Route(t, admin, wa, phone, "and here too")
			}()
			wg.Wait()
			if claimErr != nil {
				if code := connect.CodeOf(claimErr); code != connect.CodeFailedPrecondition && code != connect.CodeAborted && code != connect.CodePermissionDenied {
					t.Fatalf("round %d: claim failed with %v", round, claimErr)
				}
				continue
			}
			if !claim.Claimed {
				continue
			}
			won++
			ct, err := env.Store.Ent.Contact.Get(actx, ids.Value(pending.Client.Id))
			NoErr(t, err)
			if ct.ResponsibleID == nil || *ct.ResponsibleID != ids.Value(tony) {
				t.Fatalf("round %d: Tony's claim was answered as won, but the client's responsible is %q", round, ids.FormatPtr(ct.ResponsibleID))
			}
		}
		t.Logf("%d of 40 claims won", won)
	})
}
