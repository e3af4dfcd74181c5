package supervise_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/supervise"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestAssignmentHistory: distribution, claims, transfers by an API key and
// by a manager, and settings edits are each recorded with what made them;
// the list filters by client, employee and time, pages, and stays within
// the account.
func TestAssignmentHistory(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		sales, support := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		bruce, scrooge, tony := co.Employees["Bruce Wayne"], co.Employees["Scrooge McDuck"], co.Employees["Tony Stark"]
		start := time.Now()

		d1 := Route(t, admin, sales, Phone(1), "one") // distributed: Bruce
		Route(t, admin, sales, Phone(1), "again")     // kept: no entry
		d2 := Route(t, admin, support, Phone(2), "two")
		Must[*pb.RouteOutgoingMessageResponse](t)(admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{
			EmployeeId: tony, Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d2.Chat.Id}, Content: &pb.MessageContent{Text: "mine"}}))
		Must[*pb.AssignResponsibleResponse](t)(admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: d1.Chat.Id, EmployeeId: scrooge}))
		key := Must[*pb.CreateApiKeyResponse](t)(admin.Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "ops robot"}))
		robot := env.Clients(key.Secret, client.Connect)
		UpdateSettings(t, robot, func(s *pb.IntegrationSettings) {
			s.Account.GlobalChatVisibility = pb.GlobalChatVisibility_GLOBAL_CHAT_VISIBILITY_ALL
			cs := ChannelSettings(s, sales)
			cs.Members = slices.DeleteFunc(cs.Members, func(m *pb.ChannelMember) bool { return m.EmployeeId == co.Employees["Diana Prince"] })
		})
		UpdateSettings(t, robot, func(s *pb.IntegrationSettings) {}) // nothing access-relevant: no entry

		for _, p := range Protocols {
			c := env.Clients(env.AdminKey, p)
			all := Must[*pb.ListAssignmentHistoryResponse](t)(c.Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{
				StartTime: timestamppb.New(start)})).Events
			var causes []string
			for _, e := range all {
				causes = append(causes, strings.TrimPrefix(e.Cause.String(), "ASSIGNMENT_CAUSE_"))
			}
			if want := []string{"SETTINGS_EDIT", "TRANSFER", "CLAIM", "DISTRIBUTION"}; !slices.Equal(causes, want) {
				t.Fatalf("%s: history %v, want %v (newest first)", p, causes, want)
			}
			edit, transfer, claim, dist := all[0], all[1], all[2], all[3]
			if edit.Actor.Kind != pb.ActorKind_ACTOR_KIND_API_KEY || edit.Actor.Name != "ops robot" || edit.Actor.Id != key.ApiKey.Id ||
				!slices.ContainsFunc(edit.Changes, func(s string) bool { return strings.Contains(s, "Diana Prince removed") }) ||
				!slices.Contains(edit.Changes, "global chat visibility OWN → ALL") {
				t.Fatalf("%s: settings edit %v", p, edit)
			}
			if strings.Contains(edit.String(), key.Secret) {
				t.Fatalf("%s: the history shows a key's secret", p)
			}
			if transfer.FromEmployeeId != bruce || transfer.ToEmployeeId != scrooge || transfer.ClientId != d1.Client.Id ||
				transfer.Actor.Kind != pb.ActorKind_ACTOR_KIND_API_KEY || transfer.ChannelId != sales {
				t.Fatalf("%s: transfer %v", p, transfer)
			}
			if claim.FromEmployeeId != "" || claim.ToEmployeeId != tony || claim.Actor.Kind != pb.ActorKind_ACTOR_KIND_EMPLOYEE ||
				claim.Actor.Name != "Tony Stark" || claim.ChannelId != support {
				t.Fatalf("%s: claim %v", p, claim)
			}
			if dist.ToEmployeeId != bruce || dist.DistributionMode != pb.DistributionMode_DISTRIBUTION_MODE_WEIGHTED ||
				dist.Position != 1 || dist.Actor.Kind != pb.ActorKind_ACTOR_KIND_SYSTEM || dist.Explanation == "" {
				t.Fatalf("%s: distribution %v", p, dist)
			}
			// Filters.
			one := Must[*pb.ListAssignmentHistoryResponse](t)(c.Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{
				ClientId: d1.Client.Id})).Events
			if len(one) != 2 || one[0].Id != transfer.Id || one[1].Id != dist.Id {
				t.Fatalf("%s: client's history %v", p, one)
			}
			bru := Must[*pb.ListAssignmentHistoryResponse](t)(c.Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{
				EmployeeId: bruce, StartTime: timestamppb.New(start)})).Events
			if len(bru) != 2 {
				t.Fatalf("%s: Bruce's history %v", p, bru)
			}
			none := Must[*pb.ListAssignmentHistoryResponse](t)(c.Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{
				StartTime: timestamppb.New(start), EndTime: timestamppb.New(dist.CreateTime.AsTime())})).Events
			if len(none) != 0 {
				t.Fatalf("%s: before the first change %v", p, none)
			}
			// Pages of one, with an opaque token, cover the same entries.
			var paged []string
			req := &pb.ListAssignmentHistoryRequest{StartTime: timestamppb.New(start), PageSize: 1}
			for {
				page := Must[*pb.ListAssignmentHistoryResponse](t)(c.Supervision.ListAssignmentHistory(ctx, req))
				for _, e := range page.Events {
					paged = append(paged, e.Id)
				}
				if page.NextPageToken == "" {
					break
				}
				req.PageToken = page.NextPageToken
			}
			if len(paged) != len(all) || paged[0] != all[0].Id || paged[3] != all[3].Id {
				t.Fatalf("%s: paged %v", p, paged)
			}
			// Bad input.
			_, err := c.Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{PageToken: "nope", PageSize: 501})
			WantViolations(t, err, "page_size", "page_token")
			_, err = c.Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{
				StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(-time.Hour))})
			WantViolations(t, err, "end_time")
			// Employee tokens cannot read it.
			_, err = env.Clients(co.Token, p).Supervision.ListAssignmentHistory(ctx, &pb.ListAssignmentHistoryRequest{})
			WantCode(t, err, connect.CodePermissionDenied)
		}
		// Another account sees none of it.
		_, other := env.NewAccount("Other")
		got := Must[*pb.ListAssignmentHistoryResponse](t)(env.Clients(other, client.GRPC).Supervision.ListAssignmentHistory(ctx,
			&pb.ListAssignmentHistoryRequest{})).Events
		if len(got) != 0 {
			t.Fatalf("another account reads %v", got)
		}
	})
}

// TestPruneHistory: entries older than the retention go, on every
// account; newer ones stay.
func TestPruneHistory(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		Route(t, admin, co.Channels["WhatsApp Sales"], Phone(1), "one")
		Route(t, admin, co.Channels["WhatsApp Sales"], Phone(2), "two")
		sys := tenant.System(ctx)
		n := Must[int](t)(env.Store.Ent.AssignmentEvent.Query().Count(sys))
		if n < 3 {
			t.Fatalf("%d entries", n)
		}
		old := Must[*ent.AssignmentEvent](t)(env.Store.Ent.AssignmentEvent.Query().Order(ent.Asc("id")).First(sys))
		Must[sql.Result](t)(env.Store.Ent.ExecContext(sys, "UPDATE assignment_events SET created_at = $1 WHERE id = $2",
			time.Now().Add(-48*time.Hour), old.ID))
		if got := Must[int](t)(supervise.PruneHistory(sys, env.Store.Ent, time.Now().Add(-24*time.Hour))); got != 1 {
			t.Fatalf("pruned %d", got)
		}
		if left := Must[int](t)(env.Store.Ent.AssignmentEvent.Query().Count(sys)); left != n-1 {
			t.Fatalf("%d left of %d", left, n)
		}
	})
}

// TestDeactivationInHistory: deactivating an employee is an access change
// the history records, once.
func TestDeactivationInHistory(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		start := time.Now()
		diana := co.Employees["Diana Prince"]
		for i := 0; i < 2; i++ { // the second changes nothing
			Must[*pb.DeactivateEmployeeResponse](t)(admin.Directory.DeactivateEmployee(ctx, &pb.DeactivateEmployeeRequest{EmployeeId: diana}))
		}
		got := Must[*pb.ListAssignmentHistoryResponse](t)(admin.Supervision.ListAssignmentHistory(ctx,
			&pb.ListAssignmentHistoryRequest{StartTime: timestamppb.New(start)})).Events
		if len(got) != 1 || got[0].Cause != pb.AssignmentCause_ASSIGNMENT_CAUSE_SETTINGS_EDIT ||
			got[0].Changes[0] != "Diana Prince deactivated: sees and writes no chat" || got[0].Actor.Kind != pb.ActorKind_ACTOR_KIND_API_KEY {
			t.Fatalf("history %v", got)
		}
	})
}
