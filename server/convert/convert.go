package convert

import (
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
)

// EnumToPB maps a stored enum value to the proto enum whose value names are
// prefix+stored ("EMPLOYEE_ROLE_" + "SALES_REP"). Unknown values map to 0.
func EnumToPB[E ~int32, S ~string](values map[string]int32, prefix string, stored S) E {
	return E(values[prefix+string(stored)])
}

// EnumFromPB maps a proto enum value to its stored form, or def for the zero
// value.
func EnumFromPB[S ~string](name fmtStringer, prefix string, def S) S {
	s := name.String()
	if !strings.HasPrefix(s, prefix) || strings.HasSuffix(s, "_UNSPECIFIED") {
		return def
	}
	return S(strings.TrimPrefix(s, prefix))
}

type fmtStringer interface{ String() string }

// Time converts a time; the zero time is unset.
func Time(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// TimePtr converts an optional time.
func TimePtr(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

// Channel converts a channel.
func Channel(c *ent.Channel) *pb.Channel {
	return &pb.Channel{
		Id:            ids.Format(c.ID),
		Kind:          EnumToPB[pb.ChannelKind](pb.ChannelKind_value, "CHANNEL_KIND_", c.Kind),
		Name:          c.Name,
		InIntegration: c.InIntegration,
		OpenChannels:  c.OpenChannels,
		ExternalId:    c.ExternalID,
		CreateTime:    Time(c.CreatedAt),
	}
}

// Employee converts an employee.
func Employee(e *ent.Employee) *pb.Employee {
	out := &pb.Employee{
		Id:                       ids.Format(e.ID),
		Name:                     e.Name,
		Email:                    e.Email,
		Active:                   e.Active,
		CreateTime:               Time(e.CreatedAt),
		DefaultOutgoingChannelId: ids.FormatPtr(e.DefaultOutgoingChannelID),
		Presence:                 EnumToPB[pb.Presence](pb.Presence_value, "PRESENCE_", e.Presence),
	}
	if e.CrmUserID != nil {
		out.CrmUserId = *e.CrmUserID
	}
	return out
}

// Pipeline converts a pipeline with its loaded stages.
func Pipeline(p *ent.Pipeline, stages []*ent.Stage) *pb.Pipeline {
	out := &pb.Pipeline{Id: ids.Format(p.ID), Name: p.Name}
	for _, s := range stages {
		out.Stages = append(out.Stages, Stage(s))
	}
	return out
}

// Stage converts a stage.
func Stage(s *ent.Stage) *pb.Stage {
	return &pb.Stage{Id: ids.Format(s.ID), PipelineId: ids.Format(s.PipelineID), Name: s.Name}
}

// LeadStatus converts a lead status.
func LeadStatus(s *ent.LeadStatus) *pb.LeadStatus {
	return &pb.LeadStatus{Id: ids.Format(s.ID), Name: s.Name}
}

// Client converts a contact.
func Client(c *ent.Contact) *pb.Client {
	return &pb.Client{
		Id:                    ids.Format(c.ID),
		Name:                  c.Name,
		Phone:                 c.Phone,
		Handle:                c.Handle,
		ResponsibleEmployeeId: ids.FormatPtr(c.ResponsibleID),
		IsTest:                c.IsTest,
		CreateTime:            Time(c.CreatedAt),
	}
}

// Deal converts a deal or lead.
func Deal(d *ent.Deal) *pb.Deal {
	return &pb.Deal{
		Id:           ids.Format(d.ID),
		ClientId:     ids.Format(d.ContactID),
		Kind:         EnumToPB[pb.DealKind](pb.DealKind_value, "DEAL_KIND_", d.Kind),
		PipelineId:   ids.FormatPtr(d.PipelineID),
		StageId:      ids.FormatPtr(d.StageID),
		LeadStatusId: ids.FormatPtr(d.LeadStatusID),
		State:        EnumToPB[pb.DealState](pb.DealState_value, "DEAL_STATE_", d.State),
		ChannelId:    ids.Format(d.ChannelID),
		CreateTime:   Time(d.CreatedAt),
		CloseTime:    TimePtr(d.ClosedAt),
	}
}

// Chat converts a chat.
func Chat(c *ent.Chat) *pb.Chat {
	return &pb.Chat{
		Id:              ids.Format(c.ID),
		ChannelId:       ids.Format(c.ChannelID),
		ClientId:        ids.Format(c.ContactID),
		DealId:          ids.FormatPtr(c.DealID),
		CreateTime:      Time(c.CreatedAt),
		LastMessageTime: Time(c.LastMessageAt),
	}
}

// Message converts a message.
func Message(m *ent.Message) *pb.Message {
	out := &pb.Message{
		Id:         ids.Format(m.ID),
		ChatId:     ids.Format(m.ChatID),
		Direction:  pb.MessageDirection_MESSAGE_DIRECTION_INCOMING,
		Content:    &pb.MessageContent{Text: m.Text},
		EmployeeId: ids.FormatPtr(m.EmployeeID),
		CreateTime: Time(m.CreatedAt),
	}
	if m.Direction == "OUT" {
		out.Direction = pb.MessageDirection_MESSAGE_DIRECTION_OUTGOING
	}
	if m.GatewayMessageID != nil {
		out.GatewayMessageId = *m.GatewayMessageID
	}
	for _, a := range m.Attachments {
		out.Content.Attachments = append(out.Content.Attachments, &pb.Attachment{Url: a.URL, MimeType: a.MimeType, FileName: a.FileName})
	}
	return out
}
