package crmsync_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// quickOutbox works the outbox often, retrying soon.
func quickOutbox(o *app.Options) {
	o.SecretKey, o.CRMAllowAnyHost = key, true
	o.Outbox.PollInterval = 50 * time.Millisecond
	o.Outbox.Retry = outbox.Backoff{Initial: 50 * time.Millisecond, Max: 400 * time.Millisecond}
	o.CRMSettle = 500 * time.Millisecond
}

// takenOverSoon is quickOutbox where a dead replica's jobs are taken over
// within seconds.
func takenOverSoon(o *app.Options) {
	quickOutbox(o)
	o.Outbox.JobTimeout, o.Outbox.RescueAfter = 3*time.Second, 4*time.Second
}

// throughOutbox starts a server whose outbox works quickly, connected to a
// fake amoCRM without a rate limit of its own.
func throughOutbox(t *testing.T, b Backend) (*Env, *client.Clients, *amofake.Server) {
	t.Helper()
	f := amofake.Start(amofake.WithToken(token), amofake.WithRateLimit(0))
	t.Cleanup(f.Close)
	env := New(t, b, Options{Configure: quickOutbox})
	admin := env.Admin()
	_, err := admin.Integration.ConnectCrm(context.Background(), &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_AMOCRM, BaseUrl: f.URL, Token: token})
	NoErr(t, err)
	return env, admin, f
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRoutingWritesTheCRM: new clients routed at once, while the CRM
// answers 503, rate-limits and loses answers, each get exactly one contact
// and lead in the CRM through the outbox, with the responsible chosen
// here; a transfer here reaches the CRM too.
func TestRoutingWritesTheCRM(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		env, admin, f := throughOutbox(t, b)
		var err error
		emps := map[string]string{}  // CRM user → employee
		crmOf := map[string]string{} // employee → CRM user
		res, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{})
		NoErr(t, err)
		for _, e := range res.Employees {
			emps[e.CrmUserId], crmOf[e.Id] = e.Id, e.CrmUserId
		}
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
		NoErr(t, err)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, ch.Channel.Id).Members = []*pb.ChannelMember{
				Member(emps["5003"], Rep, true, true, 1), Member(emps["5002"], Rep, true, true, 1), Member(emps["5005"], Rep, true, true, 1),
			}
		})
		complex := "/api/v4/leads/complex"
		f.Inject(amofake.Fault{Method: "POST", PathPrefix: complex, Status: 503, Times: 5})
		f.Inject(amofake.Fault{Method: "POST", PathPrefix: complex, Status: 429, RetryAfter: "1", Times: 2})
		f.Inject(amofake.Fault{Method: "POST", PathPrefix: complex, DropAfterCommit: true, Times: 3})

		const n = 40
		decisions := make([]*pb.RoutingDecision, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r, err := admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: ch.Channel.Id,
					Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(500 + i)}, Content: &pb.MessageContent{Text: "hi"},
					GatewayMessageId: fmt.Sprintf("crm-%d", i)})
				if err != nil {
					t.Errorf("route %d: %v", i, err)
					return
				}
				decisions[i] = r.Decision
			}(i)
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		waitFor(t, "every deal is in the CRM", 60*time.Second, func() bool {
			linked, err := env.Store.Ent.Deal.Query().Where(deal.CrmIDNotNil()).Count(actx)
			return err == nil && linked == n
		})
		fx := &fixture{fake: f}
		for _, d := range decisions {
			leads := fx.leadsWith(crmsync.Marker(ids.Value(d.Deal.Id)))
			if len(leads) != 1 {
				t.Fatalf("deal %s: %d leads", d.Deal.Id, len(leads))
			}
			if want := crmOf[d.Client.ResponsibleEmployeeId]; strconv.FormatInt(leads[0].ResponsibleUserID, 10) != want {
				t.Fatalf("deal %s: lead responsible %d, here %s", d.Deal.Id, leads[0].ResponsibleUserID, want)
			}
		}
		if got := len(f.Leads()); got != n+1 { // and the seed's lead
			t.Fatalf("%d leads in the CRM for %d new clients", got, n)
		}

		// A transfer here reaches the CRM's lead and contact.
		d := decisions[0]
		to := emps["5005"]
		if d.Client.ResponsibleEmployeeId == to {
			to = emps["5002"]
		}
		_, err = admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d.Chat.Id, EmployeeId: to})
		NoErr(t, err)
		dl, err := env.Store.Ent.Deal.Get(actx, ids.Value(d.Deal.Id))
		NoErr(t, err)
		leadID, _ := strconv.ParseInt(*dl.CrmID, 10, 64)
		waitFor(t, "the CRM hears of the transfer", 20*time.Second, func() bool {
			l, ok := f.Lead(leadID)
			return ok && strconv.FormatInt(l.ResponsibleUserID, 10) == crmOf[to]
		})
	})
}

// TestSyncStateAndRetry: a write the CRM refuses is parked with the CRM's
// message and shown; another account cannot retry it; retried once the
// cause is gone, it goes through.
func TestSyncStateAndRetry(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		env, admin, f := throughOutbox(t, b)
		var err error
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
		NoErr(t, err)
		f.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/complex", Status: 400,
			Validation: []amofake.ValidationError{{RequestID: "0", Code: "NotSupportedChoice", Path: "status_id", Detail: "The status is archived."}}})
		d := Route(t, admin, ch.Channel.Id, Phone(3), "hello")

		var failed *pb.CrmSyncItem
		waitFor(t, "the refused write is parked", 20*time.Second, func() bool {
			st, err := admin.Integration.GetCrmSyncState(ctx, &pb.GetCrmSyncStateRequest{})
			if err != nil || len(st.Failed) == 0 {
				return false
			}
			failed = st.Failed[0]
			return true
		})
		if failed.Kind != "new client" || !strings.Contains(failed.Error, "archived") || strings.Contains(failed.Error, "JobCancel") {
			t.Fatalf("failed item %v", failed)
		}

		_, otherKey := env.NewAccount("Other")
		_, err = env.Clients(otherKey, client.Connect).Integration.RetryCrmSync(ctx, &pb.RetryCrmSyncRequest{ItemId: failed.Id})
		WantCode(t, err, connect.CodeNotFound)

		_, err = admin.Integration.RetryCrmSync(ctx, &pb.RetryCrmSyncRequest{ItemId: failed.Id})
		NoErr(t, err)
		actx := tenant.NewContext(ctx, env.AccountID)
		waitFor(t, "the retried write goes through", 20*time.Second, func() bool {
			dl, err := env.Store.Ent.Deal.Get(actx, ids.Value(d.Deal.Id))
			return err == nil && dl.CrmID != nil
		})
		waitFor(t, "the sync state shows it", 10*time.Second, func() bool {
			st, err := admin.Integration.GetCrmSyncState(ctx, &pb.GetCrmSyncStateRequest{})
			return err == nil && len(st.Failed) == 0 && st.LastSuccessTime != nil
		})
		_, err = admin.Integration.RetryCrmSync(ctx, &pb.RetryCrmSyncRequest{ItemId: failed.Id})
		WantCode(t, err, connect.CodeFailedPrecondition)
	})
}

// TestReplicaKilledMidOutbox: two replicas work one PostgreSQL's outbox;
// one is killed while the CRM is slow to answer. Every new client still
// gets exactly one lead.
func TestReplicaKilledMidOutbox(t *testing.T) {
	b := Postgres(t)
	ctx := context.Background()
	f := amofake.Start(amofake.WithToken(token), amofake.WithRateLimit(0))
	defer f.Close()
	env := New(t, b, Options{Configure: takenOverSoon})
	doomed := env.Replica(Options{Configure: takenOverSoon})
	admin := env.Admin()
	_, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_AMOCRM, BaseUrl: f.URL, Token: token})
	NoErr(t, err)
	ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
	NoErr(t, err)
	// Answers come late, so the replica dies with requests in flight.
	f.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/complex", Delay: 400 * time.Millisecond, Times: 20})
	onDoomed := client.New(doomed.URL, env.AdminKey, client.Connect, nil)
	const n = 30
	var deals []int64
	for i := 0; i < n; i++ {
		c := admin
		if i%2 == 1 {
			c = onDoomed
		}
		deals = append(deals, ids.Value(Route(t, c, ch.Channel.Id, Phone(900+i), "hi").Deal.Id))
	}
	time.Sleep(300 * time.Millisecond)
	// The replica dies: its running jobs are cancelled mid-request and
	// left running, as a crash leaves them, until another takes them over.
	NoErr(t, doomed.App.Outbox().Kill(ctx))
	doomed.Kill()
	actx := tenant.NewContext(ctx, env.AccountID)
	waitFor(t, "every deal is in the CRM", 90*time.Second, func() bool {
		linked, err := env.Store.Ent.Deal.Query().Where(deal.CrmIDNotNil()).Count(actx)
		return err == nil && linked == n
	})
	fx := &fixture{fake: f}
	for _, id := range deals {
		if got := len(fx.leadsWith(crmsync.Marker(id))); got != 1 {
			t.Fatalf("deal %d: %d leads", id, got)
		}
	}
}
