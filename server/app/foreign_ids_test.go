package app_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// notIDs are string fields named like ids that name nothing stored here.
var notIDs = map[string]bool{"external_id": true, "crm_user_id": true, "gateway_message_id": true}

// outputOnly are id fields of a request's documents that the server ignores.
var outputOnly = map[string]bool{"settings.channels.channel.id": true}

// idPaths lists the fields of a request message, nested ones as
// "a.b.c", that name a stored thing by id.
func idPaths(md protoreflect.MessageDescriptor, prefix string, depth int) []string {
	var out []string
	fs := md.Fields()
	for i := range fs.Len() {
		f := fs.Get(i)
		name := string(f.Name())
		switch {
		case f.Kind() == protoreflect.StringKind && !notIDs[name] &&
			(name == "id" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ids")):
			if !outputOnly[prefix+name] {
				out = append(out, prefix+name)
			}
		case f.Kind() == protoreflect.MessageKind && !f.IsMap() && depth < 8 &&
			!strings.HasPrefix(string(f.Message().FullName()), "google."):
			out = append(out, idPaths(f.Message(), prefix+name+".", depth+1)...)
		}
	}
	return out
}

// rpcs lists every RPC of the API.
func rpcs(t *testing.T) []protoreflect.MethodDescriptor {
	t.Helper()
	var out []protoreflect.MethodDescriptor
	protoregistry.GlobalFiles.RangeFilesByPackage("switchboard.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			s := fd.Services().Get(i)
			for j := range s.Methods().Len() {
				out = append(out, s.Methods().Get(j))
			}
		}
		return true
	})
	if len(out) == 0 {
		t.Fatal("no RPCs found in package switchboard.v1")
	}
	return out
}

// kindOf is the kind of thing an id field names, one of kinds: the longest
// that ends the field's name without its "_id" or "_ids"
// ("acting_employee_id" and "chat_admin_employee_ids" name an employee).
func kindOf(field string, kinds map[string]string) string {
	field = field[strings.LastIndex(field, ".")+1:]
	if k, ok := strings.CutSuffix(field, "_ids"); ok {
		field = k
	} else {
		field = strings.TrimSuffix(field, "_id")
	}
	best := ""
	for k := range kinds {
		if (field == k || strings.HasSuffix(field, "_"+k)) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		return field
	}
	return best
}

// call invokes the RPC md on c with req, reading a server stream until its
// first error.
func call(ctx context.Context, c *client.Clients, md protoreflect.MethodDescriptor, req proto.Message) error {
	svc := reflect.ValueOf(c).Elem().FieldByName(strings.TrimSuffix(string(md.Parent().Name()), "Service"))
	if !svc.IsValid() {
		return fmt.Errorf("no client for %s", md.Parent().FullName())
	}
	m := svc.MethodByName(string(md.Name()))
	if !m.IsValid() {
		return fmt.Errorf("no client method for %s", md.FullName())
	}
	res := m.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(req)})
	if err, _ := res[1].Interface().(error); err != nil {
		return err
	}
	if !md.IsStreamingServer() {
		return nil
	}
	stream := res[0]
	defer stream.MethodByName("Close").Call(nil)
	for stream.MethodByName("Receive").Call(nil)[0].Bool() {
	}
	err, _ := stream.MethodByName("Err").Call(nil)[0].Interface().(error)
	return err
}

// notFoundField is the request field a NOT_FOUND answer names in its
// google.rpc.ResourceInfo detail ("" when none).
func notFoundField(err error) string {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return ""
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if ri, ok := v.(*errdetails.ResourceInfo); ok {
				field, _, _ := strings.Cut(ri.Description, ":")
				return field
			}
		}
	}
	return ""
}

// resolvedByIDs are the services whose handlers resolve ids with
// ids.Resolve, whose NOT_FOUND names the request field.
var resolvedByIDs = []string{"AccountService", "DirectoryService", "IntegrationService"}

type idleArgs struct{ outbox.Account }

func (idleArgs) Kind() string { return "app_test_idle" }

type idle struct{ river.WorkerDefaults[idleArgs] }

func (idle) Work(context.Context, *river.Job[idleArgs]) error { return nil }

// TestForeignIDs: SPEC §9 — for every RPC, every id field of its request
// (found by walking the request's descriptor, so a new RPC or field
// without a case here fails) given another account's id answers exactly
// as a missing id: NOT_FOUND, or for a reference inside a settings
// document INVALID_ARGUMENT naming it. The other account is unchanged.
func TestForeignIDs(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{Configure: func(o *app.Options) {
			o.Outbox.Register = func(ws *river.Workers) { river.AddWorker(ws, idle{}) }
		}})
		ctx := context.Background()

		// The victim: the env's account, with one of everything.
		victim := env.Demo()
		va := env.Admin()
		tok, err := va.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: victim.Employees["Tony Stark"], Name: "x"})
		NoErr(t, err)
		key, err := va.Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "gateway"})
		NoErr(t, err)
		routed := Route(t, va, victim.Channels["WhatsApp Sales"], Phone(1), "private")
		vcat, err := va.Directory.ListPipelines(ctx, &pb.ListPipelinesRequest{})
		NoErr(t, err)
		status, err := va.Directory.CreateLeadStatus(ctx, &pb.CreateLeadStatusRequest{Name: "New"})
		NoErr(t, err)
		vctx := tenant.NewContext(ctx, env.AccountID)
		var job int64
		NoErr(t, env.Store.Tx(vctx, func(tx *ent.Tx) error {
			job, err = env.Server.App.Outbox().Enqueue(vctx, tx, idleArgs{outbox.Account{AccountID: env.AccountID}},
				&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
			return err
		}))
		foreign := map[string]string{
			"employee":       victim.Employees["Bruce Wayne"],
			"channel":        victim.Channels["WhatsApp Sales"],
			"chat":           routed.Chat.Id,
			"client":         routed.Client.Id,
			"deal":           routed.Deal.Id,
			"api_key":        key.ApiKey.Id,
			"employee_token": tok.EmployeeToken.Id,
			"item":           ids.Format(job),
			"pipeline":       vcat.Pipelines[0].Id,
			"stage":          vcat.Pipelines[0].Stages[0].Id,
			"lead_status":    status.LeadStatus.Id,
		}

		// The intruder: another account with its own company.
		otherID, otherKey := env.NewAccount("Intruder")
		own := env.DemoIn(otherID)
		mine := Route(t, env.Clients(otherKey, client.Connect), own.Channels["WhatsApp Sales"], Phone(2), "mine")
		ownEmp, ownCh := own.Employees["Bruce Wayne"], own.Channels["WhatsApp Sales"]
		name := "pwned"
		text := &pb.MessageContent{Text: "x"}
		before := snapshot(t, va)

		// cases gives, for "Method field", the request the foreign id is
		// put into: valid but for that field, with the intruder's own ids.
		type base func() proto.Message
		cases := map[string]base{
			"RevokeApiKey api_key_id":               func() proto.Message { return &pb.RevokeApiKeyRequest{} },
			"UpdateApiKey api_key_id":               func() proto.Message { return &pb.UpdateApiKeyRequest{Name: &name} },
			"CreateEmployeeToken employee_id":       func() proto.Message { return &pb.CreateEmployeeTokenRequest{Name: "x"} },
			"ListEmployeeTokens employee_id":        func() proto.Message { return &pb.ListEmployeeTokensRequest{} },
			"RevokeEmployeeToken employee_token_id": func() proto.Message { return &pb.RevokeEmployeeTokenRequest{} },
			"UpdateChannel channel_id":              func() proto.Message { return &pb.UpdateChannelRequest{Name: &name} },
			"UpdateEmployee employee_id":            func() proto.Message { return &pb.UpdateEmployeeRequest{Name: &name} },
			"DeactivateEmployee employee_id":        func() proto.Message { return &pb.DeactivateEmployeeRequest{} },
			"ReactivateEmployee employee_id":        func() proto.Message { return &pb.ReactivateEmployeeRequest{} },
			"SetChannelAccess employee_ids": func() proto.Message {
				return &pb.SetChannelAccessRequest{AllChannels: true, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS}
			},
			"SetChannelAccess channel_ids": func() proto.Message {
				return &pb.SetChannelAccessRequest{AllEmployees: true, Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS}
			},
			"SetDefaultOutgoingChannel employee_id": func() proto.Message { return &pb.SetDefaultOutgoingChannelRequest{} },
			"SetDefaultOutgoingChannel channel_id":  func() proto.Message { return &pb.SetDefaultOutgoingChannelRequest{EmployeeId: ownEmp} },
			"SetPresence employee_id": func() proto.Message {
				return &pb.SetPresenceRequest{Presence: pb.Presence_PRESENCE_AWAY}
			},
			"Subscribe employee_id":         func() proto.Message { return &pb.SubscribeRequest{} },
			"ListNotifications employee_id": func() proto.Message { return &pb.ListNotificationsRequest{} },
			"RouteIncomingMessage channel_id": func() proto.Message {
				return &pb.RouteIncomingMessageRequest{Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(3)},
					Content: text, GatewayMessageId: GatewayID()}
			},
			"RouteOutgoingMessage employee_id": func() proto.Message {
				return &pb.RouteOutgoingMessageRequest{Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: mine.Chat.Id}, Content: text}
			},
			"RouteOutgoingMessage chat_id":   func() proto.Message { return &pb.RouteOutgoingMessageRequest{EmployeeId: ownEmp, Content: text} },
			"RouteOutgoingMessage client_id": func() proto.Message { return &pb.RouteOutgoingMessageRequest{EmployeeId: ownEmp, Content: text} },
			"RouteOutgoingMessage channel_id": func() proto.Message {
				return &pb.RouteOutgoingMessageRequest{EmployeeId: ownEmp, Target: &pb.RouteOutgoingMessageRequest_ClientId{ClientId: mine.Client.Id}, Content: text}
			},
			"CheckAccess employee_id": func() proto.Message { return &pb.CheckAccessRequest{ChatId: mine.Chat.Id} },
			"CheckAccess chat_id":     func() proto.Message { return &pb.CheckAccessRequest{EmployeeId: ownEmp} },
			"CheckAccess channel_id":  func() proto.Message { return &pb.CheckAccessRequest{EmployeeId: ownEmp, ClientId: mine.Client.Id} },
			"CheckAccess client_id":   func() proto.Message { return &pb.CheckAccessRequest{EmployeeId: ownEmp, ChannelId: ownCh} },
			"ListVisibleChats employee_id": func() proto.Message {
				return &pb.ListVisibleChatsRequest{}
			},
			"ListVisibleChats channel_id":  func() proto.Message { return &pb.ListVisibleChatsRequest{EmployeeId: ownEmp} },
			"ListChatMessages chat_id":     func() proto.Message { return &pb.ListChatMessagesRequest{} },
			"ListChatMessages employee_id": func() proto.Message { return &pb.ListChatMessagesRequest{ChatId: mine.Chat.Id} },
			"AssignResponsible chat_id":    func() proto.Message { return &pb.AssignResponsibleRequest{EmployeeId: ownEmp} },
			"AssignResponsible employee_id": func() proto.Message {
				return &pb.AssignResponsibleRequest{ChatId: mine.Chat.Id}
			},
			"AssignResponsible acting_employee_id": func() proto.Message {
				return &pb.AssignResponsibleRequest{ChatId: mine.Chat.Id, EmployeeId: ownEmp}
			},
			"CloseDeal deal_id": func() proto.Message { return &pb.CloseDealRequest{Outcome: pb.DealOutcome_DEAL_OUTCOME_LOST} },
			"CloseDeal acting_employee_id": func() proto.Message {
				return &pb.CloseDealRequest{DealId: mine.Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_LOST}
			},
			"ListClientFeed client_id":          func() proto.Message { return &pb.ListClientFeedRequest{} },
			"RetryCrmSync item_id":              func() proto.Message { return &pb.RetryCrmSyncRequest{} },
			"GetUnansweredCounters employee_id": func() proto.Message { return &pb.GetUnansweredCountersRequest{} },
			"ListAssignmentHistory client_id":   func() proto.Message { return &pb.ListAssignmentHistoryRequest{} },
			"ListAssignmentHistory employee_id": func() proto.Message { return &pb.ListAssignmentHistoryRequest{} },
		}

		// documents gives, for an id inside a settings document, where to
		// put the foreign id in the intruder's own settings, and the
		// violation that must name it.
		documents := map[string]func(s *pb.IntegrationSettings, id string) string{
			"UpdateIntegrationSettings settings.channels.channel_id": func(s *pb.IntegrationSettings, id string) string {
				s.Channels = append(s.Channels, &pb.ChannelSettings{ChannelId: id})
				return fmt.Sprintf("settings.channels[%d].channel_id", len(s.Channels)-1)
			},
			"UpdateIntegrationSettings settings.channels.members.employee_id": func(s *pb.IntegrationSettings, id string) string {
				s.Channels[0].Members = append(s.Channels[0].Members, &pb.ChannelMember{EmployeeId: id})
				return fmt.Sprintf("settings.channels[0].members[%d].employee_id", len(s.Channels[0].Members)-1)
			},
			"UpdateIntegrationSettings settings.channels.new_client_entity.deal.pipeline_id": func(s *pb.IntegrationSettings, id string) string {
				s.Channels[0].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{PipelineId: id}}}
				return "settings.channels[0].new_client_entity.deal.pipeline_id"
			},
			"UpdateIntegrationSettings settings.channels.new_client_entity.deal.stage_id": func(s *pb.IntegrationSettings, id string) string {
				s.Channels[0].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{PipelineId: ownPipeline(t, env, otherKey), StageId: id}}}
				return "settings.channels[0].new_client_entity.deal.stage_id"
			},
			"UpdateIntegrationSettings settings.channels.new_client_entity.lead.lead_status_id": func(s *pb.IntegrationSettings, id string) string {
				s.Channels[0].NewClientEntity = &pb.NewClientEntity{Entity: &pb.NewClientEntity_Lead{Lead: &pb.LeadTarget{LeadStatusId: id}}}
				return "settings.channels[0].new_client_entity.lead.lead_status_id"
			},
			"UpdateIntegrationSettings settings.account.chat_admin_employee_ids": func(s *pb.IntegrationSettings, id string) string {
				s.Account.ChatAdminEmployeeIds = append(s.Account.ChatAdminEmployeeIds, id)
				return fmt.Sprintf("settings.account.chat_admin_employee_ids[%d]", len(s.Account.ChatAdminEmployeeIds)-1)
			},
			"UpdateIntegrationSettings settings.account.default_outgoing_channels.employee_id": func(s *pb.IntegrationSettings, id string) string {
				s.Account.DefaultOutgoingChannels = []*pb.DefaultOutgoingChannel{{EmployeeId: id, ChannelId: ownCh}}
				return "settings.account.default_outgoing_channels[0].employee_id"
			},
			"UpdateIntegrationSettings settings.account.working_hours.employee_id": func(s *pb.IntegrationSettings, id string) string {
				s.Account.WorkingHours = []*pb.WorkingHours{{EmployeeId: id}}
				return "settings.account.working_hours[0].employee_id"
			},
			"UpdateIntegrationSettings settings.account.default_outgoing_channels.channel_id": func(s *pb.IntegrationSettings, id string) string {
				s.Account.DefaultOutgoingChannels = []*pb.DefaultOutgoingChannel{{EmployeeId: ownEmp, ChannelId: id}}
				return "settings.account.default_outgoing_channels[0].channel_id"
			},
		}

		// An employee token acts only as its own employee: another id there
		// is refused, whether it exists elsewhere or nowhere. (An account
		// API key's acting_employee_id is ignored by the contract.)
		acting := map[string]bool{"AssignResponsible acting_employee_id": true, "CloseDeal acting_employee_id": true}

		const missing = "987654321"
		covered := 0
		for _, md := range rpcs(t) {
			for _, path := range idPaths(md.Input(), "", 0) {
				key := string(md.Name()) + " " + path
				id, ok := foreign[kindOf(path, foreign)]
				if !ok {
					t.Errorf("%s names a %q: give the victim one in foreign", key, kindOf(path, foreign))
					continue
				}
				for _, p := range Protocols {
					in := env.Clients(otherKey, p)
					name := p.String() + "/" + key
					// A preview checks its proposal as a save does.
					preview := md.Name() == "PreviewSettings"
					docKey := key
					if preview {
						docKey = "UpdateIntegrationSettings " + path
					}
					if doc, ok := documents[docKey]; ok {
						t.Run(name, func(t *testing.T) {
							s, err := in.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
							NoErr(t, err)
							field := doc(s.Settings, id)
							if preview {
								_, err = in.Supervision.PreviewSettings(ctx, &pb.PreviewSettingsRequest{Settings: s.Settings})
							} else {
								_, err = in.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s.Settings})
							}
							WantViolations(t, err, field)
						})
						covered++
						continue
					}
					mk, ok := cases[key]
					if !ok {
						t.Errorf("%s takes an id and has no case here: add one", key)
						break
					}
					as, code := in, connect.CodeNotFound
					if acting[key] {
						as, code = env.Clients(own.Token, p), connect.CodePermissionDenied
					}
					t.Run(name, func(t *testing.T) {
						send := func(id string) error {
							req := mk()
							if req.ProtoReflect().Descriptor() != md.Input() {
								t.Fatalf("the case's request is a %s, want a %s", req.ProtoReflect().Descriptor().FullName(), md.Input().FullName())
							}
							f := md.Input().Fields().ByName(protoreflect.Name(path))
							m := req.ProtoReflect()
							if f.IsList() {
								l := m.NewField(f).List()
								l.Append(protoreflect.ValueOfString(id))
								m.Set(f, protoreflect.ValueOfList(l))
							} else {
								m.Set(f, protoreflect.ValueOfString(id))
							}
							cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
							defer cancel()
							return call(cctx, as, md, req)
						}
						// The same answer as for an id that exists nowhere.
						err, none := send(id), send(missing)
						WantCode(t, err, code)
						WantCode(t, none, code)
						if code != connect.CodeNotFound || !slices.Contains(resolvedByIDs, string(md.Parent().Name())) {
							return
						}
						want := path
						if md.Input().Fields().ByName(protoreflect.Name(path)).IsList() {
							want += "[0]"
						}
						if got, gotNone := notFoundField(err), notFoundField(none); got != want || gotNone != want {
							t.Errorf("NOT_FOUND names fields %q and %q, want %q", got, gotNone, want)
						}
					})
					covered++
				}
			}
		}
		if covered == 0 {
			t.Fatal("no id fields found")
		}

		if after := snapshot(t, va); !slices.EqualFunc(before, after, proto.Equal) {
			t.Fatal("the victim's data changed")
		}
		if _, err := env.Clients(key.Secret, client.Connect).Account.GetAccount(ctx, &pb.GetAccountRequest{}); err != nil {
			t.Fatalf("victim key: %v", err)
		}
		if _, err := env.Clients(tok.Secret, client.Connect).Account.GetAccount(ctx, &pb.GetAccountRequest{}); err != nil {
			t.Fatalf("victim token: %v", err)
		}
	})
}

// ownPipeline is the first pipeline of the account key belongs to.
func ownPipeline(t *testing.T, env *Env, key string) string {
	t.Helper()
	c, err := env.Clients(key, client.Connect).Directory.ListPipelines(context.Background(), &pb.ListPipelinesRequest{})
	NoErr(t, err)
	if len(c.Pipelines) == 0 {
		t.Fatal("the account has no pipeline")
	}
	return c.Pipelines[0].Id
}
