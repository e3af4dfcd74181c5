package crmsync_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/pipeline"
	"github.com/switchboardhq/switchboard/ent/stage"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestCRMSystem runs the same scenarios through the whole server —
// ConnectCrm, routing, the outbox, the CRM, its webhooks, the pushes —
// against every vendor's fake (vendor_test.go), on every store.
func TestCRMSystem(t *testing.T) {
	scenarios := []struct {
		name string
		run  func(t *testing.T, v vendor)
	}{
		{"ConnectAndRefresh", perBackend(scenarioConnect)},
		{"NewClientsExactlyOnce", perBackend(scenarioNewClients)},
		{"NotesExactlyOnce", perBackend(scenarioNotes)},
		{"RefusedWriteParkedAndRetried", perBackend(scenarioRefused)},
		{"ReplicaKilled", scenarioReplicaKilled},
		{"CRMChangesReachPushes", perBackend(scenarioWebhooks)},
	}
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			// Vendors run side by side: the scenarios mostly wait for
			// the outbox.
			t.Parallel()
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) { sc.run(t, v) })
			}
		})
	}
}

func perBackend(fn func(*testing.T, Backend, vendor)) func(*testing.T, vendor) {
	return func(t *testing.T, v vendor) {
		ForEachBackend(t, func(t *testing.T, b Backend) { fn(t, b, v) })
	}
}

// unpaced lets the outbox call a fake as fast as it answers: the
// connectors' registered ceilings are the real CRMs'.
var unpaced = outbox.Limit{PerSecond: 500, Burst: 500}

// suiteOutbox is quickOutbox without the real CRMs' pace.
func suiteOutbox(o *app.Options) {
	quickOutbox(o)
	o.CRMLimits = map[crm.Kind]outbox.Limit{}
	for _, k := range crm.Kinds() {
		o.CRMLimits[k] = unpaced
	}
}

// system is a server connected to a vendor's fake, with a WhatsApp
// channel whose new clients go round robin to every active employee.
type system struct {
	env     *Env
	admin   *client.Clients
	fake    crmFake
	res     *pb.ConnectCrmResponse
	actx    context.Context
	emps    map[string]string // CRM user → employee
	crmOf   map[string]string // employee → CRM user
	channel string
}

func connectSystem(t *testing.T, b Backend, v vendor, configure func(*app.Options)) *system {
	t.Helper()
	ctx := context.Background()
	f := v.start(t)
	env := New(t, b, Options{Configure: configure})
	s := &system{env: env, admin: env.Admin(), fake: f, actx: tenant.NewContext(ctx, env.AccountID)}
	var err error
	s.res, err = s.admin.Integration.ConnectCrm(ctx, f.Connect())
	NoErr(t, err)
	s.mapEmployees(t)
	ch, err := s.admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
	NoErr(t, err)
	s.channel = ch.Channel.Id
	s.members(t, s.active()...)
	return s
}

func (s *system) mapEmployees(t *testing.T) {
	t.Helper()
	res, err := s.admin.Directory.ListEmployees(context.Background(), &pb.ListEmployeesRequest{IncludeDeactivated: true})
	NoErr(t, err)
	s.emps, s.crmOf = map[string]string{}, map[string]string{}
	for _, e := range res.Employees {
		s.emps[e.CrmUserId], s.crmOf[e.Id] = e.Id, e.CrmUserId
	}
}

// active lists the CRM's active users, sorted.
func (s *system) active() []string {
	var out []string
	for id, active := range s.fake.Users() {
		if active {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// members makes the CRM users the channel's members receiving new clients.
func (s *system) members(t *testing.T, users ...string) {
	t.Helper()
	UpdateSettings(t, s.admin, func(st *pb.IntegrationSettings) {
		var ms []*pb.ChannelMember
		for _, u := range users {
			ms = append(ms, Member(s.emps[u], Rep, true, true, 1))
		}
		ChannelSettings(st, s.channel).Members = ms
	})
}

// route routes a first message from each sender at once: a phone, or a
// messenger handle ("@name").
func (s *system) route(t *testing.T, phones []string) []*pb.RoutingDecision {
	t.Helper()
	out := make([]*pb.RoutingDecision, len(phones))
	var wg sync.WaitGroup
	for i, p := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := &pb.RouteIncomingMessageRequest{ChannelId: s.channel, Content: &pb.MessageContent{Text: "hi"}, GatewayMessageId: GatewayID(),
				Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: p}}
			if strings.HasPrefix(p, "@") {
				req.Sender, req.SenderName = &pb.RouteIncomingMessageRequest_SenderHandle{SenderHandle: p}, "Client "+p
			}
			r, err := s.admin.Routing.RouteIncomingMessage(context.Background(), req)
			if err != nil {
				t.Errorf("route %s: %v", p, err)
				return
			}
			out[i] = r.Decision
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// waitLinked waits until n deals are in the CRM.
func (s *system) waitLinked(t *testing.T, n int, d time.Duration) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d deals in the CRM", n), d, func() bool {
		linked, err := s.env.Store.Ent.Deal.Query().Where(deal.CrmIDNotNil()).Count(s.actx)
		return err == nil && linked == n
	})
}

// crmDeal is the one deal in the fake with the local deal's marker.
func (s *system) crmDeal(t *testing.T, dealID string) fakeDeal {
	t.Helper()
	found := s.fake.Deals(crmsync.Marker(ids.Value(dealID)))
	if len(found) != 1 {
		t.Fatalf("deal %s: %d deals in the CRM, want 1: %+v", dealID, len(found), found)
	}
	return found[0]
}

// noSecret fails t when what holds one of the fake's secrets.
func (s *system) noSecret(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, sec := range s.fake.Secrets() {
		if bytes.Contains(b, []byte(sec)) {
			t.Fatalf("%s holds the credential's secret", what)
		}
	}
}

func asJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := protojson.Marshal(m)
	NoErr(t, err)
	return b
}

// scenarioConnect: connecting with the credential as the CRM shows it
// makes the CRM's users the employees (the inactive deactivated) and its
// pipelines and stages the account's; a refresh after a user is added and
// another deactivated there reports and applies it; the credential never
// comes back, neither in answers nor in errors, and is stored sealed.
func scenarioConnect(t *testing.T, b Backend, v vendor) {
	ctx := context.Background()
	f := v.start(t)
	env := New(t, b, Options{Configure: suiteOutbox})
	admin := env.Admin()
	s := &system{env: env, admin: admin, fake: f, actx: tenant.NewContext(ctx, env.AccountID)}

	wrong, wrongSecret := f.WrongConnect()
	_, err := admin.Integration.ConnectCrm(ctx, wrong)
	WantCode(t, err, connect.CodeInvalidArgument)
	if strings.Contains(err.Error(), wrongSecret) {
		t.Fatalf("the refusal repeats the credential: %v", err)
	}
	if n, _ := env.Store.Ent.CrmConnection.Query().Count(s.actx); n != 0 {
		t.Fatal("a refused credential was stored")
	}

	s.res, err = admin.Integration.ConnectCrm(ctx, f.Connect())
	NoErr(t, err)
	users := f.Users()
	active := 0
	for _, a := range users {
		if a {
			active++
		}
	}
	if r := s.res.Refresh; int(r.ActiveEmployees) != active || int(r.DeactivatedEmployees) != len(users)-active {
		t.Fatalf("connect: %d active and %d deactivated employees, want %d and %d", r.ActiveEmployees, r.DeactivatedEmployees, active, len(users)-active)
	}
	s.wantEmployees(t, users)
	pls, err := env.Store.Ent.Pipeline.Query().WithStages().All(s.actx)
	NoErr(t, err)
	got := map[string]int{}
	for _, p := range pls {
		if p.CrmID == nil {
			t.Fatalf("pipeline %s is not the CRM's", p.Name)
		}
		got[*p.CrmID] = len(p.Edges.Stages)
	}
	if want := f.Pipelines(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pipelines (CRM id: stages) %v, want the CRM's %v", got, want)
	}

	gone := s.active()[len(s.active())-1]
	added := f.AddUser()
	f.DeactivateUser(gone)
	ref, err := admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
	NoErr(t, err)
	if ref.EmployeesAdded != 1 || ref.EmployeesDeactivated != 1 || ref.EmployeesReactivated != 0 {
		t.Fatalf("refresh after a user added and one deactivated: %v", ref)
	}
	users = f.Users()
	if !users[added] || users[gone] {
		t.Fatalf("the fake's users %v", users)
	}
	s.wantEmployees(t, users)
	again, err := admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
	NoErr(t, err)
	if len(again.Changes) != 0 {
		t.Fatalf("a second refresh changed %v", again.Changes)
	}

	settings, err := admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
	NoErr(t, err)
	s.noSecret(t, "ConnectCrm's answer", asJSON(t, s.res))
	s.noSecret(t, "RefreshFromCrm's answer", asJSON(t, ref))
	s.noSecret(t, "GetIntegrationSettings", asJSON(t, settings))
	cc, err := env.Store.Ent.CrmConnection.Query().Only(s.actx)
	NoErr(t, err)
	s.noSecret(t, "the stored address", []byte(cc.BaseURL))
	s.noSecret(t, "the stored token", cc.TokenSealed)

	f.RevokeCredentials()
	_, err = admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
	WantCode(t, err, connect.CodeFailedPrecondition)
	s.noSecret(t, "a refused refresh's error", []byte(err.Error()))
}

// wantEmployees checks that the employees are exactly the CRM's users,
// active as they are there.
func (s *system) wantEmployees(t *testing.T, users map[string]bool) {
	t.Helper()
	res, err := s.admin.Directory.ListEmployees(context.Background(), &pb.ListEmployeesRequest{IncludeDeactivated: true})
	NoErr(t, err)
	got := map[string]bool{}
	for _, e := range res.Employees {
		got[e.CrmUserId] = e.Active
	}
	if fmt.Sprint(got) != fmt.Sprint(users) {
		t.Fatalf("employees (CRM user: active) %v, want the CRM's users %v", got, users)
	}
}

// scenarioNewClients: new clients routed at once, while the CRM answers
// 5xx, rate-limits and loses answers to the deals' and contacts'
// creation (clients known by a messenger handle included), each get
// exactly one contact and one deal, in the channel's pipeline and stage,
// with the responsible chosen here; a client the CRM knows already (its
// phone written there another way) keeps its contact and its CRM
// responsible, who becomes the responsible here.
func scenarioNewClients(t *testing.T, b Backend, v vendor) {
	s := connectSystem(t, b, v, suiteOutbox)
	// The channel's new clients go to the first open stage of a pipeline
	// that is not the main one.
	p, err := s.env.Store.Ent.Pipeline.Query().Where(pipeline.Position(1)).
		WithStages(func(q *ent.StageQuery) { q.Where(stage.KindEQ(stage.KindOPEN)).Order(ent.Asc(stage.FieldPosition)) }).Only(s.actx)
	NoErr(t, err)
	st := p.Edges.Stages[0]
	UpdateSettings(t, s.admin, func(set *pb.IntegrationSettings) {
		ChannelSettings(set, s.channel).NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{
			Deal: &pb.DealTarget{PipelineId: ids.Format(p.ID), StageId: ids.Format(st.ID)}}}
	})
	// The CRM knows the last client as "8 (916) 000-03-11", with its last
	// active user responsible.
	known := s.active()[len(s.active())-1]
	knownContact := s.fake.AddContact("Known Client", "8 (916) 000-03-11", known)
	contactsBefore := s.fake.Contacts("")
	// Its deal's answer is lost.
	s.fake.Fail(crmtest.WriteClient, lostAnswer, 1)
	decisions := s.route(t, []string{"+79160000311"})
	s.waitLinked(t, 1, 30*time.Second)

	// Clients known by a messenger handle: no phone to find a contact an
	// earlier attempt made by, even when the answer lost is the contact's.
	const handles = 4
	s.fake.Fail(crmtest.WriteContact, lostAnswer, 1)
	s.fake.Fail(crmtest.WriteClient, serverError, 1)
	s.fake.Fail(crmtest.WriteClient, lostAnswer, 1)
	s.fake.Fail(crmtest.WriteClient, rateLimited, 1)
	var senders []string
	for i := range handles {
		senders = append(senders, fmt.Sprintf("@client_%d", i))
	}
	decisions = append(decisions, s.route(t, senders)...)
	s.waitLinked(t, 1+handles, 30*time.Second)

	s.fake.Fail(crmtest.WriteClient, serverError, 2)
	s.fake.Fail(crmtest.WriteClient, rateLimited, 2)
	s.fake.Fail(crmtest.WriteClient, lostAnswer, 2)
	s.fake.Fail(crmtest.WriteClient, serverError, 1)
	const n = 12
	var phones []string
	for i := range n - 1 - handles {
		phones = append(phones, Phone(300+i))
	}
	decisions = append(decisions, s.route(t, phones)...)
	s.waitLinked(t, n, 60*time.Second)
	if got := s.fake.Contacts(""); got != contactsBefore+n-1 {
		t.Errorf("%d contacts in the CRM after %d new clients (one known there), %d before", got, n, contactsBefore)
	}
	last := decisions[0]
	if got := s.crmDeal(t, last.Deal.Id); got.ContactID != knownContact || got.Responsible != known {
		t.Errorf("the known client's deal %+v: want contact %s and its responsible %s", got, knownContact, known)
	}
	waitFor(t, "the known client's CRM responsible is the responsible here", 10*time.Second, func() bool {
		c, err := s.env.Store.Ent.Contact.Get(s.actx, ids.Value(last.Client.Id))
		return err == nil && c.ResponsibleID != nil && s.crmOf[ids.Format(*c.ResponsibleID)] == known
	})
	contacts := map[string]bool{}
	for _, d := range decisions[1:] {
		got := s.crmDeal(t, d.Deal.Id)
		if got.Pipeline != *p.CrmID || got.Stage != *st.CrmID {
			t.Errorf("deal %s in the CRM's pipeline %s, stage %s; want %s, %s", d.Deal.Id, got.Pipeline, got.Stage, *p.CrmID, *st.CrmID)
		}
		if want := s.crmOf[d.Client.ResponsibleEmployeeId]; got.Responsible != want {
			t.Errorf("deal %s: the CRM's responsible %s, here %s", d.Deal.Id, got.Responsible, want)
		}
		ct, err := s.env.Store.Ent.Contact.Get(s.actx, ids.Value(d.Client.Id))
		NoErr(t, err)
		if ct.CrmID == nil || *ct.CrmID != got.ContactID || contacts[got.ContactID] {
			t.Errorf("client %s: linked to contact %v; the CRM's deal has %s (seen before: %v)", d.Client.Id, ct.CrmID, got.ContactID, contacts[got.ContactID])
		}
		contacts[got.ContactID] = true
	}
	for _, ph := range append(phones, "+79160000311") {
		if c := s.fake.Contacts(ph); c != 1 {
			t.Errorf("%d contacts with phone %s in the CRM, want 1", c, ph)
		}
	}
}

// scenarioNotes: with EACH_MESSAGE every message of a chat, in and out,
// reaches the deal's feed once and in order, media as links, while the
// CRM answers 5xx, rate-limits and loses answers to notes.
func scenarioNotes(t *testing.T, b Backend, v vendor) {
	ctx := context.Background()
	s := connectSystem(t, b, v, suiteOutbox)
	rep := s.active()[1]
	s.members(t, rep)
	UpdateSettings(t, s.admin, func(set *pb.IntegrationSettings) {
		set.Account.SaveMessages = pb.SaveMessagesMode_SAVE_MESSAGES_MODE_EACH_MESSAGE
	})
	s.fake.Fail(crmtest.WriteNote, serverError, 2)
	s.fake.Fail(crmtest.WriteNote, lostAnswer, 2)
	s.fake.Fail(crmtest.WriteNote, rateLimited, 1)
	s.fake.Fail(crmtest.WriteNote, lostAnswer, 1)
	const n = 9
	var d *pb.RoutingDecision
	var want []string
	for i := range n {
		text := fmt.Sprintf("message %d", i)
		if i%3 == 2 {
			text = fmt.Sprintf("reply %d", i)
			_, err := s.admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: s.emps[rep],
				Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id}, Content: &pb.MessageContent{Text: text}})
			NoErr(t, err)
		} else {
			content := &pb.MessageContent{Text: text}
			if i == 3 { // media go as links
				content.Attachments = []*pb.Attachment{{Url: "https://files.example.com/photo-3.jpg", MimeType: "image/jpeg"}}
				text += "\nhttps://files.example.com/photo-3.jpg"
			}
			r, err := s.admin.Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{ChannelId: s.channel,
				Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(77)}, Content: content, GatewayMessageId: GatewayID()})
			NoErr(t, err)
			d = r.Decision
		}
		want = append(want, text)
	}
	waitFor(t, "every message is in the CRM", 60*time.Second, func() bool {
		c, err := s.env.Store.Ent.Chat.Query().Where(chat.ID(ids.Value(d.Chat.Id))).Only(s.actx)
		if err != nil {
			return false
		}
		newest, err := s.env.Store.Ent.Message.Query().Order(ent.Desc(message.FieldID)).First(s.actx)
		return err == nil && c.CrmLoggedMessageID >= newest.ID
	})
	notes := s.fake.Notes(s.crmDeal(t, d.Deal.Id).ID)
	if len(notes) != n {
		t.Fatalf("%d notes for %d messages:\n%s", len(notes), n, strings.Join(notes, "\n---\n"))
	}
	for i, text := range notes {
		if !strings.Contains(text, want[i]) {
			t.Fatalf("note %d is %q, want %q", i, text, want[i])
		}
	}
}

// scenarioRefused: a write the CRM refuses is parked with the CRM's
// message and shown in the sync state; retried once the cause is gone, it
// goes through, once.
func scenarioRefused(t *testing.T, b Backend, v vendor) {
	ctx := context.Background()
	s := connectSystem(t, b, v, suiteOutbox)
	s.fake.Fail(crmtest.WriteClient, refused, 1)
	d := Route(t, s.admin, s.channel, Phone(51), "hello")
	var failed *pb.CrmSyncItem
	waitFor(t, "the refused write is parked", 20*time.Second, func() bool {
		st, err := s.admin.Integration.GetCrmSyncState(ctx, &pb.GetCrmSyncStateRequest{})
		if err != nil || len(st.Failed) == 0 {
			return false
		}
		failed = st.Failed[0]
		return true
	})
	if failed.Kind != "new client" || failed.Error == "" {
		t.Fatalf("failed item %v", failed)
	}
	s.noSecret(t, "the sync state", asJSON(t, failed))
	_, err := s.admin.Integration.RetryCrmSync(ctx, &pb.RetryCrmSyncRequest{ItemId: failed.Id})
	NoErr(t, err)
	s.waitLinked(t, 1, 20*time.Second)
	waitFor(t, "the sync state shows it", 10*time.Second, func() bool {
		st, err := s.admin.Integration.GetCrmSyncState(ctx, &pb.GetCrmSyncStateRequest{})
		return err == nil && len(st.Failed) == 0 && st.LastSuccessTime != nil
	})
	s.crmDeal(t, d.Deal.Id)
	if c := s.fake.Contacts(Phone(51)); c != 1 {
		t.Fatalf("%d contacts with the client's phone after a refusal and a retry, want 1", c)
	}
}

// scenarioReplicaKilled: two replicas work one PostgreSQL's outbox; one is
// killed while the CRM is slow to answer. Every new client still gets
// exactly one deal, and every job ends completed, once.
func scenarioReplicaKilled(t *testing.T, v vendor) {
	b := Postgres(t)
	ctx := context.Background()
	quick := func(o *app.Options) {
		suiteOutbox(o)
		o.Outbox.JobTimeout, o.Outbox.RescueAfter = 3*time.Second, 4*time.Second
	}
	s := connectSystem(t, b, v, quick)
	doomed := s.env.Replica(Options{Configure: quick})
	s.fake.Fail(crmtest.WriteClient, slow, 20)
	onDoomed := client.New(doomed.URL, s.env.AdminKey, client.Connect, nil)
	const n = 16
	var deals []string
	for i := range n {
		c := s.admin
		if i%2 == 1 {
			c = onDoomed
		}
		deals = append(deals, Route(t, c, s.channel, Phone(900+i), "hi").Deal.Id)
	}
	time.Sleep(300 * time.Millisecond)
	NoErr(t, doomed.App.Outbox().Kill(ctx))
	doomed.Kill()
	s.waitLinked(t, n, 60*time.Second)
	for _, id := range deals {
		s.crmDeal(t, id)
	}
	// What is left is the chat logs waiting for their hour's end.
	waitFor(t, "every job completed", 30*time.Second, func() bool {
		var left int
		err := s.env.Store.DB.QueryRowContext(ctx, `SELECT count(*) FROM river_job
			WHERE state <> 'completed' AND NOT (kind = 'crm_chat_log' AND state = 'scheduled')`).Scan(&left)
		return err == nil && left == 0
	})
}

// scenarioWebhooks: a deal given to another user in the CRM, and another
// won there, reach the server by the CRM's webhook: the client's
// responsible changes with the pushes of a transfer, and the deal closes.
// A transfer here reaches the CRM.
func scenarioWebhooks(t *testing.T, b Backend, v vendor) {
	ctx := context.Background()
	s := connectSystem(t, b, v, suiteOutbox)
	decisions := s.route(t, []string{Phone(41), Phone(42)})
	s.waitLinked(t, 2, 30*time.Second)
	s.fake.BindWebhook(t, s.env.Server.URL+s.res.WebhookUrl)

	d := decisions[0]
	from := d.Client.ResponsibleEmployeeId
	var to string
	for _, u := range s.active() {
		if s.emps[u] != from {
			to = s.emps[u]
			break
		}
	}
	before := len(reasons(t, s.admin, to))
	must(t, "change the responsible in the CRM", s.fake.ChangeResponsible(ctx, s.crmDeal(t, d.Deal.Id).ID, s.crmOf[to]))
	waitFor(t, "the CRM's responsible is the client's here", 10*time.Second, func() bool {
		c, err := s.env.Store.Ent.Contact.Get(s.actx, ids.Value(d.Client.Id))
		return err == nil && c.ResponsibleID != nil && ids.Format(*c.ResponsibleID) == to
	})
	lost, gained := reasons(t, s.admin, from), reasons(t, s.admin, to)
	if len(lost) == 0 || lost[len(lost)-1] != pb.NotificationReason_NOTIFICATION_REASON_CHAT_REVOKED {
		t.Fatalf("the old responsible's pushes %v: want CHAT_REVOKED last", lost)
	}
	if len(gained) != before+1 || gained[len(gained)-1] != pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED {
		t.Fatalf("the new responsible's pushes %v (%d before): want one NEW_CLIENT_ASSIGNED", gained, before)
	}
	chk, err := s.admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: to, ChatId: d.Chat.Id})
	NoErr(t, err)
	if chk.Access.Rule != pb.AccessRule_ACCESS_RULE_RESPONSIBLE {
		t.Fatalf("the new responsible's access %v", chk.Access)
	}

	// A transfer here reaches the CRM's deal.
	won := decisions[1]
	next := ""
	for _, u := range s.active() {
		if s.emps[u] != won.Client.ResponsibleEmployeeId {
			next = s.emps[u]
		}
	}
	_, err = s.admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: won.Chat.Id, EmployeeId: next})
	NoErr(t, err)
	waitFor(t, "the CRM hears of the transfer here", 10*time.Second, func() bool {
		got := s.fake.Deals(crmsync.Marker(ids.Value(won.Deal.Id)))
		return len(got) == 1 && got[0].Responsible == s.crmOf[next]
	})
	must(t, "win the deal in the CRM", s.fake.CloseWon(ctx, s.crmDeal(t, won.Deal.Id).ID))
	waitFor(t, "the deal won in the CRM is won here", 10*time.Second, func() bool {
		dl, err := s.env.Store.Ent.Deal.Get(s.actx, ids.Value(won.Deal.Id))
		return err == nil && dl.State == deal.StateWON
	})
}

// reasons are an employee's pushes, oldest first.
func reasons(t *testing.T, c *client.Clients, employee string) []pb.NotificationReason {
	t.Helper()
	res, err := c.Notification.ListNotifications(context.Background(), &pb.ListNotificationsRequest{EmployeeId: employee, PageSize: 500})
	NoErr(t, err)
	var out []pb.NotificationReason
	for _, d := range res.Decisions {
		out = append(out, d.Reason)
	}
	return out
}
