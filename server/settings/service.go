package settings

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/employee"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/store"
)

// Tester sends and removes the integration's test message; routing
// provides it.
type Tester interface {
	SendTestMessage(ctx context.Context, text string) (*pb.SendTestMessageResponse, error)
	RemoveTestClient(ctx context.Context) (bool, error)
}

// Service implements IntegrationService.
type Service struct {
	st     *store.Store
	tester Tester
	crm    CRMOptions
}

// NewService returns the IntegrationService handler.
func NewService(st *store.Store, tester Tester, crmOpts CRMOptions) *Service {
	return &Service{st: st, tester: tester, crm: crmOpts}
}

// GetIntegrationSettings returns the current settings.
func (s *Service) GetIntegrationSettings(ctx context.Context, _ *pb.GetIntegrationSettingsRequest) (*pb.GetIntegrationSettingsResponse, error) {
	var out *pb.IntegrationSettings
	err := s.st.ReadTx(ctx, func(tx *ent.Tx) error {
		var err error
		out, err = Load(ctx, tx.Client())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &pb.GetIntegrationSettingsResponse{Settings: out}, nil
}

// UpdateIntegrationSettings saves the settings as a whole, or with
// validate_only checks them as saving would and keeps nothing. A document
// that is malformed in itself fails first, naming every bad field, those
// the store must resolve included; then a stale revision fails; then any
// reference the store does not hold.
func (s *Service) UpdateIntegrationSettings(ctx context.Context, req *pb.UpdateIntegrationSettingsRequest) (*pb.UpdateIntegrationSettingsResponse, error) {
	in := req.Settings
	run := s.st.Tx
	if req.ValidateOnly {
		run = s.st.ReadTx
	}
	var out *pb.IntegrationSettings
	err := run(ctx, func(tx *ent.Tx) error {
		var v errs.Violations
		checkShape(&v, "settings", in)
		if len(v) == 0 {
			if req.ValidateOnly {
				if err := current(ctx, tx, in.Revision); err != nil {
					return err
				}
			} else if _, err := Bump(ctx, tx, in.Revision); err != nil {
				return err
			}
		}
		c := tx.Client()
		d, err := loadDirectory(ctx, c)
		if err != nil {
			return err
		}
		if err := check(ctx, c, d, in, &v); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if !req.ValidateOnly {
			if err := apply(ctx, tx, d, in); err != nil {
				return err
			}
		}
		out, err = Load(ctx, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateIntegrationSettingsResponse{Settings: out}, nil
}

// DeleteIntegration unlinks the CRM and resets every routing setting.
func (s *Service) DeleteIntegration(ctx context.Context, req *pb.DeleteIntegrationRequest) (*pb.DeleteIntegrationResponse, error) {
	var out *pb.IntegrationSettings
	err := s.st.Tx(ctx, func(tx *ent.Tx) error {
		if _, err := Bump(ctx, tx, req.Revision); err != nil {
			return err
		}
		chs, err := tx.Channel.Query().All(ctx)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			if err := applyChannel(ctx, tx, ch, &pb.ChannelSettings{}); err != nil {
				return err
			}
		}
		if err := tx.Channel.Update().SetInIntegration(false).Exec(ctx); err != nil {
			return err
		}
		// The CRM's token and webhook key go with the link.
		if _, err := tx.CrmConnection.Delete().Exec(ctx); err != nil {
			return err
		}
		err = tx.Employee.Update().
			Where(employee.Or(employee.ChatAdmin(true), employee.DefaultOutgoingChannelIDNotNil())).
			SetChatAdmin(false).ClearDefaultOutgoingChannelID().Exec(ctx)
		if err != nil {
			return err
		}
		err = tx.AccountSettings.Update().
			SetCrmKind(accountsettings.CrmKindNONE).
			SetSavedOnce(false).
			SetSaveMessages(accountsettings.DefaultSaveMessages).
			SetConvert8ToPlus7(accountsettings.DefaultConvert8ToPlus7).
			SetNotifyManagersAllMessages(accountsettings.DefaultNotifyManagersAllMessages).
			SetGlobalChatVisibility(accountsettings.DefaultGlobalChatVisibility).
			SetTimeZone(accountsettings.DefaultTimeZone).
			ClearHomeRegion().
			Exec(ctx)
		if err != nil {
			return err
		}
		out, err = Load(ctx, tx.Client())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &pb.DeleteIntegrationResponse{Settings: out}, nil
}

// RefreshFromCrm re-reads employees, pipelines and stages from an external
// CRM and reports what changed; for the NATIVE CRM the store is the CRM, so
// it reports what it holds. Both note what an admin should fix.
func (s *Service) RefreshFromCrm(ctx context.Context, _ *pb.RefreshFromCrmRequest) (*pb.RefreshFromCrmResponse, error) {
	out := &pb.RefreshFromCrmResponse{}
	as, err := s.st.Ent.AccountSettings.Query().Only(ctx)
	if err != nil {
		return nil, err
	}
	out.CrmKind = crmKindToPB(as.CrmKind)
	switch as.CrmKind {
	case accountsettings.CrmKindNONE:
		return nil, errs.Precondition("there is no integration to refresh: save the settings first")
	case accountsettings.CrmKindNATIVE:
		err = s.st.ReadTx(ctx, func(tx *ent.Tx) error { return summarize(ctx, tx.Client(), out) })
	default:
		err = s.refreshExternal(ctx, out)
	}
	if err != nil {
		return nil, err
	}
	out.RefreshTime = timestamppb.New(time.Now())
	return out, nil
}

// summarize counts what the account holds and notes what an admin should
// look at.
func summarize(ctx context.Context, c *ent.Client, out *pb.RefreshFromCrmResponse) error {
	emps, err := c.Employee.Query().Order(ent.Asc(employee.FieldID)).All(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]*ent.Employee{}
	for _, e := range emps {
		byID[e.ID] = e
		if e.Active {
			out.ActiveEmployees++
		} else {
			out.DeactivatedEmployees++
		}
	}
	pipelines, err := c.Pipeline.Query().Count(ctx)
	if err != nil {
		return err
	}
	stages, err := c.Stage.Query().Count(ctx)
	if err != nil {
		return err
	}
	statuses, err := c.LeadStatus.Query().Count(ctx)
	if err != nil {
		return err
	}
	out.Pipelines, out.Stages, out.LeadStatuses = int32(pipelines), int32(stages), int32(statuses)
	chs, err := c.Channel.Query().Order(ent.Asc(channel.FieldID)).WithMembers(func(q *ent.ChannelMemberQuery) {
		q.Order(ent.Asc(channelmember.FieldPosition))
	}).All(ctx)
	if err != nil {
		return err
	}
	note := func(format string, args ...any) { out.Findings = append(out.Findings, fmt.Sprintf(format, args...)) }
	for _, ch := range chs {
		out.Channels++
		if !ch.InIntegration {
			continue
		}
		out.ChannelsInIntegration++
		eligible := 0
		for _, m := range ch.Edges.Members {
			e := byID[m.EmployeeID]
			if !e.Active {
				note("%s is deactivated but still a member of channel %q", e.Name, ch.Name)
				continue
			}
			if m.ReceivesNewClients && m.Access == channelmember.AccessREAD_WRITE && m.Role != channelmember.RoleQUALITY_CONTROL {
				eligible++
			}
		}
		if eligible == 0 {
			note("nobody on channel %q receives new clients: they go to the general chat", ch.Name)
		}
		if ch.EntityKind == channel.EntityKindDEFAULT && pipelines == 0 {
			note("there is no pipeline: new clients on channel %q get a contact only", ch.Name)
		}
	}
	for _, e := range emps {
		if e.ChatAdmin && !e.Active {
			note("chat admin %s is deactivated", e.Name)
		}
	}
	return nil
}

// SendTestMessage routes a message from the built-in test client.
func (s *Service) SendTestMessage(ctx context.Context, req *pb.SendTestMessageRequest) (*pb.SendTestMessageResponse, error) {
	if s.tester == nil {
		return nil, errs.New(errs.ErrUnimplemented, "test messages are not available")
	}
	return s.tester.SendTestMessage(ctx, req.Text)
}

// RemoveTestClient removes the test client and everything it caused.
func (s *Service) RemoveTestClient(ctx context.Context, _ *pb.RemoveTestClientRequest) (*pb.RemoveTestClientResponse, error) {
	if s.tester == nil {
		return nil, errs.New(errs.ErrUnimplemented, "test messages are not available")
	}
	removed, err := s.tester.RemoveTestClient(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.RemoveTestClientResponse{Removed: removed}, nil
}
