package settings

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/ent/predicate"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/crm/native"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/routing"
)

// Bump moves the settings revision forward. With expected > 0 it does so only
// if the revision is still expected (else errs.ErrStale). The row update
// also serializes concurrent settings writers of the account.
func Bump(ctx context.Context, tx *ent.Tx, expected int64) (int64, error) {
	q := tx.AccountSettings.Update().AddRevision(1).SetUpdatedAt(types.Now())
	if expected > 0 {
		q = q.Where(accountsettings.Revision(expected))
	}
	n, err := q.Save(ctx)
	if err != nil {
		return 0, err
	}
	as, err := tx.AccountSettings.Query().Only(ctx)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errs.Stale(expected, as.Revision)
	}
	return as.Revision, nil
}

// current fails with errs.ErrStale unless the settings are at revision
// expected: bump without the write, for validate_only.
func current(ctx context.Context, tx *ent.Tx, expected int64) error {
	as, err := tx.AccountSettings.Query().Only(ctx)
	if err != nil {
		return err
	}
	if as.Revision != expected {
		return errs.Stale(expected, as.Revision)
	}
	return nil
}

// directory is what a settings document may refer to.
type directory struct {
	channels  map[int64]*ent.Channel
	employees map[int64]*ent.Employee
	pipelines map[int64]bool
	// stages maps a stage to its pipeline.
	stages   map[int64]int64
	statuses map[int64]bool
}

func loadDirectory(ctx context.Context, c *ent.Client) (*directory, error) {
	d := &directory{channels: map[int64]*ent.Channel{}, employees: map[int64]*ent.Employee{},
		pipelines: map[int64]bool{}, stages: map[int64]int64{}, statuses: map[int64]bool{}}
	chs, err := c.Channel.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, ch := range chs {
		d.channels[ch.ID] = ch
	}
	es, err := c.Employee.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		d.employees[e.ID] = e
	}
	ps, err := c.Pipeline.Query().IDs(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ps {
		d.pipelines[id] = true
	}
	ss, err := c.Stage.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		d.stages[s.ID] = s.PipelineID
	}
	ls, err := c.LeadStatus.Query().IDs(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ls {
		d.statuses[id] = true
	}
	return d, nil
}

// Writes selects the members who can write on their channel: READ_WRITE
// and not QUALITY_CONTROL (SPEC §3).
func Writes() predicate.ChannelMember {
	return channelmember.And(channelmember.AccessEQ(channelmember.AccessREAD_WRITE), channelmember.RoleNEQ(channelmember.RoleQUALITY_CONTROL))
}

// CannotWrite is the violation of a default outgoing channel its employee
// cannot write on.
func CannotWrite(v *errs.Violations, field string, e *ent.Employee, ch *ent.Channel) {
	v.Add(field, "%s cannot write on channel %q: only a READ_WRITE member that is not QUALITY_CONTROL can have it as default", e.Name, ch.Name)
}

// writers maps channel → employees who can write there under the given
// member lists (listed channels) or the stored ones (the rest).
func writers(ctx context.Context, c *ent.Client, d *directory, s *pb.IntegrationSettings) (map[int64]map[int64]bool, error) {
	out := map[int64]map[int64]bool{}
	listed := map[int64]bool{}
	for _, cs := range s.Channels {
		chID := ids.Value(cs.ChannelId)
		listed[chID] = true
		out[chID] = map[int64]bool{}
		for _, m := range cs.Members {
			if m.Access == pb.ChannelAccess_CHANNEL_ACCESS_READ_WRITE && m.Role != pb.EmployeeRole_EMPLOYEE_ROLE_QUALITY_CONTROL {
				out[chID][ids.Value(m.EmployeeId)] = true
			}
		}
	}
	stored, err := c.ChannelMember.Query().
		Where(Writes()).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range stored {
		if listed[m.ChannelID] {
			continue
		}
		if out[m.ChannelID] == nil {
			out[m.ChannelID] = map[int64]bool{}
		}
		out[m.ChannelID][m.EmployeeID] = true
	}
	return out, nil
}

// check adds to v every reference in s that the store does not hold. An id
// checkShape has already found malformed is not reported again.
func check(ctx context.Context, c *ent.Client, d *directory, s *pb.IntegrationSettings, v *errs.Violations) error {
	held := func(field, what, id string, ok bool) bool {
		if !ok && ids.Valid(id) {
			v.Add(field, "%s %s not found", what, id)
		}
		return ok
	}
	employeeAt := func(field, id string) *ent.Employee {
		e := d.employees[ids.Value(id)]
		held(field, "employee", id, e != nil)
		return e
	}
	for i, cs := range s.Channels {
		f := fmt.Sprintf("settings.channels[%d]", i)
		held(f+".channel_id", "channel", cs.ChannelId, d.channels[ids.Value(cs.ChannelId)] != nil)
		for j, m := range cs.Members {
			employeeAt(fmt.Sprintf("%s.members[%d].employee_id", f, j), m.EmployeeId)
		}
		switch e := cs.GetNewClientEntity().GetEntity().(type) {
		case *pb.NewClientEntity_Deal:
			pid := ids.Value(e.Deal.GetPipelineId())
			if !held(f+".new_client_entity.deal.pipeline_id", "pipeline", e.Deal.GetPipelineId(), d.pipelines[pid]) {
				break
			}
			if sid := e.Deal.GetStageId(); sid != "" {
				p, ok := d.stages[ids.Value(sid)]
				if held(f+".new_client_entity.deal.stage_id", "stage", sid, ok) && p != pid {
					v.Add(f+".new_client_entity.deal.stage_id", "stage %s is not in pipeline %s", sid, e.Deal.GetPipelineId())
				}
			}
		case *pb.NewClientEntity_Lead:
			held(f+".new_client_entity.lead.lead_status_id", "lead status", e.Lead.GetLeadStatusId(), d.statuses[ids.Value(e.Lead.GetLeadStatusId())])
		}
	}
	a := s.GetAccount()
	for i, id := range a.GetChatAdminEmployeeIds() {
		employeeAt(fmt.Sprintf("settings.account.chat_admin_employee_ids[%d]", i), id)
	}
	for i, h := range a.GetWorkingHours() {
		employeeAt(fmt.Sprintf("settings.account.working_hours[%d].employee_id", i), h.EmployeeId)
	}
	if len(a.GetDefaultOutgoingChannels()) == 0 {
		return nil
	}
	w, err := writers(ctx, c, d, s)
	if err != nil {
		return err
	}
	for i, dc := range a.DefaultOutgoingChannels {
		f := fmt.Sprintf("settings.account.default_outgoing_channels[%d]", i)
		e := employeeAt(f+".employee_id", dc.EmployeeId)
		ch := d.channels[ids.Value(dc.ChannelId)]
		switch {
		case e == nil:
		case !held(f+".channel_id", "channel", dc.ChannelId, ch != nil):
		case !e.Active:
			v.Add(f+".employee_id", "employee %s is deactivated and cannot write", dc.EmployeeId)
		case !w[ch.ID][e.ID]:
			CannotWrite(v, f+".channel_id", e, ch)
		}
	}
	return nil
}

// apply writes s over the stored settings; check has passed.
func apply(ctx context.Context, tx *ent.Tx, d *directory, s *pb.IntegrationSettings) error {
	for _, cs := range s.Channels {
		if err := applyChannel(ctx, tx, d.channels[ids.Value(cs.ChannelId)], cs); err != nil {
			return err
		}
	}
	a := s.Account
	crm := convert.EnumFromPB(s.CrmKind, "CRM_KIND_", accountsettings.CrmKind(""))
	as, err := tx.AccountSettings.Query().Only(ctx)
	if err != nil {
		return err
	}
	if crm == "" {
		crm = as.CrmKind
		if crm == accountsettings.CrmKindNONE {
			// The first save without a choice keeps the built-in CRM.
			crm = accountsettings.CrmKind(native.Kind)
		}
	}
	u := tx.AccountSettings.Update()
	if a.HomeRegion == nil {
		u.ClearHomeRegion() // automatic, by convert_8_to_plus7
	}
	err = u.
		SetCrmKind(crm).
		SetSavedOnce(true).
		SetSaveMessages(convert.EnumFromPB(a.SaveMessages, "SAVE_MESSAGES_MODE_", accountsettings.DefaultSaveMessages)).
		SetConvert8ToPlus7(a.Convert_8ToPlus7).
		SetNotifyManagersAllMessages(a.NotifyManagersAllMessages).
		SetGlobalChatVisibility(convert.EnumFromPB(a.GlobalChatVisibility, "GLOBAL_CHAT_VISIBILITY_", accountsettings.DefaultGlobalChatVisibility)).
		SetTimeZone(a.TimeZone).
		SetNillableHomeRegion(a.HomeRegion).
		Exec(ctx)
	if err != nil {
		return err
	}
	admins := make([]int64, 0, len(a.ChatAdminEmployeeIds))
	for _, id := range a.ChatAdminEmployeeIds {
		admins = append(admins, ids.Value(id))
	}
	if err := tx.Employee.Update().Where(employee.ChatAdmin(true), employee.IDNotIn(admins...)).SetChatAdmin(false).Exec(ctx); err != nil {
		return err
	}
	if err := tx.Employee.Update().Where(employee.ChatAdmin(false), employee.IDIn(admins...)).SetChatAdmin(true).Exec(ctx); err != nil {
		return err
	}
	hours := map[int64]*types.WorkingHours{}
	for _, h := range a.WorkingHours {
		hours[ids.Value(h.EmployeeId)] = hoursFromPB(h)
	}
	for _, e := range d.employees {
		want := hours[e.ID]
		switch {
		case reflect.DeepEqual(want, e.WorkingHours):
		case want == nil:
			err = tx.Employee.UpdateOneID(e.ID).ClearWorkingHours().Exec(ctx)
		default:
			err = tx.Employee.UpdateOneID(e.ID).SetWorkingHours(want).Exec(ctx)
		}
		if err != nil {
			return err
		}
	}
	defaults := map[int64]int64{}
	for _, dc := range a.DefaultOutgoingChannels {
		defaults[ids.Value(dc.EmployeeId)] = ids.Value(dc.ChannelId)
	}
	for _, e := range d.employees {
		want, has := defaults[e.ID]
		switch {
		case has && (e.DefaultOutgoingChannelID == nil || *e.DefaultOutgoingChannelID != want):
			err = tx.Employee.UpdateOneID(e.ID).SetDefaultOutgoingChannelID(want).Exec(ctx)
		case !has && e.DefaultOutgoingChannelID != nil:
			err = tx.Employee.UpdateOneID(e.ID).ClearDefaultOutgoingChannelID().Exec(ctx)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func applyChannel(ctx context.Context, tx *ent.Tx, ch *ent.Channel, cs *pb.ChannelSettings) error {
	upd := tx.Channel.UpdateOneID(ch.ID).
		SetDistribution(convert.EnumFromPB(cs.Distribution, "DISTRIBUTION_MODE_", channel.DefaultDistribution)).
		SetRepeatClientPolicy(convert.EnumFromPB(cs.RepeatClientPolicy, "REPEAT_CLIENT_POLICY_", channel.DefaultRepeatClientPolicy)).
		ClearPipelineID().ClearStageID().ClearLeadStatusID().
		SetEntityKind(channel.DefaultEntityKind).
		SetAbsentKeepTurn(cs.GetAvailability().GetAbsentKeepTurn()).
		SetReplyDeadlineMinutes(int(cs.GetAvailability().GetReplyDeadlineMinutes())).
		SetMaxPasses(int(cs.GetAvailability().GetMaxPasses())).
		SetStreamGraceMinutes(int(cs.GetAvailability().GetStreamGraceMinutes()))
	switch e := cs.GetNewClientEntity().GetEntity().(type) {
	case *pb.NewClientEntity_Deal:
		upd = upd.SetEntityKind(channel.EntityKindDEAL).SetPipelineID(ids.Value(e.Deal.PipelineId))
		if e.Deal.StageId != "" {
			upd = upd.SetStageID(ids.Value(e.Deal.StageId))
		}
	case *pb.NewClientEntity_Lead:
		upd = upd.SetEntityKind(channel.EntityKindLEAD).SetLeadStatusID(ids.Value(e.Lead.LeadStatusId))
	}
	if err := upd.Exec(ctx); err != nil {
		return err
	}
	members := make([]Member, 0, len(cs.Members))
	for _, m := range cs.Members {
		w := int(m.Weight)
		if w == 0 {
			w = channelmember.DefaultWeight
		}
		members = append(members, Member{
			EmployeeID:         ids.Value(m.EmployeeId),
			Role:               convert.EnumFromPB(m.Role, "EMPLOYEE_ROLE_", channelmember.DefaultRole),
			Access:             convert.EnumFromPB(m.Access, "CHANNEL_ACCESS_", channelmember.DefaultAccess),
			ReceivesNewClients: m.ReceivesNewClients,
			Weight:             w,
			Capacity:           int(m.Capacity),
		})
	}
	return ReplaceMembers(ctx, tx, ch.ID, members)
}

// Member is a channel member as settings write it.
type Member struct {
	EmployeeID         int64
	Role               channelmember.Role
	Access             channelmember.Access
	ReceivesNewClients bool
	Weight             int
	// Capacity: the most open clients (SPEC §11); 0 no limit.
	Capacity int
}

// ReplaceMembers makes the channel's member list exactly ms, in order, and
// keeps the distribution cursor on the last assignee (SPEC §5). It locks the
// channel's cursor, so it never interleaves with distributing a client.
func ReplaceMembers(ctx context.Context, tx *ent.Tx, channelID int64, ms []Member) error {
	cur, err := routing.LockCursor(ctx, tx, channelID)
	if err != nil {
		return err
	}
	old, err := tx.ChannelMember.Query().Where(channelmember.ChannelID(channelID)).
		Order(ent.Asc(channelmember.FieldPosition), ent.Asc(channelmember.FieldID)).All(ctx)
	if err != nil {
		return err
	}
	existing := map[int64]*ent.ChannelMember{}
	before := make([]int64, 0, len(old))
	for _, m := range old {
		existing[m.EmployeeID] = m
		before = append(before, m.EmployeeID)
	}
	after := make([]int64, 0, len(ms))
	keep := map[int64]bool{}
	for _, m := range ms {
		after = append(after, m.EmployeeID)
		keep[m.EmployeeID] = true
	}
	var gone []int64
	for _, m := range old {
		if !keep[m.EmployeeID] {
			gone = append(gone, m.ID)
		}
	}
	if len(gone) > 0 {
		if _, err := tx.ChannelMember.Delete().Where(channelmember.IDIn(gone...)).Exec(ctx); err != nil {
			return err
		}
	}
	var create []*ent.ChannelMemberCreate
	for pos, m := range ms {
		if e := existing[m.EmployeeID]; e != nil {
			if e.Role == m.Role && e.Access == m.Access && e.ReceivesNewClients == m.ReceivesNewClients && e.Weight == m.Weight && e.Capacity == m.Capacity && e.Position == pos {
				continue
			}
			err := tx.ChannelMember.UpdateOneID(e.ID).SetRole(m.Role).SetAccess(m.Access).
				SetReceivesNewClients(m.ReceivesNewClients).SetWeight(m.Weight).SetCapacity(m.Capacity).SetPosition(pos).Exec(ctx)
			if err != nil {
				return err
			}
			continue
		}
		create = append(create, tx.ChannelMember.Create().SetChannelID(channelID).SetEmployeeID(m.EmployeeID).
			SetRole(m.Role).SetAccess(m.Access).SetReceivesNewClients(m.ReceivesNewClients).SetWeight(m.Weight).SetCapacity(m.Capacity).SetPosition(pos))
	}
	if len(create) > 0 {
		if err := tx.ChannelMember.CreateBulk(create...).Exec(ctx); err != nil {
			return err
		}
	}
	if slices.Equal(before, after) {
		return nil
	}
	return routing.RebaseCursor(ctx, tx, cur, before, after)
}
