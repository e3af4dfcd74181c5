package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// openAPIOperation is what the tests read of one operation of the
// committed OpenAPI document.
type openAPIOperation struct {
	Method, Path string
	OperationID  string `json:"operationId"`
	Parameters   []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
}

// openAPIOperations lists every operation of the document the server
// embeds and serves (gen/openapi/switchboard.swagger.json).
func openAPIOperations(t *testing.T) []openAPIOperation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]openAPIOperation `json:"paths"`
	}
	if err := json.Unmarshal(switchboard.OpenAPI, &doc); err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	var out []openAPIOperation
	for path, ops := range doc.Paths {
		for method, op := range ops {
			op.Method, op.Path = strings.ToUpper(method), path
			out = append(out, op)
		}
	}
	if len(out) == 0 {
		t.Fatal("the OpenAPI document lists no operation")
	}
	return out
}

// methodOf is the RPC an operation id ("RoutingService_CheckAccess") names.
func methodOf(t *testing.T, operationID string) protoreflect.MethodDescriptor {
	t.Helper()
	svc, name, _ := strings.Cut(operationID, "_")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName("switchboard.v1." + svc + "." + name))
	if err != nil {
		t.Fatalf("operation %s names no RPC: %v", operationID, err)
	}
	return d.(protoreflect.MethodDescriptor)
}

// restRequest builds op's HTTP request for the RPC request in, as the
// document describes it: path parameters, then query parameters, then the
// rest as the JSON body. A field of in the document has no place for fails
// the test.
func restRequest(t *testing.T, base, key string, op openAPIOperation, in proto.Message) *http.Request {
	t.Helper()
	raw, err := protojson.Marshal(in)
	NoErr(t, err)
	fields := map[string]any{}
	NoErr(t, json.Unmarshal(raw, &fields))
	path, query, hasBody := op.Path, url.Values{}, false
	for _, p := range op.Parameters {
		v, ok := fields[p.Name]
		switch p.In {
		case "path":
			if !ok {
				t.Fatalf("%s %s: the request has no %s for the path", op.Method, op.Path, p.Name)
			}
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(fmt.Sprint(v)))
		case "query":
			if !ok {
				continue
			}
			if list, isList := v.([]any); isList {
				for _, e := range list {
					query.Add(p.Name, fmt.Sprint(e))
				}
			} else {
				query.Set(p.Name, fmt.Sprint(v))
			}
		case "body":
			hasBody = true
			continue
		}
		delete(fields, p.Name)
	}
	var body io.Reader
	if hasBody {
		b, err := json.Marshal(fields)
		NoErr(t, err)
		body = bytes.NewReader(b)
	} else if len(fields) > 0 {
		t.Fatalf("%s %s: the document has no parameter for %v", op.Method, op.Path, fields)
	}
	u := base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(op.Method, u, body)
	NoErr(t, err)
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return req
}

// restAnswer is a REST call's outcome: the response message on 200, the
// google.rpc.Status otherwise.
type restAnswer struct {
	HTTPStatus int
	Response   proto.Message
	Status     *spb.Status
}

func callREST(t *testing.T, req *http.Request, md protoreflect.MethodDescriptor) restAnswer {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	NoErr(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	NoErr(t, err)
	out := restAnswer{HTTPStatus: res.StatusCode}
	if res.StatusCode == http.StatusOK {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
		NoErr(t, err)
		out.Response = mt.New().Interface()
		if err := protojson.Unmarshal(body, out.Response); err != nil {
			t.Fatalf("%s %s: 200 with a body that is not a %s: %v: %s", req.Method, req.URL, md.Output().Name(), err, body)
		}
		return out
	}
	out.Status = &spb.Status{}
	if err := protojson.Unmarshal(body, out.Status); err != nil {
		t.Fatalf("%s %s: %d with a body that is not a google.rpc.Status: %v: %s", req.Method, req.URL, res.StatusCode, err, body)
	}
	return out
}

// invoke calls md over Connect (or gRPC) and returns its response.
func invoke(ctx context.Context, c *client.Clients, md protoreflect.MethodDescriptor, in proto.Message) (proto.Message, error) {
	svc := reflect.ValueOf(c).Elem().FieldByName(strings.TrimSuffix(string(md.Parent().Name()), "Service"))
	res := svc.MethodByName(string(md.Name())).Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(in)})
	if err, _ := res[1].Interface().(error); err != nil {
		return nil, err
	}
	return res[0].Interface().(proto.Message), nil
}

// httpStatusOf is the HTTP status of a code on REST (google.rpc.Code's
// documented mapping).
var httpStatusOf = map[connect.Code]int{
	connect.CodeInvalidArgument: 400, connect.CodeFailedPrecondition: 400, connect.CodeOutOfRange: 400,
	connect.CodeUnauthenticated: 401, connect.CodePermissionDenied: 403, connect.CodeNotFound: 404,
	connect.CodeAlreadyExists: 409, connect.CodeAborted: 409, connect.CodeResourceExhausted: 429,
	connect.CodeUnimplemented: 501, connect.CodeUnavailable: 503, connect.CodeDeadlineExceeded: 504,
	connect.CodeInternal: 500, connect.CodeUnknown: 500, connect.CodeDataLoss: 500,
}

// readOnly says whether an RPC changes nothing (NO_SIDE_EFFECTS), so the
// same request may be sent twice and must get the same answer.
func readOnly(md protoreflect.MethodDescriptor) bool {
	opts, _ := md.Options().(*descriptorpb.MethodOptions)
	return opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS
}

// TestRESTServesEveryOperation calls every operation the committed OpenAPI
// document lists, as the document describes it, with valid requests built
// from the demo company, on a real server on every store. Each answers as
// its Connect call does: reads give the very same message; writes succeed
// and answer their response message; the two whose success needs a real
// CRM answer the Connect call's error with its HTTP status. A new RPC in
// the document without a case here fails.
func TestRESTServesEveryOperation(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{Configure: func(o *app.Options) {
			o.Outbox.Register = func(ws *river.Workers) { river.AddWorker(ws, idle{}) }
		}})
		ctx := context.Background()
		co := env.Demo()
		admin := env.Admin()
		bruce, tony := co.Employees["Bruce Wayne"], co.Employees["Tony Stark"]
		sales := co.Channels["WhatsApp Sales"]
		routed := Route(t, admin, sales, Phone(1), "Is the sofa still available?")
		responsible := routed.Assignment.GetResponsibleEmployeeId()
		apiKey, err := admin.Account.CreateApiKey(ctx, &pb.CreateApiKeyRequest{Name: "to revoke"})
		NoErr(t, err)
		token, err := admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: tony, Name: "to revoke"})
		NoErr(t, err)
		actx := tenant.NewContext(ctx, env.AccountID)
		var job int64
		NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
			job, err = env.Server.App.Outbox().Enqueue(actx, tx, idleArgs{outbox.Account{AccountID: env.AccountID}},
				&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
			return err
		}))
		renamed := "WhatsApp Sales (renamed)"
		text := &pb.MessageContent{Text: "Yes, it is."}

		// In the order they run: a case may rely on one before it.
		type restCase struct {
			rpc string
			req func() proto.Message
			// connectFirst: success needs what the test has not (a CRM, a
			// failed CRM write); the Connect call goes first and REST must
			// answer its error.
			connectFirst bool
			// scrub clears what differs between two reads (a time of
			// computing) before a read's answers are compared.
			scrub func(res proto.Message)
			check func(t *testing.T, res proto.Message)
		}
		cases := []restCase{
			{rpc: "GetAccount", req: func() proto.Message { return &pb.GetAccountRequest{} }},
			{rpc: "CreateApiKey", req: func() proto.Message { return &pb.CreateApiKeyRequest{Name: "rest"} },
				check: func(t *testing.T, res proto.Message) {
					if s := res.(*pb.CreateApiKeyResponse).Secret; !strings.HasPrefix(s, "sbk_") {
						t.Errorf("secret %q", s)
					}
				}},
			{rpc: "ListApiKeys", req: func() proto.Message { return &pb.ListApiKeysRequest{} }},
			{rpc: "UpdateApiKey", req: func() proto.Message {
				limit := uint32(1000)
				return &pb.UpdateApiKeyRequest{ApiKeyId: apiKey.ApiKey.Id, RateLimit: &limit}
			}, check: func(t *testing.T, res proto.Message) {
				if k := res.(*pb.UpdateApiKeyResponse).GetApiKey(); k.GetRateLimit() != 1000 {
					t.Errorf("key %v, want rate limit 1000", k)
				}
			}},
			{rpc: "RevokeApiKey", req: func() proto.Message { return &pb.RevokeApiKeyRequest{ApiKeyId: apiKey.ApiKey.Id} }},
			{rpc: "CreateEmployeeToken", req: func() proto.Message { return &pb.CreateEmployeeTokenRequest{EmployeeId: tony, Name: "rest"} }},
			{rpc: "ListEmployeeTokens", req: func() proto.Message { return &pb.ListEmployeeTokensRequest{EmployeeId: tony} }},
			{rpc: "RevokeEmployeeToken", req: func() proto.Message {
				return &pb.RevokeEmployeeTokenRequest{EmployeeTokenId: token.EmployeeToken.Id}
			}},
			{rpc: "ListChannels", req: func() proto.Message { return &pb.ListChannelsRequest{} },
				check: func(t *testing.T, res proto.Message) {
					if n := len(res.(*pb.ListChannelsResponse).Channels); n < 2 {
						t.Errorf("%d channels", n)
					}
				}},
			{rpc: "CreateChannel", req: func() proto.Message {
				return &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_TELEGRAM, Name: "REST channel"}
			}, check: func(t *testing.T, res proto.Message) {
				if c := res.(*pb.CreateChannelResponse).Channel; c.GetName() != "REST channel" || c.GetId() == "" {
					t.Errorf("created %v", c)
				}
			}},
			{rpc: "UpdateChannel", req: func() proto.Message { return &pb.UpdateChannelRequest{ChannelId: sales, Name: &renamed} },
				check: func(t *testing.T, res proto.Message) {
					if n := res.(*pb.UpdateChannelResponse).Channel.GetName(); n != renamed {
						t.Errorf("renamed to %q", n)
					}
				}},
			{rpc: "ListEmployees", req: func() proto.Message { return &pb.ListEmployeesRequest{IncludeDeactivated: true} },
				check: func(t *testing.T, res proto.Message) {
					if !slices.ContainsFunc(res.(*pb.ListEmployeesResponse).Employees, func(e *pb.Employee) bool { return e.Name == "Bruce Wayne" }) {
						t.Error("no Bruce Wayne")
					}
				}},
			{rpc: "CreateEmployee", req: func() proto.Message { return &pb.CreateEmployeeRequest{Name: "Diana Prince"} }},
			{rpc: "UpdateEmployee", req: func() proto.Message {
				email := "tony@example.com"
				return &pb.UpdateEmployeeRequest{EmployeeId: tony, Email: &email}
			}},
			{rpc: "DeactivateEmployee", req: func() proto.Message { return &pb.DeactivateEmployeeRequest{EmployeeId: tony} }},
			{rpc: "ReactivateEmployee", req: func() proto.Message { return &pb.ReactivateEmployeeRequest{EmployeeId: tony} }},
			{rpc: "ListPipelines", req: func() proto.Message { return &pb.ListPipelinesRequest{} }},
			{rpc: "CreatePipeline", req: func() proto.Message {
				return &pb.CreatePipelineRequest{Name: "Wholesale", StageNames: []string{"Quote", "Invoice"}}
			}},
			{rpc: "CreateLeadStatus", req: func() proto.Message { return &pb.CreateLeadStatusRequest{Name: "Hot"} }},
			{rpc: "SetChannelAccess", req: func() proto.Message {
				return &pb.SetChannelAccessRequest{EmployeeIds: []string{tony}, ChannelIds: []string{sales},
					Level: pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ_WRITE}
			}},
			{rpc: "SetDefaultOutgoingChannel", req: func() proto.Message {
				return &pb.SetDefaultOutgoingChannelRequest{EmployeeId: bruce, ChannelId: sales}
			}},
			{rpc: "SetPresence", req: func() proto.Message {
				return &pb.SetPresenceRequest{EmployeeId: tony, Presence: pb.Presence_PRESENCE_AWAY}
			}, check: func(t *testing.T, res proto.Message) {
				if e := res.(*pb.SetPresenceResponse).GetEmployee(); e.GetPresence() != pb.Presence_PRESENCE_AWAY {
					t.Errorf("employee %v, want AWAY", e)
				}
			}},
			{rpc: "GetIntegrationSettings", req: func() proto.Message { return &pb.GetIntegrationSettingsRequest{} }},
			{rpc: "UpdateIntegrationSettings", req: func() proto.Message {
				settings, err := admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
				NoErr(t, err)
				return &pb.UpdateIntegrationSettingsRequest{Settings: settings.Settings, ValidateOnly: true}
			}},
			{rpc: "PreviewSettings", req: func() proto.Message {
				settings, err := admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
				NoErr(t, err)
				return &pb.PreviewSettingsRequest{Settings: settings.Settings}
			}},
			{rpc: "ConnectCrm", connectFirst: true, req: func() proto.Message {
				return &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_AMOCRM, BaseUrl: "https://example.amocrm.ru", Token: "x"}
			}},
			{rpc: "ListClientFeed", req: func() proto.Message { return &pb.ListClientFeedRequest{ClientId: routed.Client.Id} }},
			{rpc: "GetCrmSyncState", req: func() proto.Message { return &pb.GetCrmSyncStateRequest{PageSize: 10} }},
			{rpc: "RetryCrmSync", connectFirst: true, req: func() proto.Message { return &pb.RetryCrmSyncRequest{ItemId: ids.Format(job)} }},
			{rpc: "RefreshFromCrm", req: func() proto.Message { return &pb.RefreshFromCrmRequest{} }},
			{rpc: "SendTestMessage", req: func() proto.Message { return &pb.SendTestMessageRequest{Text: "hello"} }},
			{rpc: "RemoveTestClient", req: func() proto.Message { return &pb.RemoveTestClientRequest{} }},
			{rpc: "RouteIncomingMessage", req: func() proto.Message {
				return &pb.RouteIncomingMessageRequest{ChannelId: sales, Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(2)},
					SenderName: "Anna", Content: &pb.MessageContent{Text: "Hello"}, GatewayMessageId: GatewayID()}
			}, check: func(t *testing.T, res proto.Message) {
				d := res.(*pb.RouteIncomingMessageResponse).Decision
				if d.GetChat().GetId() == "" || d.GetClient().GetName() != "Anna" || len(d.GetNotifications()) == 0 {
					t.Errorf("decision %v", d)
				}
			}},
			{rpc: "RouteOutgoingMessage", req: func() proto.Message {
				return &pb.RouteOutgoingMessageRequest{EmployeeId: responsible,
					Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: routed.Chat.Id}, Content: text, GatewayMessageId: GatewayID()}
			}},
			{rpc: "CheckAccess", req: func() proto.Message { return &pb.CheckAccessRequest{EmployeeId: responsible, ChatId: routed.Chat.Id} },
				check: func(t *testing.T, res proto.Message) {
					if a := res.(*pb.CheckAccessResponse).GetAccess(); !a.GetCanView() || !a.GetCanWrite() {
						t.Errorf("the responsible's access %v", a)
					}
				}},
			{rpc: "ListVisibleChats", req: func() proto.Message { return &pb.ListVisibleChatsRequest{EmployeeId: responsible, PageSize: 10} }},
			{rpc: "ListChatMessages", req: func() proto.Message {
				return &pb.ListChatMessagesRequest{ChatId: routed.Chat.Id, EmployeeId: responsible, PageSize: 10}
			}, check: func(t *testing.T, res proto.Message) {
				if n := len(res.(*pb.ListChatMessagesResponse).Messages); n != 2 {
					t.Errorf("%d messages, want the client's and the reply", n)
				}
			}},
			{rpc: "AssignResponsible", req: func() proto.Message {
				return &pb.AssignResponsibleRequest{ChatId: routed.Chat.Id, EmployeeId: responsible}
			}},
			{rpc: "ListNotifications", req: func() proto.Message { return &pb.ListNotificationsRequest{EmployeeId: responsible} },
				check: func(t *testing.T, res proto.Message) {
					if !slices.ContainsFunc(res.(*pb.ListNotificationsResponse).Decisions, func(d *pb.NotificationDecision) bool {
						return d.ChatId == routed.Chat.Id
					}) {
						t.Errorf("no push about chat %s", routed.Chat.Id)
					}
				}},
			{rpc: "GetUnansweredCounters", req: func() proto.Message { return &pb.GetUnansweredCountersRequest{} },
				scrub: func(res proto.Message) { res.(*pb.GetUnansweredCountersResponse).GetCounters().ComputeTime = nil }},
			{rpc: "ListAssignmentHistory", req: func() proto.Message {
				return &pb.ListAssignmentHistoryRequest{ClientId: routed.Client.Id, PageSize: 10}
			}, check: func(t *testing.T, res proto.Message) {
				if len(res.(*pb.ListAssignmentHistoryResponse).Events) == 0 {
					t.Error("no history for a routed client")
				}
			}},
			{rpc: "CloseDeal", req: func() proto.Message {
				return &pb.CloseDealRequest{DealId: routed.Deal.Id, Outcome: pb.DealOutcome_DEAL_OUTCOME_WON}
			}},
			// Last: it resets the routing settings.
			{rpc: "DeleteIntegration", req: func() proto.Message { return &pb.DeleteIntegrationRequest{} }},
		}

		byRPC := map[string]openAPIOperation{}
		for _, op := range openAPIOperations(t) {
			md := methodOf(t, op.OperationID)
			if _, dup := byRPC[string(md.Name())]; dup {
				t.Errorf("%s has two operations", md.Name())
			}
			byRPC[string(md.Name())] = op
		}
		ops := maps.Clone(byRPC)
		for _, md := range rpcs(t) {
			if _, ok := ops[string(md.Name())]; !ok && !md.IsStreamingServer() {
				t.Errorf("%s has no REST operation in the OpenAPI document", md.FullName())
			}
		}
		for _, c := range cases {
			if _, ok := ops[c.rpc]; !ok {
				t.Errorf("case %s is not in the OpenAPI document", c.rpc)
			}
			delete(ops, c.rpc)
		}
		for name, op := range ops {
			t.Errorf("%s %s (%s) has no case here", op.Method, op.Path, name)
		}

		for _, c := range cases {
			o, ok := byRPC[c.rpc]
			if !ok {
				continue
			}
			t.Run(c.rpc, func(t *testing.T) {
				md := methodOf(t, o.OperationID)
				var want error
				if c.connectFirst {
					_, want = invoke(ctx, admin, md, c.req())
					if want == nil {
						t.Fatal("the Connect call succeeded; give the case a request that does")
					}
				}
				got := callREST(t, restRequest(t, env.Server.URL, env.AdminKey, o, c.req()), md)
				if want != nil {
					code := connect.CodeOf(want)
					if got.HTTPStatus != httpStatusOf[code] || got.Status.GetCode() != int32(code) {
						t.Fatalf("%s %s answered %d %v; Connect answered %v", o.Method, o.Path, got.HTTPStatus, got.Status, want)
					}
					return
				}
				if got.HTTPStatus != http.StatusOK {
					t.Fatalf("%s %s answered %d %v", o.Method, o.Path, got.HTTPStatus, got.Status)
				}
				if readOnly(md) {
					res, err := invoke(ctx, admin, md, c.req())
					NoErr(t, err)
					if c.scrub != nil {
						c.scrub(got.Response)
						c.scrub(res)
					}
					if !proto.Equal(got.Response, res) {
						t.Errorf("%s %s answered\n%v\nConnect answered\n%v", o.Method, o.Path, got.Response, res)
					}
				}
				if c.check != nil {
					c.check(t, got.Response)
				}
			})
		}
	})
}

// TestRESTAgreesWithConnect: a message routed over REST and its copy over
// Connect (same gateway message id) are one decision; REST's errors carry
// the HTTP status of Connect's code and the same details: 404 for another
// account's id, 400 with the field for bad input, 401 without a key, 403
// for an employee token on an account-key RPC.
func TestRESTAgreesWithConnect(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		ctx := context.Background()
		co := env.Demo()
		admin := env.Admin()
		ops := map[string]openAPIOperation{}
		for _, op := range openAPIOperations(t) {
			ops[string(methodOf(t, op.OperationID).Name())] = op
		}
		rest := func(t *testing.T, rpc, key string, in proto.Message) restAnswer {
			t.Helper()
			op := ops[rpc]
			return callREST(t, restRequest(t, env.Server.URL, key, op, in), methodOf(t, op.OperationID))
		}

		t.Run("one decision", func(t *testing.T) {
			in := &pb.RouteIncomingMessageRequest{ChannelId: co.Channels["WhatsApp Sales"],
				Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: Phone(7)}, SenderName: "Boris",
				Content: &pb.MessageContent{Text: "Do you deliver?"}, GatewayMessageId: GatewayID()}
			got := rest(t, "RouteIncomingMessage", env.AdminKey, in)
			if got.HTTPStatus != http.StatusOK {
				t.Fatalf("REST answered %d %v", got.HTTPStatus, got.Status)
			}
			first := got.Response.(*pb.RouteIncomingMessageResponse)
			again, err := admin.Routing.RouteIncomingMessage(ctx, in)
			NoErr(t, err)
			if first.Replayed || !again.Replayed || !proto.Equal(first.Decision, again.Decision) {
				t.Fatalf("REST answered %v\nthen Connect answered %v", first, again)
			}
			list := rest(t, "ListNotifications", env.AdminKey, &pb.ListNotificationsRequest{
				EmployeeId: first.Decision.Assignment.ResponsibleEmployeeId})
			viaConnect, err := admin.Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{
				EmployeeId: first.Decision.Assignment.ResponsibleEmployeeId})
			NoErr(t, err)
			if list.HTTPStatus != http.StatusOK || !proto.Equal(list.Response, viaConnect) || len(viaConnect.Decisions) == 0 {
				t.Fatalf("REST listed %d %v\nConnect listed %v", list.HTTPStatus, list.Response, viaConnect)
			}
		})

		otherID, otherKey := env.NewAccount("Other")
		other := env.DemoIn(otherID)
		theirs := Route(t, env.Clients(otherKey, client.Connect), other.Channels["WhatsApp Sales"], Phone(8), "theirs")
		mine := co.Employees["Bruce Wayne"]
		errorCases := []struct {
			name, rpc, key string
			in             proto.Message
			status         int
			field          string // named by a BadRequest (400) or ResourceInfo (404) detail
		}{
			{"another account's chat", "ListChatMessages", env.AdminKey,
				&pb.ListChatMessagesRequest{ChatId: theirs.Chat.Id, EmployeeId: mine}, 404, ""},
			{"another account's employee", "DeactivateEmployee", env.AdminKey,
				&pb.DeactivateEmployeeRequest{EmployeeId: other.Employees["Bruce Wayne"]}, 404, "employee_id"},
			{"another account's client", "ListClientFeed", env.AdminKey,
				&pb.ListClientFeedRequest{ClientId: theirs.Client.Id}, 404, "client_id"},
			{"bad page size", "ListNotifications", env.AdminKey,
				&pb.ListNotificationsRequest{EmployeeId: mine, PageSize: 9999}, 400, "page_size"},
			{"no channel name", "CreateChannel", env.AdminKey,
				&pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_TELEGRAM}, 400, "name"},
			{"no key", "ListEmployees", "", &pb.ListEmployeesRequest{}, 401, ""},
			{"a wrong key", "ListEmployees", "sbk_not_a_key", &pb.ListEmployeesRequest{}, 401, ""},
			{"an employee token on an account-key RPC", "CreateEmployee", co.Token,
				&pb.CreateEmployeeRequest{Name: "Intruder"}, 403, ""},
		}
		for _, c := range errorCases {
			t.Run(c.name, func(t *testing.T) {
				got := rest(t, c.rpc, c.key, c.in)
				_, want := invoke(ctx, client.New(env.Server.URL, c.key, client.Connect, nil), methodOf(t, ops[c.rpc].OperationID), c.in)
				if want == nil {
					t.Fatal("the Connect call succeeded")
				}
				code := connect.CodeOf(want)
				if got.HTTPStatus != c.status || httpStatusOf[code] != c.status || got.Status.GetCode() != int32(code) {
					t.Fatalf("REST answered %d %v; want %d as Connect's %v", got.HTTPStatus, got.Status, c.status, want)
				}
				if c.field == "" {
					return
				}
				var named []string
				for _, d := range got.Status.Details {
					v, err := d.UnmarshalNew()
					NoErr(t, err)
					switch v := v.(type) {
					case *errdetails.BadRequest:
						for _, f := range v.FieldViolations {
							named = append(named, f.Field)
						}
					case *errdetails.ResourceInfo:
						field, _, _ := strings.Cut(v.Description, ":")
						named = append(named, field)
					}
				}
				if !slices.Contains(named, c.field) {
					t.Fatalf("details %v do not name %s", got.Status.Details, c.field)
				}
			})
		}

		t.Run("the document needs no key", func(t *testing.T) {
			res, err := http.Get(env.Server.URL + app.OpenAPIPath)
			NoErr(t, err)
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || !bytes.Equal(body, switchboard.OpenAPI) {
				t.Fatalf("%s answered %d", app.OpenAPIPath, res.StatusCode)
			}
		})
	})
}
