package settings

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/employee"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
)

// SetChannelAccess sets one access level on a block of the access grid.
func SetChannelAccess(ctx context.Context, st *store.Store, req *pb.SetChannelAccessRequest) (*pb.SetChannelAccessResponse, error) {
	out := &pb.SetChannelAccessResponse{}
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		out.Changed, out.Skipped = 0, nil
		rev, err := bump(ctx, tx, req.Revision)
		if err != nil {
			return err
		}
		out.Revision = rev
		granting := req.Level != pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS
		emps, err := resolveEmployees(ctx, tx, req, granting)
		if err != nil {
			return err
		}
		chs, err := resolveChannels(ctx, tx, req)
		if err != nil {
			return err
		}
		for _, chID := range chs {
			changed, skipped, err := setAccess(ctx, tx, chID, emps, req.Level)
			if err != nil {
				return err
			}
			out.Changed += changed
			out.Skipped = append(out.Skipped, skipped...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func resolveEmployees(ctx context.Context, tx *ent.Tx, req *pb.SetChannelAccessRequest, activeOnly bool) ([]int64, error) {
	if req.AllEmployees {
		q := tx.Employee.Query()
		if activeOnly {
			q = q.Where(employee.Active(true))
		}
		return q.Order(ent.Asc(employee.FieldID)).IDs(ctx)
	}
	want := make([]int64, 0, len(req.EmployeeIds))
	for _, id := range req.EmployeeIds {
		want = append(want, ids.Value(id))
	}
	found, err := tx.Employee.Query().Where(employee.IDIn(want...)).IDs(ctx)
	if err != nil {
		return nil, err
	}
	if err := missing("employee", req.EmployeeIds, want, found); err != nil {
		return nil, err
	}
	return want, nil
}

func resolveChannels(ctx context.Context, tx *ent.Tx, req *pb.SetChannelAccessRequest) ([]int64, error) {
	if req.AllChannels {
		return tx.Channel.Query().Order(ent.Asc(channel.FieldID)).IDs(ctx)
	}
	want := make([]int64, 0, len(req.ChannelIds))
	for _, id := range req.ChannelIds {
		want = append(want, ids.Value(id))
	}
	found, err := tx.Channel.Query().Where(channel.IDIn(want...)).IDs(ctx)
	if err != nil {
		return nil, err
	}
	if err := missing("channel", req.ChannelIds, want, found); err != nil {
		return nil, err
	}
	return want, nil
}

// missing returns NOT_FOUND naming the first requested id the store lacks
// (another account's ids included).
func missing(what string, raw []string, want, found []int64) error {
	have := map[int64]bool{}
	for _, id := range found {
		have[id] = true
	}
	for i, id := range want {
		if !have[id] {
			return errs.NotFound(what, raw[i])
		}
	}
	return nil
}

// setAccess applies level to the employees on one channel and reports how
// many cells changed and which were skipped.
func setAccess(ctx context.Context, tx *ent.Tx, chID int64, emps []int64, level pb.ChannelAccessLevel) (int32, []*pb.SkippedAccess, error) {
	old, err := tx.ChannelMember.Query().Where(channelmember.ChannelID(chID)).
		Order(ent.Asc(channelmember.FieldPosition), ent.Asc(channelmember.FieldID)).All(ctx)
	if err != nil {
		return 0, nil, err
	}
	list := make([]member, 0, len(old)+len(emps))
	index := map[int64]int{}
	for _, m := range old {
		index[m.EmployeeID] = len(list)
		list = append(list, member{employeeID: m.EmployeeID, role: m.Role, access: m.Access, receives: m.ReceivesNewClients, weight: m.Weight})
	}
	var changed int32
	var skipped []*pb.SkippedAccess
	remove := map[int64]bool{}
	for _, e := range emps {
		i, isMember := index[e]
		switch level {
		case pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_NO_ACCESS:
			if isMember {
				remove[e] = true
				changed++
			}
		case pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ:
			if !isMember {
				list = append(list, member{employeeID: e, role: channelmember.RoleSALES_REP, access: channelmember.AccessREAD_ONLY, weight: 1})
				changed++
			} else if list[i].access != channelmember.AccessREAD_ONLY {
				list[i].access = channelmember.AccessREAD_ONLY
				changed++
			}
		case pb.ChannelAccessLevel_CHANNEL_ACCESS_LEVEL_READ_WRITE:
			switch {
			case !isMember:
				list = append(list, member{employeeID: e, role: channelmember.RoleSALES_REP, access: channelmember.AccessREAD_WRITE, weight: 1})
				changed++
			case list[i].role == channelmember.RoleQUALITY_CONTROL:
				skipped = append(skipped, &pb.SkippedAccess{EmployeeId: ids.Format(e), ChannelId: ids.Format(chID),
					Reason: "quality control is always read-only"})
			case list[i].access != channelmember.AccessREAD_WRITE:
				list[i].access = channelmember.AccessREAD_WRITE
				changed++
			}
		}
	}
	if changed == 0 {
		return 0, skipped, nil
	}
	kept := list[:0]
	for _, m := range list {
		if !remove[m.employeeID] {
			kept = append(kept, m)
		}
	}
	if err := replaceMembers(ctx, tx, chID, kept); err != nil {
		return 0, nil, err
	}
	if err := dropUnwritableDefaults(ctx, tx, chID); err != nil {
		return 0, nil, err
	}
	return changed, skipped, nil
}

// dropUnwritableDefaults clears the default outgoing channel of employees who
// can no longer write on the channel.
func dropUnwritableDefaults(ctx context.Context, tx *ent.Tx, chID int64) error {
	writers, err := tx.ChannelMember.Query().
		Where(channelmember.ChannelID(chID), writes()).
		Select(channelmember.FieldEmployeeID).Ints(ctx)
	if err != nil {
		return err
	}
	keep := make([]int64, len(writers))
	for i, w := range writers {
		keep[i] = int64(w)
	}
	return tx.Employee.Update().
		Where(employee.DefaultOutgoingChannelID(chID), employee.IDNotIn(keep...)).
		ClearDefaultOutgoingChannelID().Exec(ctx)
}

// SetDefaultOutgoingChannel sets or clears an employee's default outgoing
// channel.
func SetDefaultOutgoingChannel(ctx context.Context, st *store.Store, req *pb.SetDefaultOutgoingChannelRequest) (*pb.SetDefaultOutgoingChannelResponse, error) {
	out := &pb.SetDefaultOutgoingChannelResponse{}
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		rev, err := bump(ctx, tx, req.Revision)
		if err != nil {
			return err
		}
		e, err := tx.Employee.Get(ctx, ids.Value(req.EmployeeId))
		if err != nil {
			return store.NotFound(err, "employee", req.EmployeeId)
		}
		upd := tx.Employee.UpdateOneID(e.ID)
		if req.ChannelId == "" {
			upd = upd.ClearDefaultOutgoingChannelID()
		} else {
			ch, err := tx.Channel.Get(ctx, ids.Value(req.ChannelId))
			if err != nil {
				return store.NotFound(err, "channel", req.ChannelId)
			}
			if !e.Active {
				return errs.Invalid("employee_id", "employee %s is deactivated and cannot write", req.EmployeeId)
			}
			ok, err := tx.ChannelMember.Query().Where(channelmember.ChannelID(ch.ID), channelmember.EmployeeID(e.ID), writes()).Exist(ctx)
			if err != nil {
				return err
			}
			if !ok {
				var v errs.Violations
				cannotWrite(&v, "channel_id", e, ch)
				return v.Err()
			}
			upd = upd.SetDefaultOutgoingChannelID(ch.ID)
		}
		saved, err := upd.Save(ctx)
		if err != nil {
			return err
		}
		out.Employee = convert.Employee(saved)
		out.PreviousChannelId = ids.FormatPtr(e.DefaultOutgoingChannelID)
		out.Revision = rev
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
