package settings_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/employee"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/crm/amocrm"
	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

const fakeToken = "long-lived-token-of-the-fake"

var secretKey = bytes.Repeat([]byte{42}, 32)

// withCRM lets the server store CRM tokens and reach a CRM on this machine.
func withCRM(key []byte) Options {
	return Options{Configure: func(o *app.Options) {
		o.SecretKey = key
		o.CRMAllowAnyHost = true
		o.PublicURL = "https://switchboard.example.com"
	}}
}

func connectReq(f *amofake.Server, token string) *pb.ConnectCrmRequest {
	return &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_AMOCRM, BaseUrl: f.URL, Token: token}
}

// TestConnectCrm: a wrong token or address is named and saves nothing; a
// right one makes the CRM's users employees (the inactive one deactivated)
// and its pipelines and statuses the account's, keeps the token sealed and
// never returns it.
func TestConnectCrm(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		f := amofake.Start(amofake.WithToken(fakeToken), amofake.WithRateLimit(0))
		defer f.Close()

		// Without a secret key the server refuses to store a token.
		plain := New(t, b, Options{Configure: func(o *app.Options) { o.CRMAllowAnyHost = true }})
		_, err := plain.Admin().Integration.ConnectCrm(ctx, connectReq(f, fakeToken))
		WantCode(t, err, connect.CodeFailedPrecondition)

		env := New(t, b, withCRM(secretKey))
		admin := env.Admin()
		before, err := admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
		NoErr(t, err)
		_, err = admin.Integration.ConnectCrm(ctx, connectReq(f, "not-the-token"))
		WantViolations(t, err, "token")
		dead := &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_KOMMO, BaseUrl: "http://127.0.0.1:1", Token: fakeToken}
		_, err = admin.Integration.ConnectCrm(ctx, dead)
		WantViolations(t, err, "base_url")
		_, err = admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_NATIVE, BaseUrl: f.URL, Token: fakeToken})
		WantViolations(t, err, "crm_kind")
		_, err = admin.Integration.ConnectCrm(ctx, &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_AMOCRM})
		WantViolations(t, err, "base_url", "token")
		_, err = admin.Integration.ConnectCrm(ctx, connectReq(f, fakeToken+"\r\n"))
		WantViolations(t, err, "token")
		signed := connectReq(f, fakeToken)
		signed.WebhookSecret = "amoCRM-signs-nothing"
		_, err = admin.Integration.ConnectCrm(ctx, signed)
		WantViolations(t, err, "webhook_secret")
		after, err := admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
		NoErr(t, err)
		emps, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})
		NoErr(t, err)
		if after.Settings.Revision != before.Settings.Revision || after.Settings.CrmConnection != nil || len(emps.Employees) != 0 {
			t.Fatalf("a refused connect changed something: %v, %d employees", after.Settings.CrmConnection, len(emps.Employees))
		}

		// Admins connecting at once: every call succeeds, one connection.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, errs[i] = admin.Integration.ConnectCrm(ctx, connectReq(f, fakeToken))
			}(i)
		}
		wg.Wait()
		for _, err := range errs {
			NoErr(t, err)
		}
		if n, _ := env.Store.Ent.CrmConnection.Query().Count(tenant.NewContext(ctx, env.AccountID)); n != 1 {
			t.Fatalf("%d connections after concurrent connects", n)
		}

		res, err := admin.Integration.ConnectCrm(ctx, connectReq(f, fakeToken))
		NoErr(t, err)
		if res.Settings.CrmKind != pb.CrmKind_CRM_KIND_AMOCRM || res.Settings.CrmConnection.GetBaseUrl() != f.URL {
			t.Fatalf("settings after connect: %v", res.Settings)
		}
		if !strings.HasPrefix(res.WebhookUrl, "https://switchboard.example.com/webhooks/crm/") || len(res.WebhookUrl) < 60 {
			t.Fatalf("webhook url %q", res.WebhookUrl)
		}
		if res.Refresh.ActiveEmployees != 5 || res.Refresh.DeactivatedEmployees != 1 {
			t.Fatalf("refresh after connect: %v", res.Refresh)
		}
		emps, err = admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})
		NoErr(t, err)
		byName := map[string]*pb.Employee{}
		for _, e := range emps.Employees {
			byName[e.Name] = e
		}
		if e := byName["Selina Kyle"]; e == nil || e.Active || e.CrmUserId != "5006" || !byName["Bruce Wayne"].Active {
			t.Fatalf("employees from the CRM: %v", emps.Employees)
		}
		pls, err := admin.Directory.ListPipelines(ctx, &pb.ListPipelinesRequest{})
		NoErr(t, err)
		if len(pls.Pipelines) != 2 || pls.Pipelines[0].Name != "Sales" || len(pls.Pipelines[0].Stages) != 5 {
			t.Fatalf("pipelines from the CRM: %v", pls.Pipelines)
		}

		// The token is never returned, and is stored sealed.
		got, err := admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
		NoErr(t, err)
		for _, js := range [][]byte{mustJSON(protojson.Marshal(got)), mustJSON(protojson.Marshal(res))} {
			if bytes.Contains(js, []byte(fakeToken)) {
				t.Fatal("the token is in an answer")
			}
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		cc, err := env.Store.Ent.CrmConnection.Query().Only(actx)
		NoErr(t, err)
		if bytes.Contains(cc.TokenSealed, []byte(fakeToken)) || bytes.Contains(cc.WebhookKeyHash, []byte(res.WebhookUrl[len(res.WebhookUrl)-20:])) {
			t.Fatal("the token or the webhook key is stored in clear")
		}

		// A new client's deal starts in the main pipeline's first working
		// stage, never in its incoming leads.
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
		NoErr(t, err)
		d := Route(t, admin, ch.Channel.Id, Phone(1), "hello")
		if d.Deal.GetStageId() != pls.Pipelines[0].Stages[1].Id || pls.Pipelines[0].Stages[1].Name != "First contact" {
			t.Fatalf("new deal in stage %s; stages %v", d.Deal.GetStageId(), pls.Pipelines[0].Stages)
		}

		// Refresh: a renamed user, one deactivated, one gone, one new.
		f.SetUser(amofake.User{ID: 5002, Name: "Anthony Stark", Email: "tony@example.com", Active: true})
		f.SetUser(amofake.User{ID: 5003, Name: "Scrooge McDuck", Email: "scrooge@example.com", Active: false})
		f.RemoveUser(5004)
		f.SetUser(amofake.User{ID: 5007, Name: "Clark Kent", Email: "clark@example.com", Active: true})
		ref, err := admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
		NoErr(t, err)
		if ref.EmployeesAdded != 1 || ref.EmployeesUpdated != 1 || ref.EmployeesDeactivated != 2 || ref.EmployeesReactivated != 0 {
			t.Fatalf("refresh: %v", ref)
		}
		// Who may see chats changed: the history says so, once, by the CRM.
		hist, err := admin.Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{})
		NoErr(t, err)
		var byCRM []*pb.AssignmentEvent
		for _, ev := range hist.Events {
			if ev.Cause == pb.AssignmentCause_ASSIGNMENT_CAUSE_SETTINGS_EDIT && strings.Contains(ev.Explanation, "refresh from the CRM") {
				byCRM = append(byCRM, ev)
			}
		}
		if len(byCRM) != 1 || strings.Count(byCRM[0].Explanation, "deactivated employee") != 2 {
			t.Fatalf("history of the refresh: %v, want one entry naming the two deactivated", byCRM)
		}
		n, err := env.Store.Ent.Employee.Query().Count(actx)
		NoErr(t, err)
		gone, err := env.Store.Ent.Employee.Query().Where(employee.CrmUserID("5004")).Only(actx)
		NoErr(t, err)
		if n != 7 || gone.Active {
			t.Fatalf("%d employees; the user gone from the CRM is active: %v (employees are never deleted)", n, gone.Active)
		}
		again, err := admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
		NoErr(t, err)
		if len(again.Changes) != 0 {
			t.Fatalf("a second refresh changed %v", again.Changes)
		}

		// An expired token: refresh says so and changes nothing.
		f.ExpireToken()
		_, err = admin.Integration.RefreshFromCrm(ctx, &pb.RefreshFromCrmRequest{})
		WantCode(t, err, connect.CodeFailedPrecondition)

		// Deleting the integration forgets the token.
		cur, err := admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
		NoErr(t, err)
		_, err = admin.Integration.DeleteIntegration(ctx, &pb.DeleteIntegrationRequest{Revision: cur.Settings.Revision})
		NoErr(t, err)
		if n, _ := env.Store.Ent.CrmConnection.Query().Count(actx); n != 0 {
			t.Fatal("the connection outlived the integration")
		}
	})
}

func mustJSON(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestCrmWebhooks: the CRM reports a lead given to another user and a
// lead won; Switchboard transfers the client (with the pushes of a
// transfer) and closes the deal. Replays and older events change nothing;
// a wrong key changes nothing.
func TestCrmWebhooks(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		f := amofake.Start(amofake.WithToken(fakeToken))
		defer f.Close()
		env := New(t, b, withCRM(secretKey))
		admin := env.Admin()
		res, err := admin.Integration.ConnectCrm(ctx, connectReq(f, fakeToken))
		NoErr(t, err)
		hook := env.Server.URL + strings.TrimPrefix(res.WebhookUrl, "https://switchboard.example.com")
		amo, err := amoClient(f)
		NoErr(t, err)
		_, err = amo.Subscribe(ctx, hook, []string{"status_lead", "responsible_lead"})
		NoErr(t, err)

		emps := employeesByCrmID(t, admin)
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
		NoErr(t, err)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, ch.Channel.Id).Members = []*pb.ChannelMember{
				Member(emps["5002"], Rep, true, true, 1), Member(emps["5003"], Rep, true, true, 1),
			}
		})
		// Peter Parker writes; his deal is linked to the CRM's lead 8001
		// (as the CRM write of his new-client decision does).
		d := Route(t, admin, ch.Channel.Id, "+7 903 555-01-02", "is the lens in stock?")
		if d.Client.ResponsibleEmployeeId != emps["5002"] {
			t.Fatalf("first responsible %s", d.Client.ResponsibleEmployeeId)
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		NoErr(t, env.Store.Ent.Deal.Update().Where(deal.ID(ids.Value(d.Deal.Id))).SetCrmID("8001").Exec(actx))

		// The CRM gives the lead to Scrooge: a transfer here.
		NoErr(t, f.ChangeLeadResponsible(ctx, 8001, 5003))
		chk, err := admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: emps["5003"], ChatId: d.Chat.Id})
		NoErr(t, err)
		if !chk.Access.CanWrite || chk.Access.Rule != pb.AccessRule_ACCESS_RULE_RESPONSIBLE {
			t.Fatalf("Scrooge after the CRM's change: %v", chk.Access)
		}
		tony := reasons(t, admin, emps["5002"])
		scrooge := reasons(t, admin, emps["5003"])
		if tony[len(tony)-1] != pb.NotificationReason_NOTIFICATION_REASON_CHAT_REVOKED || scrooge[len(scrooge)-1] != pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED {
			t.Fatalf("pushes of the transfer: Tony %v, Scrooge %v", tony, scrooge)
		}
		// The history says the CRM did it, from Tony to Scrooge.
		hist, err := admin.Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{ClientId: d.Client.Id})
		NoErr(t, err)
		if len(hist.Events) == 0 || hist.Events[0].Cause != pb.AssignmentCause_ASSIGNMENT_CAUSE_CRM_WEBHOOK ||
			hist.Events[0].FromEmployeeId != emps["5002"] || hist.Events[0].ToEmployeeId != emps["5003"] {
			t.Fatalf("history after the CRM's change: %v", hist.Events)
		}

		// The same webhook again, and an older one giving the lead back to
		// Tony: nothing changes, nobody is pushed.
		last := f.Deliveries()[len(f.Deliveries())-1]
		post(t, hook, last.Form)
		older := url.Values{}
		for k, v := range last.Form {
			older[k] = v
		}
		older.Set("leads[responsible][0][responsible_user_id]", "5002")
		older.Set("leads[responsible][0][last_modified]", strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10))
		post(t, hook, older)
		if n := len(reasons(t, admin, emps["5003"])); n != len(scrooge) {
			t.Fatalf("a replay pushed Scrooge again: %d pushes, %d before", n, len(scrooge))
		}
		if n := len(reasons(t, admin, emps["5002"])); n != len(tony) {
			t.Fatal("an older webhook gave the client back")
		}

		// Webhooks at once, old and new, with any timestamps (one far in
		// the future): the CRM's current state wins every time.
		future := url.Values{}
		for k, v := range older {
			future[k] = v
		}
		future.Set("leads[responsible][0][last_modified]", "9223372036854775807")
		// On PostgreSQL half of them reach a second server instance.
		hooks := []string{hook}
		if b.Name == "postgres" {
			other := env.Replica(withCRM(secretKey))
			hooks = append(hooks, other.URL+strings.TrimPrefix(res.WebhookUrl, "https://switchboard.example.com"))
		}
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				forms := []url.Values{last.Form, older, future}
				resp, err := http.PostForm(hooks[i%len(hooks)], forms[i%3])
				if err == nil {
					resp.Body.Close()
				}
			}(i)
		}
		wg.Wait()
		chk, err = admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: emps["5003"], ChatId: d.Chat.Id})
		NoErr(t, err)
		if chk.Access.Rule != pb.AccessRule_ACCESS_RULE_RESPONSIBLE {
			t.Fatalf("after webhooks at once, Scrooge (the CRM's responsible) is not: %v", chk.Access)
		}
		NoErr(t, f.ChangeLeadResponsible(ctx, 8001, 5002))
		chk, err = admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: emps["5002"], ChatId: d.Chat.Id})
		NoErr(t, err)
		if chk.Access.Rule != pb.AccessRule_ACCESS_RULE_RESPONSIBLE {
			t.Fatalf("a webhook from the future froze the deal: %v", chk.Access)
		}

		// A wrong key is not found and changes nothing.
		resp, err := http.PostForm(env.Server.URL+"/webhooks/crm/not-the-key", last.Form)
		NoErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("wrong key: %d", resp.StatusCode)
		}

		// The lead is won in the CRM: the deal closes here, once.
		NoErr(t, f.MoveLead(ctx, 8001, 7001, 142))
		got, err := env.Store.Ent.Deal.Get(actx, ids.Value(d.Deal.Id))
		NoErr(t, err)
		if got.State != deal.StateWON {
			t.Fatalf("deal after the CRM won it: %s", got.State)
		}
		post(t, hook, f.Deliveries()[len(f.Deliveries())-1].Form)
	})
}

func amoClient(f *amofake.Server) (*amocrm.Client, error) {
	return amocrm.New(f.URL, fakeToken, amocrm.AllowAnyHost())
}

func employeesByCrmID(t *testing.T, c *client.Clients) map[string]string {
	t.Helper()
	res, err := c.Directory.ListEmployees(context.Background(), &pb.ListEmployeesRequest{IncludeDeactivated: true})
	NoErr(t, err)
	out := map[string]string{}
	for _, e := range res.Employees {
		out[e.CrmUserId] = e.Id
	}
	return out
}

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

func post(t *testing.T, hook string, form url.Values) {
	t.Helper()
	resp, err := http.PostForm(hook, form)
	NoErr(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

// TestConnectLinksExistingEmployees: employees made before the CRM was
// connected are linked to the CRM user with their e-mail or exact name and
// keep their channels; the others are deactivated, and nobody is doubled.
func TestConnectLinksExistingEmployees(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		f := amofake.Start(amofake.WithToken(fakeToken))
		defer f.Close()
		env := New(t, b, withCRM(secretKey))
		co := env.Demo()
		admin := env.Admin()
		// Telegram's new clients go to a stage the CRM does not have.
		pls, err := admin.Directory.ListPipelines(ctx, &pb.ListPipelinesRequest{})
		NoErr(t, err)
		local := pls.Pipelines[0]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, co.Channels["Telegram Support"]).NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{
				Deal: &pb.DealTarget{PipelineId: local.Id, StageId: local.Stages[1].Id}}}
		})
		res, err := admin.Integration.ConnectCrm(ctx, connectReq(f, fakeToken))
		NoErr(t, err)
		// Reported, not dropped: the channel keeps its stage until an
		// admin chooses another.
		reported := false
		for _, f := range res.Refresh.Findings {
			reported = reported || (strings.Contains(f, "Telegram Support") && strings.Contains(f, local.Stages[1].Name))
		}
		if !reported {
			t.Fatalf("findings %q do not name the channel whose stage the CRM lacks", res.Refresh.Findings)
		}
		after, err := admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
		NoErr(t, err)
		if got := ChannelSettings(after.Settings, co.Channels["Telegram Support"]).NewClientEntity.GetDeal().GetStageId(); got != local.Stages[1].Id {
			t.Fatalf("the channel's stage was changed to %q", got)
		}
		emps, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{IncludeDeactivated: true})
		NoErr(t, err)
		byID := map[string]*pb.Employee{}
		names := map[string]int{}
		for _, e := range emps.Employees {
			byID[e.Id] = e
			names[e.Name]++
		}
		bruce := byID[co.Employees["Bruce Wayne"]]
		if bruce.CrmUserId != "5001" || !bruce.Active || names["Bruce Wayne"] != 1 {
			t.Fatalf("Bruce after connect: %v (%d of that name)", bruce, names["Bruce Wayne"])
		}
		if c := byID[co.Employees["Constantine"]]; c.Active {
			t.Fatalf("an employee that is no CRM user stays active: %v", c)
		}
		if names["John Constantine"] != 1 {
			t.Fatalf("the CRM's John Constantine: %v", names)
		}
		d := Route(t, admin, co.Channels["WhatsApp Sales"], Phone(1), "hello")
		if d.Client.ResponsibleEmployeeId != co.Employees["Bruce Wayne"] {
			t.Fatalf("Bruce kept his channel? the new client went to %s (%v)", d.Client.ResponsibleEmployeeId, res.Refresh.Changes)
		}
	})
}
