package directory

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/settings"
	"github.com/switchboardhq/switchboard/server/store"
)

// Level is one cell of the access grid: what an employee may do on a
// channel.
type Level int

// Levels.
const (
	// NoAccess: no member record.
	NoAccess Level = iota
	// Read: a READ_ONLY member.
	Read
	// ReadWrite: a READ_WRITE member (quality control stays read-only).
	ReadWrite
)

// AccessBlock sets one level on a block of the access grid: the named
// employees (or all) on the named channels (or all).
type AccessBlock struct {
	// Revision is the settings revision the change was made at; 0 means
	// whatever is current.
	Revision     int64
	AllEmployees bool
	EmployeeIDs  []string
	AllChannels  bool
	ChannelIDs   []string
	Level        Level
}

// Skipped is a cell of the block left as it was, and why.
type Skipped struct {
	EmployeeID, ChannelID int64
	Reason                string
}

// AccessResult is what setting a block changed.
type AccessResult struct {
	Revision int64
	Changed  int32
	Skipped  []Skipped
}

// SetChannelAccess sets one access level on a block of the access grid, as
// a settings change (a new revision).
func SetChannelAccess(ctx context.Context, st *store.Store, b AccessBlock) (AccessResult, error) {
	var out AccessResult
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		out = AccessResult{}
		rev, err := settings.Bump(ctx, tx, b.Revision)
		if err != nil {
			return err
		}
		out.Revision = rev
		before, err := settings.Load(ctx, tx.Client())
		if err != nil {
			return err
		}
		emps, err := blockEmployees(ctx, tx, b, b.Level != NoAccess)
		if err != nil {
			return err
		}
		chs, err := blockChannels(ctx, tx, b)
		if err != nil {
			return err
		}
		for _, chID := range chs {
			changed, skipped, err := setAccess(ctx, tx, chID, emps, b.Level)
			if err != nil {
				return err
			}
			out.Changed += changed
			out.Skipped = append(out.Skipped, skipped...)
		}
		return settings.RecordAccessChanges(ctx, tx, before)
	})
	return out, err
}

func blockEmployees(ctx context.Context, tx *ent.Tx, b AccessBlock, activeOnly bool) ([]int64, error) {
	if b.AllEmployees {
		q := tx.Employee.Query()
		if activeOnly {
			q = q.Where(employee.Active(true))
		}
		return q.Order(ent.Asc(employee.FieldID)).IDs(ctx)
	}
	return ids.ResolveAll(ctx, "employee_ids", "employee", b.EmployeeIDs, func(ctx context.Context, want []int64) ([]int64, error) {
		return tx.Employee.Query().Where(employee.IDIn(want...)).IDs(ctx)
	})
}

func blockChannels(ctx context.Context, tx *ent.Tx, b AccessBlock) ([]int64, error) {
	if b.AllChannels {
		return tx.Channel.Query().Order(ent.Asc(channel.FieldID)).IDs(ctx)
	}
	return ids.ResolveAll(ctx, "channel_ids", "channel", b.ChannelIDs, func(ctx context.Context, want []int64) ([]int64, error) {
		return tx.Channel.Query().Where(channel.IDIn(want...)).IDs(ctx)
	})
}

// setAccess applies level to the employees on one channel and reports how
// many cells changed and which were skipped.
func setAccess(ctx context.Context, tx *ent.Tx, chID int64, emps []int64, level Level) (int32, []Skipped, error) {
	old, err := tx.ChannelMember.Query().Where(channelmember.ChannelID(chID)).
		Order(ent.Asc(channelmember.FieldPosition), ent.Asc(channelmember.FieldID)).All(ctx)
	if err != nil {
		return 0, nil, err
	}
	list := make([]settings.Member, 0, len(old)+len(emps))
	index := map[int64]int{}
	for _, m := range old {
		index[m.EmployeeID] = len(list)
		list = append(list, settings.Member{EmployeeID: m.EmployeeID, Role: m.Role, Access: m.Access, ReceivesNewClients: m.ReceivesNewClients, Weight: m.Weight, Capacity: m.Capacity})
	}
	var changed int32
	var skipped []Skipped
	remove := map[int64]bool{}
	for _, e := range emps {
		i, isMember := index[e]
		switch level {
		case NoAccess:
			if isMember {
				remove[e] = true
				changed++
			}
		case Read:
			if !isMember {
				list = append(list, settings.Member{EmployeeID: e, Role: channelmember.RoleSALES_REP, Access: channelmember.AccessREAD_ONLY, Weight: 1})
				changed++
			} else if list[i].Access != channelmember.AccessREAD_ONLY {
				list[i].Access = channelmember.AccessREAD_ONLY
				changed++
			}
		case ReadWrite:
			switch {
			case !isMember:
				list = append(list, settings.Member{EmployeeID: e, Role: channelmember.RoleSALES_REP, Access: channelmember.AccessREAD_WRITE, Weight: 1})
				changed++
			case list[i].Role == channelmember.RoleQUALITY_CONTROL:
				skipped = append(skipped, Skipped{EmployeeID: e, ChannelID: chID, Reason: "quality control is always read-only"})
			case list[i].Access != channelmember.AccessREAD_WRITE:
				list[i].Access = channelmember.AccessREAD_WRITE
				changed++
			}
		}
	}
	if changed == 0 {
		return 0, skipped, nil
	}
	kept := list[:0]
	for _, m := range list {
		if !remove[m.EmployeeID] {
			kept = append(kept, m)
		}
	}
	if err := settings.ReplaceMembers(ctx, tx, chID, kept); err != nil {
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
		Where(channelmember.ChannelID(chID), settings.Writes()).
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

// DefaultChannel sets (ChannelID) or clears (empty ChannelID) an
// employee's default outgoing channel.
type DefaultChannel struct {
	// Revision is the settings revision the change was made at; 0 means
	// whatever is current.
	Revision              int64
	EmployeeID, ChannelID string
}

// DefaultChannelResult is the employee as changed, the channel it had
// before and the new settings revision.
type DefaultChannelResult struct {
	Employee *ent.Employee
	Previous *int64
	Revision int64
}

// SetDefaultOutgoingChannel sets or clears an employee's default outgoing
// channel, as a settings change (a new revision).
func SetDefaultOutgoingChannel(ctx context.Context, st *store.Store, d DefaultChannel) (DefaultChannelResult, error) {
	var out DefaultChannelResult
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		rev, err := settings.Bump(ctx, tx, d.Revision)
		if err != nil {
			return err
		}
		e, err := ids.Resolve(ctx, "employee_id", "employee", d.EmployeeID, tx.Employee.Get)
		if err != nil {
			return err
		}
		upd := tx.Employee.UpdateOneID(e.ID)
		if d.ChannelID == "" {
			upd = upd.ClearDefaultOutgoingChannelID()
		} else {
			ch, err := ids.Resolve(ctx, "channel_id", "channel", d.ChannelID, tx.Channel.Get)
			if err != nil {
				return err
			}
			if !e.Active {
				return errs.Invalid("employee_id", "employee %s is deactivated and cannot write", d.EmployeeID)
			}
			ok, err := tx.ChannelMember.Query().Where(channelmember.ChannelID(ch.ID), channelmember.EmployeeID(e.ID), settings.Writes()).Exist(ctx)
			if err != nil {
				return err
			}
			if !ok {
				var v errs.Violations
				settings.CannotWrite(&v, "channel_id", e, ch)
				return v.Err()
			}
			upd = upd.SetDefaultOutgoingChannelID(ch.ID)
		}
		saved, err := upd.Save(ctx)
		if err != nil {
			return err
		}
		out = DefaultChannelResult{Employee: saved, Previous: e.DefaultOutgoingChannelID, Revision: rev}
		return nil
	})
	return out, err
}
