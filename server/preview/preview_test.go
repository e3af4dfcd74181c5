package preview_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

var ctx = context.Background()

// randomSettings changes every access-relevant setting of s at random.
func randomSettings(rnd *rand.Rand, s *pb.IntegrationSettings, employees []string) {
	roles := []pb.EmployeeRole{Rep, pb.EmployeeRole_EMPLOYEE_ROLE_MANAGER, pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL}
	modes := []pb.DistributionMode{pb.DistributionMode_DISTRIBUTION_MODE_ROUND_ROBIN, pb.DistributionMode_DISTRIBUTION_MODE_WEIGHTED,
		pb.DistributionMode_DISTRIBUTION_MODE_FIRST_RESPONDER}
	for _, cs := range s.Channels {
		cs.Distribution = modes[rnd.IntN(len(modes))]
		cs.Members = nil
		for _, i := range rnd.Perm(len(employees))[:rnd.IntN(len(employees)+1)] {
			role := roles[rnd.IntN(3)]
			rw := role != pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL && rnd.IntN(4) > 0
			cs.Members = append(cs.Members, Member(employees[i], role, rw, rnd.IntN(3) > 0, int32(1+rnd.IntN(3))))
		}
	}
	a := s.Account
	a.GlobalChatVisibility = pb.GlobalChatVisibility(1 + rnd.IntN(3))
	a.NotifyManagersAllMessages = rnd.IntN(2) == 0
	a.ChatAdminEmployeeIds = nil
	for _, i := range rnd.Perm(len(employees))[:rnd.IntN(3)] {
		a.ChatAdminEmployeeIds = append(a.ChatAdminEmployeeIds, employees[i])
	}
	a.DefaultOutgoingChannels = nil
}

func level(d *pb.AccessDecision) pb.AccessLevel {
	switch {
	case d.CanWrite:
		return pb.AccessLevel_ACCESS_LEVEL_WRITE
	case d.CanView:
		return pb.AccessLevel_ACCESS_LEVEL_VIEW
	}
	return pb.AccessLevel_ACCESS_LEVEL_NONE
}

// TestPreviewAgreesWithRouting: for 100 random settings, the preview's
// access changes on sampled recent chats are what CheckAccess answers
// before and after saving them for real, and its next new clients of each
// channel are whom routing then gives them to; the preview itself changes
// nothing.
func TestPreviewAgreesWithRouting(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Clients(env.AdminKey, client.GRPC)
		var employees []string
		for _, id := range co.Employees {
			employees = append(employees, id)
		}
		slices.Sort(employees)
		channels := []string{co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]}
		phone := 0
		var chats []*pb.Chat
		for i := 0; i < 10; i++ { // some history to look at
			phone++
			chats = append(chats, Route(t, admin, channels[i%2], Phone(phone), "hello").Chat)
		}
		rnd := rand.New(rand.NewPCG(1, 2))
		const k = 3
		invalid := 0
		for round := 0; round < 100; round++ {
			cur := Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
			proposed := proto.Clone(cur).(*pb.IntegrationSettings)
			randomSettings(rnd, proposed, employees)
			prev, err := admin.Supervision.PreviewSettings(ctx, &pb.PreviewSettingsRequest{Settings: proposed, RecentChats: 1000, NextClients: k})
			if err != nil {
				// A proposal the preview refuses, a save refuses alike.
				_, serr := admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: proposed})
				if connect.CodeOf(err) != connect.CodeInvalidArgument || connect.CodeOf(serr) != connect.CodeInvalidArgument {
					t.Fatalf("round %d: preview %v, save %v", round, err, serr)
				}
				invalid++
				continue
			}
			if after := Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings; !proto.Equal(after, cur) {
				t.Fatalf("round %d: the preview changed the settings", round)
			}
			if int(prev.ChatsCompared) != len(chats) {
				t.Fatalf("round %d: compared %d chats of %d", round, prev.ChatsCompared, len(chats))
			}
			// Access on a sample of chats, for every employee, before and after.
			sample := make([]*pb.Chat, 0, 4)
			for _, i := range rnd.Perm(len(chats))[:4] {
				sample = append(sample, chats[i])
			}
			check := func() map[string]pb.AccessLevel {
				out := map[string]pb.AccessLevel{}
				for _, c := range sample {
					for _, e := range employees {
						res := Must[*pb.CheckAccessResponse](t)(admin.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: e, ChatId: c.Id}))
						out[c.Id+"/"+e] = level(res.Access)
					}
				}
				return out
			}
			before := check()
			Must[*pb.UpdateIntegrationSettingsResponse](t)(admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: proposed}))
			after := check()
			predicted := map[string]*pb.AccessChange{}
			for _, ch := range prev.AccessChanges {
				predicted[ch.ChatId+"/"+ch.EmployeeId] = ch
			}
			for key, b := range before {
				want := b
				if ch := predicted[key]; ch != nil {
					if ch.Before != b {
						t.Fatalf("round %d: %s was %v, the preview says %v", round, key, b, ch.Before)
					}
					want = ch.After
				}
				if after[key] != want {
					t.Fatalf("round %d: %s is %v after the save, the preview said %v", round, key, after[key], want)
				}
			}
			// The next new clients of each channel.
			for _, nc := range prev.NextClients {
				for i := 0; i < k; i++ {
					phone++
					d := Route(t, admin, nc.ChannelId, Phone(phone), fmt.Sprintf("new %d", phone))
					chats = append(chats, d.Chat)
					if got := d.Client.ResponsibleEmployeeId; got != nc.AfterEmployeeIds[i] {
						t.Fatalf("round %d: new client %d on %s went to %q, the preview said %q", round, i, nc.ChannelId, got, nc.AfterEmployeeIds[i])
					}
					if got := d.Assignment.CandidateEmployeeIds; !slices.Equal(got, nc.AfterCandidateIds) &&
						d.Assignment.Source == pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER {
						t.Fatalf("round %d: candidates %v, the preview said %v", round, got, nc.AfterCandidateIds)
					}
				}
			}
		}
		if invalid > 50 {
			t.Fatalf("%d of 100 random settings were invalid: the property barely ran", invalid)
		}
		t.Logf("%d invalid proposals", invalid)
	})
}

// TestPreviewInput: bad proposals are refused as a save refuses them, and
// employee tokens cannot preview; the changes come in words.
func TestPreviewInput(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		for _, p := range Protocols {
			admin := env.Clients(env.AdminKey, p)
			_, err := admin.Supervision.PreviewSettings(ctx, &pb.PreviewSettingsRequest{RecentChats: 1001, NextClients: -1})
			WantViolations(t, err, "settings", "recent_chats", "next_clients")
			cur := Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
			stale := proto.Clone(cur).(*pb.IntegrationSettings)
			stale.Revision--
			_, err = admin.Supervision.PreviewSettings(ctx, &pb.PreviewSettingsRequest{Settings: stale})
			WantCode(t, err, connect.CodeAborted)
			bad := proto.Clone(cur).(*pb.IntegrationSettings)
			ChannelSettings(bad, co.Channels["WhatsApp Sales"]).Members[0].Weight = 500
			_, err = admin.Supervision.PreviewSettings(ctx, &pb.PreviewSettingsRequest{Settings: bad})
			WantViolations(t, err, "settings.channels[0].members[0].weight")
			_, err = env.Clients(co.Token, p).Supervision.PreviewSettings(ctx, &pb.PreviewSettingsRequest{Settings: cur})
			WantCode(t, err, connect.CodePermissionDenied)
			good := proto.Clone(cur).(*pb.IntegrationSettings)
			cs := ChannelSettings(good, co.Channels["WhatsApp Sales"])
			cs.Members = slices.DeleteFunc(cs.Members, func(m *pb.ChannelMember) bool { return m.EmployeeId == co.Employees["Diana Prince"] })
			res := Must[*pb.PreviewSettingsResponse](t)(admin.Supervision.PreviewSettings(ctx, &pb.PreviewSettingsRequest{Settings: good}))
			if !slices.ContainsFunc(res.Changes, func(s string) bool {
				return s == "WhatsApp Sales: Diana Prince removed (was QUALITY CONTROL, READ ONLY)"
			}) {
				t.Fatalf("%s: changes %q", p, res.Changes)
			}
		}
	})
}
