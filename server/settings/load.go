package settings

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/employee"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/ids"
)

// Load reads the whole settings of the context's account. Run it in a
// snapshot (store.ReadTx) or in the transaction that just wrote them.
func Load(ctx context.Context, c *ent.Client) (*pb.IntegrationSettings, error) {
	as, err := c.AccountSettings.Query().Only(ctx)
	if err != nil {
		return nil, err
	}
	channels, err := c.Channel.Query().Order(ent.Asc(channel.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	members, err := c.ChannelMember.Query().
		Order(ent.Asc(channelmember.FieldChannelID), ent.Asc(channelmember.FieldPosition), ent.Asc(channelmember.FieldID)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	special, err := c.Employee.Query().
		Where(employee.Or(employee.ChatAdmin(true), employee.DefaultOutgoingChannelIDNotNil(), employee.WorkingHoursNotNil())).
		Order(ent.Asc(employee.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := &pb.IntegrationSettings{
		Revision:             as.Revision,
		CrmKind:              crmKindToPB(as.CrmKind),
		Connected:            as.CrmKind != accountsettings.CrmKindNONE,
		UpdateTime:           convert.Time(as.UpdatedAt),
		TestMessageAvailable: as.SavedOnce,
		Account: &pb.AccountSettings{
			SaveMessages:              convert.EnumToPB[pb.SaveMessagesMode](pb.SaveMessagesMode_value, "SAVE_MESSAGES_MODE_", as.SaveMessages),
			Convert_8ToPlus7:          as.Convert8ToPlus7,
			NotifyManagersAllMessages: as.NotifyManagersAllMessages,
			GlobalChatVisibility:      convert.EnumToPB[pb.GlobalChatVisibility](pb.GlobalChatVisibility_value, "GLOBAL_CHAT_VISIBILITY_", as.GlobalChatVisibility),
			TimeZone:                  as.TimeZone,
			HomeRegion:                as.HomeRegion,
		},
	}
	cc, err := c.CrmConnection.Query().Only(ctx)
	switch {
	case err == nil:
		out.CrmConnection = connectionToPB(cc)
	case !ent.IsNotFound(err):
		return nil, err
	}
	for _, e := range special {
		if e.ChatAdmin {
			out.Account.ChatAdminEmployeeIds = append(out.Account.ChatAdminEmployeeIds, ids.Format(e.ID))
		}
		if e.DefaultOutgoingChannelID != nil {
			out.Account.DefaultOutgoingChannels = append(out.Account.DefaultOutgoingChannels, &pb.DefaultOutgoingChannel{
				EmployeeId: ids.Format(e.ID),
				ChannelId:  ids.Format(*e.DefaultOutgoingChannelID),
			})
		}
		if e.WorkingHours != nil {
			out.Account.WorkingHours = append(out.Account.WorkingHours, hoursToPB(e.ID, e.WorkingHours))
		}
	}
	byChannel := map[int64][]*pb.ChannelMember{}
	for _, m := range members {
		byChannel[m.ChannelID] = append(byChannel[m.ChannelID], &pb.ChannelMember{
			EmployeeId:         ids.Format(m.EmployeeID),
			Role:               convert.EnumToPB[pb.EmployeeRole](pb.EmployeeRole_value, "EMPLOYEE_ROLE_", m.Role),
			Access:             convert.EnumToPB[pb.ChannelAccess](pb.ChannelAccess_value, "CHANNEL_ACCESS_", m.Access),
			ReceivesNewClients: m.ReceivesNewClients,
			Weight:             int32(m.Weight),
			Capacity:           int32(m.Capacity),
		})
	}
	for _, ch := range channels {
		out.Channels = append(out.Channels, &pb.ChannelSettings{
			ChannelId:          ids.Format(ch.ID),
			Channel:            convert.Channel(ch),
			Members:            byChannel[ch.ID],
			NewClientEntity:    entityToPB(ch),
			Distribution:       convert.EnumToPB[pb.DistributionMode](pb.DistributionMode_value, "DISTRIBUTION_MODE_", ch.Distribution),
			RepeatClientPolicy: convert.EnumToPB[pb.RepeatClientPolicy](pb.RepeatClientPolicy_value, "REPEAT_CLIENT_POLICY_", ch.RepeatClientPolicy),
			Availability:       availabilityToPB(ch),
		})
	}
	return out, nil
}

func crmKindToPB(k accountsettings.CrmKind) pb.CrmKind {
	if k == accountsettings.CrmKindNONE {
		return pb.CrmKind_CRM_KIND_UNSPECIFIED
	}
	return convert.EnumToPB[pb.CrmKind](pb.CrmKind_value, "CRM_KIND_", k)
}

func entityToPB(ch *ent.Channel) *pb.NewClientEntity {
	switch ch.EntityKind {
	case channel.EntityKindDEAL:
		return &pb.NewClientEntity{Entity: &pb.NewClientEntity_Deal{Deal: &pb.DealTarget{
			PipelineId: ids.FormatPtr(ch.PipelineID),
			StageId:    ids.FormatPtr(ch.StageID),
		}}}
	case channel.EntityKindLEAD:
		return &pb.NewClientEntity{Entity: &pb.NewClientEntity_Lead{Lead: &pb.LeadTarget{
			LeadStatusId: ids.FormatPtr(ch.LeadStatusID),
		}}}
	}
	return nil
}
