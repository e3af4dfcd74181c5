package routing

import (
	"context"
	"fmt"
	"net/url"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/validate"
)

// Service implements RoutingService.
type Service struct {
	r *Router
}

// NewService returns the RoutingService handler.
func NewService(r *Router) *Service { return &Service{r: r} }

const (
	maxText        = 65536
	maxAttachments = 20
	defaultPage    = 50
	maxPage        = 200
)

func checkContent(v *errs.Violations, field string, c *pb.MessageContent) {
	if c == nil || (c.Text == "" && len(c.Attachments) == 0) {
		v.Add(field, "the message is empty: send text or attachments")
		return
	}
	if len(c.Text) > maxText {
		v.Add(field+".text", "at most %d bytes (has %d)", maxText, len(c.Text))
	}
	if len(c.Attachments) > maxAttachments {
		v.Add(field+".attachments", "at most %d attachments", maxAttachments)
		return
	}
	for i, a := range c.Attachments {
		f := fmt.Sprintf("%s.attachments[%d]", field, i)
		u, err := url.Parse(a.Url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(a.Url) > 2048 {
			v.Add(f+".url", "must be an absolute http(s) URL of at most 2048 characters")
		}
		validate.Text(v, f+".mime_type", a.MimeType, 0, 200)
		validate.Text(v, f+".file_name", a.FileName, 0, 255)
	}
}

// Rules are the request checks of RoutingService.
func Rules(r validate.Rules) {
	validate.Add(r, func(m *pb.RouteIncomingMessageRequest, v *errs.Violations) {
		ids.Check(v, "channel_id", m.ChannelId, true)
		switch s := m.Sender.(type) {
		case *pb.RouteIncomingMessageRequest_SenderPhone:
			validate.Text(v, "sender_phone", s.SenderPhone, 1, 64)
		case *pb.RouteIncomingMessageRequest_SenderHandle:
			validate.Text(v, "sender_handle", s.SenderHandle, 1, 200)
		default:
			v.Add("sender_phone", "a sender is required: sender_phone or sender_handle")
		}
		validate.Text(v, "sender_name", m.SenderName, 0, 200)
		checkContent(v, "content", m.Content)
		validate.Text(v, "gateway_message_id", m.GatewayMessageId, 1, 200)
	})
	validate.Add(r, func(m *pb.RouteOutgoingMessageRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, false)
		switch t := m.Target.(type) {
		case *pb.RouteOutgoingMessageRequest_ChatId:
			ids.Check(v, "chat_id", t.ChatId, true)
		case *pb.RouteOutgoingMessageRequest_ClientId:
			ids.Check(v, "client_id", t.ClientId, true)
		default:
			v.Add("chat_id", "a target is required: chat_id or client_id")
		}
		ids.Check(v, "channel_id", m.ChannelId, false)
		checkContent(v, "content", m.Content)
		validate.Text(v, "gateway_message_id", m.GatewayMessageId, 0, 200)
	})
	validate.Add(r, func(m *pb.CheckAccessRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, false)
		checkChatRef(v, m.ChatId, m.ChannelId, m.ClientId)
	})
	validate.Add(r, func(m *pb.ListVisibleChatsRequest, v *errs.Violations) {
		ids.Check(v, "employee_id", m.EmployeeId, false)
		ids.Check(v, "channel_id", m.ChannelId, false)
		validate.PageSize(v, "page_size", m.PageSize, maxPage)
		validate.Text(v, "page_token", m.PageToken, 0, 200)
	})
	validate.Add(r, func(m *pb.ListChatMessagesRequest, v *errs.Violations) {
		ids.Check(v, "chat_id", m.ChatId, true)
		ids.Check(v, "employee_id", m.EmployeeId, false)
		validate.PageSize(v, "page_size", m.PageSize, maxPage)
		validate.Text(v, "page_token", m.PageToken, 0, 200)
	})
	validate.Add(r, func(m *pb.AssignResponsibleRequest, v *errs.Violations) {
		ids.Check(v, "chat_id", m.ChatId, true)
		ids.Check(v, "employee_id", m.EmployeeId, true)
		ids.Check(v, "acting_employee_id", m.ActingEmployeeId, false)
	})
	validate.Add(r, func(m *pb.CloseDealRequest, v *errs.Violations) {
		ids.Check(v, "deal_id", m.DealId, true)
		validate.Enum(v, "outcome", m.Outcome, true)
		ids.Check(v, "acting_employee_id", m.ActingEmployeeId, false)
	})
}

func checkChatRef(v *errs.Violations, chatID, channelID, clientID string) {
	switch {
	case chatID != "" && (channelID != "" || clientID != ""):
		v.Add("chat_id", "give chat_id, or channel_id with client_id, not both")
	case chatID != "":
		ids.Check(v, "chat_id", chatID, true)
	case channelID == "" && clientID == "":
		v.Add("chat_id", "a chat is required: chat_id, or channel_id with client_id")
	default:
		ids.Check(v, "channel_id", channelID, true)
		ids.Check(v, "client_id", clientID, true)
	}
}

// actingEmployee resolves the employee a request acts as; an account API key must
// name one.
func actingEmployee(ctx context.Context, requested string) (int64, error) {
	id, err := auth.ActingEmployee(ctx, ids.Value(requested))
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, errs.Invalid("employee_id", "is required with an account API key")
	}
	return id, nil
}

func pageSize(n int32) int {
	if n == 0 {
		return defaultPage
	}
	return int(n)
}

// RouteIncomingMessage routes a client's message.
func (s *Service) RouteIncomingMessage(ctx context.Context, req *pb.RouteIncomingMessageRequest) (*pb.RouteIncomingMessageResponse, error) {
	d, replayed, err := s.r.RouteIncoming(ctx, Incoming{
		ChannelID:  ids.Value(req.ChannelId),
		Phone:      req.GetSenderPhone(),
		Handle:     req.GetSenderHandle(),
		SenderName: req.SenderName,
		Content:    contentFromPB(req.Content),
		GatewayID:  req.GatewayMessageId,
	})
	if err != nil {
		return nil, err
	}
	return &pb.RouteIncomingMessageResponse{Decision: d, Replayed: replayed}, nil
}

// RouteOutgoingMessage authorizes an employee's message.
func (s *Service) RouteOutgoingMessage(ctx context.Context, req *pb.RouteOutgoingMessageRequest) (*pb.RouteOutgoingMessageResponse, error) {
	emp, err := actingEmployee(ctx, req.EmployeeId)
	if err != nil {
		return nil, err
	}
	return s.r.RouteOutgoing(ctx, Outgoing{
		EmployeeID: emp,
		ChatID:     ids.Value(req.GetChatId()),
		ClientID:   ids.Value(req.GetClientId()),
		ChannelID:  ids.Value(req.ChannelId),
		Content:    contentFromPB(req.Content),
		GatewayID:  req.GatewayMessageId,
	})
}

// CheckAccess answers the access table.
func (s *Service) CheckAccess(ctx context.Context, req *pb.CheckAccessRequest) (*pb.CheckAccessResponse, error) {
	emp, err := actingEmployee(ctx, req.EmployeeId)
	if err != nil {
		return nil, err
	}
	d, err := s.r.CheckAccess(ctx, emp, ChatRef{ChatID: ids.Value(req.ChatId), ChannelID: ids.Value(req.ChannelId), ClientID: ids.Value(req.ClientId)})
	if err != nil {
		return nil, err
	}
	return &pb.CheckAccessResponse{Access: accessToPB(d)}, nil
}

// ListVisibleChats lists an employee's visible chats.
func (s *Service) ListVisibleChats(ctx context.Context, req *pb.ListVisibleChatsRequest) (*pb.ListVisibleChatsResponse, error) {
	emp, err := actingEmployee(ctx, req.EmployeeId)
	if err != nil {
		return nil, err
	}
	chats, next, err := s.r.ListVisibleChats(ctx, emp, ids.Value(req.ChannelId), pageSize(req.PageSize), req.PageToken)
	if err != nil {
		return nil, err
	}
	out := &pb.ListVisibleChatsResponse{NextPageToken: next}
	for _, c := range chats {
		out.Chats = append(out.Chats, &pb.VisibleChat{Chat: convert.Chat(c.Chat), Client: convert.Client(c.Client), Access: accessToPB(c.Access)})
	}
	return out, nil
}

// ListChatMessages lists a chat's messages.
func (s *Service) ListChatMessages(ctx context.Context, req *pb.ListChatMessagesRequest) (*pb.ListChatMessagesResponse, error) {
	emp, err := auth.ActingEmployee(ctx, ids.Value(req.EmployeeId))
	if err != nil {
		return nil, err
	}
	msgs, next, err := s.r.ListChatMessages(ctx, emp, ids.Value(req.ChatId), pageSize(req.PageSize), req.PageToken)
	if err != nil {
		return nil, err
	}
	out := &pb.ListChatMessagesResponse{NextPageToken: next}
	for _, m := range msgs {
		out.Messages = append(out.Messages, convert.Message(m))
	}
	return out, nil
}

// AssignResponsible transfers a client.
func (s *Service) AssignResponsible(ctx context.Context, req *pb.AssignResponsibleRequest) (*pb.AssignResponsibleResponse, error) {
	acting, err := actingManager(ctx, req.ActingEmployeeId)
	if err != nil {
		return nil, err
	}
	return s.r.AssignResponsible(ctx, ids.Value(req.ChatId), ids.Value(req.EmployeeId), acting)
}

// CloseDeal closes a deal.
func (s *Service) CloseDeal(ctx context.Context, req *pb.CloseDealRequest) (*pb.CloseDealResponse, error) {
	acting, err := actingManager(ctx, req.ActingEmployeeId)
	if err != nil {
		return nil, err
	}
	d, err := s.r.CloseDeal(ctx, ids.Value(req.DealId), req.Outcome == pb.DealOutcome_DEAL_OUTCOME_WON, acting)
	if err != nil {
		return nil, err
	}
	return &pb.CloseDealResponse{Deal: d}, nil
}

// actingManager is the employee behind an employee token (0 for an account
// API key, which may act for the account).
func actingManager(ctx context.Context, requested string) (int64, error) {
	if !auth.Caller(ctx).IsEmployee() {
		return 0, nil
	}
	return auth.ActingEmployee(ctx, ids.Value(requested))
}
