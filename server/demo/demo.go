package demo

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/credential"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/settings"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Company is what Fill created.
type Company struct {
	Channels  map[string]int64
	Employees map[string]int64
	// Token is an employee token for Bruce Wayne, for trying Subscribe.
	Token string
}

// Employees of the demo company, in member-list order, with their weight on
// the WhatsApp channel.
var Employees = []struct {
	Name   string
	Role   pb.EmployeeRole
	Weight int32
}{
	{"Bruce Wayne", pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, 1},
	{"Scrooge McDuck", pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, 1},
	{"Tony Stark", pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, 2},
	{"Constantine", pb.EmployeeRole_EMPLOYEE_ROLE_SALES_REP, 1},
	{"Alfred Pennyworth", pb.EmployeeRole_EMPLOYEE_ROLE_MANAGER, 1},
	{"Diana Prince", pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL, 1},
}

// Fill creates the sample company in the account, unless the account has
// channels already (then it returns nil and changes nothing).
func Fill(ctx context.Context, st *store.Store, accountID int64) (*Company, error) {
	ctx = tenant.NewContext(ctx, accountID)
	n, err := st.Ent.Channel.Query().Count(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	co := &Company{Channels: map[string]int64{}, Employees: map[string]int64{}}
	err = st.Tx(ctx, func(tx *ent.Tx) error {
		for _, ch := range []struct {
			name string
			kind string
		}{{"WhatsApp Sales", "WHATSAPP"}, {"Telegram Support", "TELEGRAM"}} {
			c, err := tx.Channel.Create().SetName(ch.name).SetKind(channel.Kind(ch.kind)).Save(ctx)
			if err != nil {
				return err
			}
			if err := tx.DistributionCursor.Create().SetChannelID(c.ID).Exec(ctx); err != nil {
				return err
			}
			co.Channels[ch.name] = c.ID
		}
		for i, e := range Employees {
			emp, err := tx.Employee.Create().SetName(e.Name).SetCrmUserID(fmt.Sprintf("demo-%d", i+1)).Save(ctx)
			if err != nil {
				return err
			}
			co.Employees[e.Name] = emp.ID
		}
		p, err := tx.Pipeline.Create().SetName("Sales").Save(ctx)
		if err != nil {
			return err
		}
		for i, s := range []string{"New inquiry", "Qualified", "Proposal sent", "Negotiation"} {
			if err := tx.Stage.Create().SetPipelineID(p.ID).SetName(s).SetPosition(i).Exec(ctx); err != nil {
				return err
			}
		}
		for i, s := range []string{"New lead", "Contacted", "Qualified"} {
			if err := tx.LeadStatus.Create().SetName(s).SetPosition(i).Exec(ctx); err != nil {
				return err
			}
		}
		secret, prefix, hash := auth.NewSecret(auth.EmployeeToken)
		co.Token = secret
		return tx.Credential.Create().SetKind(credential.KindEMPLOYEE_TOKEN).
			SetEmployeeID(co.Employees["Bruce Wayne"]).SetName("demo").SetPrefix(prefix).SetSecretHash(hash).Exec(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("fill demo company: %w", err)
	}
	if err := configure(ctx, st, co); err != nil {
		return nil, fmt.Errorf("configure demo company: %w", err)
	}
	return co, nil
}

// configure saves the demo settings through the same path as the API.
func configure(ctx context.Context, st *store.Store, co *Company) error {
	svc := settings.NewService(st, nil, settings.CRMOptions{})
	cur, err := svc.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})
	if err != nil {
		return err
	}
	s := cur.Settings
	s.CrmKind = pb.CrmKind_CRM_KIND_NATIVE
	member := func(name string, receives bool) *pb.ChannelMember {
		for _, e := range Employees {
			if e.Name != name {
				continue
			}
			m := &pb.ChannelMember{EmployeeId: ids.Format(co.Employees[name]), Role: e.Role, Weight: e.Weight,
				Access: pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE, ReceivesNewClients: receives}
			if e.Role == pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL {
				m.Access, m.ReceivesNewClients = pb.ChannelAccess_CHANNEL_ACCESS_READ_ONLY, false
			}
			return m
		}
		panic("demo: unknown employee " + name)
	}
	for _, cs := range s.Channels {
		switch cs.ChannelId {
		case ids.Format(co.Channels["WhatsApp Sales"]):
			cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_WEIGHTED
			cs.Members = []*pb.ChannelMember{
				member("Bruce Wayne", true), member("Scrooge McDuck", true), member("Tony Stark", true),
				member("Constantine", true), member("Alfred Pennyworth", false), member("Diana Prince", false),
			}
		case ids.Format(co.Channels["Telegram Support"]):
			cs.Distribution = pb.DistributionMode_DISTRIBUTION_MODE_FIRST_RESPONDER
			cs.Members = []*pb.ChannelMember{
				member("Bruce Wayne", true), member("Tony Stark", true), member("Alfred Pennyworth", false),
			}
		}
	}
	s.Account.DefaultOutgoingChannels = []*pb.DefaultOutgoingChannel{
		{EmployeeId: ids.Format(co.Employees["Bruce Wayne"]), ChannelId: ids.Format(co.Channels["WhatsApp Sales"])},
	}
	_, err = svc.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
	return err
}
