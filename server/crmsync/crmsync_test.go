package crmsync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/secrets"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

const token = "fake-token"

var key = bytes.Repeat([]byte{9}, 32)

type fixture struct {
	env     *Env
	fake    *amofake.Server
	admin   *client.Clients
	syncer  *crmsync.Syncer
	channel string
	emps    map[string]string // CRM user id → employee id
	actx    context.Context
}

// connected starts a server connected to a fake amoCRM, with a WhatsApp
// channel whose new clients go round robin to Scrooge (5003), then Tony
// (5002).
func connected(t *testing.T, b Backend) *fixture {
	t.Helper()
	ctx := context.Background()
	f := amofake.Start(amofake.WithToken(token), amofake.WithRateLimit(0))
	t.Cleanup(f.Close)
	// The outbox works no CRM queue: these tests run the steps themselves.
	env := New(t, b, Options{Configure: func(o *app.Options) {
		o.SecretKey, o.CRMAllowAnyHost = key, true
		o.Outbox.Queues = []string{"tests-work-no-queue"}
	}})
	admin := env.Admin()
	_, err := admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_AMOCRM, BaseUrl: f.URL, Token: token})
	NoErr(t, err)
	res, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})
	NoErr(t, err)
	emps := map[string]string{}
	for _, e := range res.Employees {
		emps[e.CrmUserId] = e.Id
	}
	ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
	NoErr(t, err)
	UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
		ChannelSettings(s, ch.Channel.Id).Members = []*pb.ChannelMember{
			Member(emps["5003"], Rep, true, true, 1), Member(emps["5002"], Rep, true, true, 1),
		}
	})
	sealer, err := secrets.New(key)
	NoErr(t, err)
	// After a write with an unknown outcome the next run waits Settle.
	s := crmsync.New(env.Store, crmsync.Options{Sealer: sealer, AllowAnyHost: true, Lease: 5 * time.Second, Settle: 300 * time.Millisecond}, env.Server.App.Router())
	return &fixture{env: env, fake: f, admin: admin, syncer: s, channel: ch.Channel.Id, emps: emps, actx: tenant.NewContext(ctx, env.AccountID)}
}

// retry runs the step for a deal again, waiting while an earlier run's
// lease holds it.
func (fx *fixture) retry(dealID int64) error {
	for {
		err := fx.syncer.NewClient(fx.actx, dealID, true)
		if !errors.Is(err, crmsync.ErrBusy) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leadsWith returns the fake's leads whose name carries marker.
func (fx *fixture) leadsWith(marker string) []amofake.Lead {
	var out []amofake.Lead
	for _, l := range fx.fake.Leads() {
		if strings.Contains(l.Name, marker+" ") || strings.HasSuffix(l.Name, marker) {
			out = append(out, l)
		}
	}
	return out
}

// TestNewClientInTheCRM: a new client's contact and lead are created once,
// in the channel's pipeline and first working status, with the chosen
// responsible, and linked; running the step again creates nothing.
func TestNewClientInTheCRM(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		fx := connected(t, b)
		d := Route(t, fx.admin, fx.channel, "8 (916) 123-45-67", "hello")
		dealID := ids.Value(d.Deal.Id)
		NoErr(t, fx.syncer.NewClient(fx.actx, dealID, false))
		NoErr(t, fx.syncer.NewClient(fx.actx, dealID, true))
		leads := fx.leadsWith(crmsync.Marker(dealID))
		if len(leads) != 1 {
			t.Fatalf("%d leads for one new client", len(leads))
		}
		l := leads[0]
		if l.PipelineID != 7001 || l.StatusID != 7102 || l.ResponsibleUserID != 5003 || len(l.ContactIDs) != 1 {
			t.Fatalf("lead %+v", l)
		}
		c, ok := fx.fake.Contact(l.ContactIDs[0])
		if !ok || len(c.Phones) != 1 || c.Phones[0].Value != "+79161234567" || c.ResponsibleUserID != 5003 {
			t.Fatalf("contact %+v", c)
		}
		got, err := fx.env.Store.Ent.Deal.Get(fx.actx, dealID)
		NoErr(t, err)
		if got.CrmID == nil || *got.CrmID != fmt.Sprint(l.ID) {
			t.Fatalf("local deal not linked: %v", got.CrmID)
		}
	})
}

// TestExistingContactKeepsItsResponsible: a client the CRM knows already
// (written there as "8 (903) 555-01-02") is not created twice; the new
// lead goes to its CRM responsible, who becomes responsible here as well,
// with the pushes of a transfer.
func TestExistingContactKeepsItsResponsible(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		fx := connected(t, b)
		contacts := len(fx.fake.Contacts())
		d := Route(t, fx.admin, fx.channel, "+7 903 555-01-02", "is the lens in stock?")
		if d.Client.ResponsibleEmployeeId != fx.emps["5003"] {
			t.Fatalf("distributed to %s", d.Client.ResponsibleEmployeeId)
		}
		NoErr(t, fx.syncer.NewClient(fx.actx, ids.Value(d.Deal.Id), false))
		if n := len(fx.fake.Contacts()); n != contacts {
			t.Fatalf("%d contacts, %d before: the CRM's contact was doubled", n, contacts)
		}
		l := fx.leadsWith(crmsync.Marker(ids.Value(d.Deal.Id)))
		if len(l) != 1 || l[0].ContactIDs[0] != 9001 || l[0].ResponsibleUserID != 5002 {
			t.Fatalf("lead %+v", l)
		}
		chk, err := fx.admin.Routing.CheckAccess(context.Background(), &pb.CheckAccessRequest{EmployeeId: fx.emps["5002"], ChatId: d.Chat.Id})
		NoErr(t, err)
		if chk.Access.Rule != pb.AccessRule_ACCESS_RULE_RESPONSIBLE {
			t.Fatalf("Tony is not responsible here: %v", chk.Access)
		}
		// The history tells the distribution from the CRM's contact.
		h, err := fx.admin.Supervision.ListAssignmentHistory(context.Background(), &pb.ListAssignmentHistoryRequest{ClientId: d.Client.Id})
		NoErr(t, err)
		if len(h.Events) != 2 || h.Events[0].Cause != pb.AssignmentCause_ASSIGNMENT_CAUSE_CRM_CONTACT ||
			h.Events[0].FromEmployeeId != fx.emps["5003"] || h.Events[0].ToEmployeeId != fx.emps["5002"] ||
			h.Events[0].Actor.Kind != pb.ActorKind_ACTOR_KIND_CRM || h.Events[1].Cause != pb.AssignmentCause_ASSIGNMENT_CAUSE_DISTRIBUTION {
			t.Fatalf("history %v", h.Events)
		}
	})
}

// TestNewClientFaults: a 503 is retried; an answer lost after the CRM
// created the lead is found on the retry instead of creating a second one;
// a validation error is permanent.
func TestNewClientFaults(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		fx := connected(t, b)
		complex := amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/complex"}

		d1 := Route(t, fx.admin, fx.channel, Phone(1), "a")
		f := complex
		f.Status = 503
		fx.fake.Inject(f)
		err := fx.syncer.NewClient(fx.actx, ids.Value(d1.Deal.Id), false)
		if err == nil || crm.Permanent(err) {
			t.Fatalf("a 503: %v (permanent %v)", err, crm.Permanent(err))
		}
		NoErr(t, fx.retry(ids.Value(d1.Deal.Id)))

		d2 := Route(t, fx.admin, fx.channel, Phone(2), "b")
		f = complex
		f.DropAfterCommit = true
		fx.fake.Inject(f)
		if err := fx.syncer.NewClient(fx.actx, ids.Value(d2.Deal.Id), false); err == nil {
			t.Fatal("a dropped answer succeeded")
		}
		NoErr(t, fx.retry(ids.Value(d2.Deal.Id)))

		d3 := Route(t, fx.admin, fx.channel, Phone(3), "c")
		f = complex
		f.Status = 400
		fx.fake.Inject(f)
		if err := fx.syncer.NewClient(fx.actx, ids.Value(d3.Deal.Id), false); !crm.Permanent(err) {
			t.Fatalf("a 400 is not permanent: %v", err)
		}
		for _, d := range []*pb.RoutingDecision{d1, d2} {
			if n := len(fx.leadsWith(crmsync.Marker(ids.Value(d.Deal.Id)))); n != 1 {
				t.Fatalf("deal %s: %d leads", d.Deal.Id, n)
			}
		}
	})
}

// TestNewClientsConcurrently: 60 new clients synced from 8 goroutines
// while the CRM fails now and then (503, lost answers): each retried
// until done, every client has exactly one lead.
func TestNewClientsConcurrently(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		fx := connected(t, b)
		const n = 60
		var deals []int64
		for i := 0; i < n; i++ {
			deals = append(deals, ids.Value(Route(t, fx.admin, fx.channel, Phone(100+i), "hi").Deal.Id))
		}
		for i := 0; i < 10; i++ {
			fx.fake.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/complex", Status: 503, Times: 2})
			fx.fake.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/complex", DropAfterCommit: true})
		}
		work := make(chan int64)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range work {
					retry := false
					for attempt := 0; ; attempt++ {
						err := fx.syncer.NewClient(fx.actx, id, retry)
						if err == nil {
							break
						}
						if errors.Is(err, crmsync.ErrBusy) {
							time.Sleep(50 * time.Millisecond)
							continue
						}
						if crm.Permanent(err) || attempt > 200 {
							t.Errorf("deal %d: %v", id, err)
							break
						}
						retry = true
					}
				}
			}()
		}
		for _, id := range deals {
			work <- id
		}
		close(work)
		wg.Wait()
		for _, id := range deals {
			if got := len(fx.leadsWith(crmsync.Marker(id))); got != 1 {
				t.Fatalf("deal %d: %d leads", id, got)
			}
		}
		linked, err := fx.env.Store.Ent.Deal.Query().Where(deal.CrmIDNotNil()).Count(fx.actx)
		NoErr(t, err)
		if linked != n {
			t.Fatalf("%d of %d deals linked", linked, n)
		}
	})
}

// TestOneDealOneRunAtATime: the step run for one deal from 8 goroutines at
// once (a job rescued while it still runs) creates one lead; the others
// wait and then find it done.
func TestOneDealOneRunAtATime(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		fx := connected(t, b)
		fx.fake.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/complex", Delay: 300 * time.Millisecond})
		d := Route(t, fx.admin, fx.channel, Phone(77), "hello")
		id := ids.Value(d.Deal.Id)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := fx.syncer.NewClient(fx.actx, id, false)
					if err == nil {
						return
					}
					if !errors.Is(err, crmsync.ErrBusy) {
						t.Errorf("%v", err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		if n := len(fx.leadsWith(crmsync.Marker(id))); n != 1 {
			t.Fatalf("%d leads", n)
		}
	})
}
