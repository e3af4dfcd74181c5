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
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/store"
)

// Refresh re-reads employees, pipelines and stages from the account's CRM
// when that CRM owns them (crm.OwnsDirectory) and reports what changed;
// when the store is the CRM (the built-in one) there is nothing to read,
// so it reports what the store holds. Both note what an admin should fix.
func Refresh(ctx context.Context, st *store.Store, o CRMOptions) (*pb.RefreshFromCrmResponse, error) {
	out := &pb.RefreshFromCrmResponse{}
	as, err := st.Ent.AccountSettings.Query().Only(ctx)
	if err != nil {
		return nil, err
	}
	out.CrmKind = crmKindToPB(as.CrmKind)
	switch {
	case as.CrmKind == accountsettings.CrmKindNONE:
		return nil, errs.Precondition("there is no integration to refresh: save the settings first")
	case crm.OwnsDirectory(crm.Kind(as.CrmKind)):
		err = refreshFromCRM(ctx, st, o, out)
	default:
		err = st.ReadTx(ctx, func(tx *ent.Tx) error { return summarize(ctx, tx.Client(), out) })
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
