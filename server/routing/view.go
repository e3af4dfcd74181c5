package routing

import (
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/availability"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/distribution"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/push"
)

// member is a channel member with what the rules need of its employee.
type member struct {
	EmployeeID int64
	Name       string
	Active     bool
	ChatAdmin  bool
	Role       access.Role
	Access     access.Level
	Receives   bool
	Weight     int
	// Availability (SPEC §11): the zero values (ONLINE, any time, no
	// limit) change nothing.
	Presence availability.Presence
	Hours    *types.WorkingHours
	Capacity int
	// StreamsClosedAt: when the employee's last notification stream
	// closed (nil: one is open, or none ever was).
	StreamsClosedAt *time.Time
}

// channelView is one channel with its members, in list order, and the
// account settings the rules read.
type channelView struct {
	ch       *ent.Channel
	settings *ent.AccountSettings
	members  []member
}

func roleOf(r channelmember.Role) access.Role {
	switch r {
	case channelmember.RoleMANAGER:
		return access.Manager
	case channelmember.RoleQUALITY_CONTROL:
		return access.QualityControl
	}
	return access.SalesRep
}

func levelOf(a channelmember.Access) access.Level {
	if a == channelmember.AccessREAD_WRITE {
		return access.ReadWrite
	}
	return access.ReadOnly
}

func visibilityOf(v accountsettings.GlobalChatVisibility) access.Visibility {
	switch v {
	case accountsettings.GlobalChatVisibilityOWN_AND_UNASSIGNED:
		return access.OwnAndUnassigned
	case accountsettings.GlobalChatVisibilityALL:
		return access.All
	}
	return access.Own
}

func modeOf(d channel.Distribution) distribution.Mode {
	switch d {
	case channel.DistributionFIRST_RESPONDER:
		return distribution.FirstResponder
	case channel.DistributionWEIGHTED:
		return distribution.Weighted
	}
	return distribution.RoundRobin
}

// membersFrom reads a channel's member list out of a directory snapshot.
func membersFrom(snap *snapshot.Snapshot, channelID int64) []member {
	ms := snap.Members[channelID]
	out := make([]member, 0, len(ms))
	for _, m := range ms {
		e := snap.Employees[m.EmployeeID]
		if e == nil {
			continue // cannot happen: a member's employee is in the same snapshot
		}
		out = append(out, member{
			EmployeeID: m.EmployeeID,
			Name:       e.Name,
			Active:     e.Active,
			ChatAdmin:  e.ChatAdmin,
			Role:       roleOf(m.Role),
			Access:     levelOf(m.Access),
			Receives:   m.Receives,
			Weight:     m.Weight,
			Presence:   presenceOf(e.Presence),
			Hours:      e.WorkingHours,
			Capacity:   m.Capacity,
			// Presence from streams (SPEC §11).
			StreamsClosedAt: e.StreamsClosedAt,
		})
	}
	return out
}

// inputFor builds the access table's input for an employee on a channel
// from a directory snapshot and the client's responsible.
func inputFor(snap *snapshot.Snapshot, emp *ent.Employee, ch *ent.Channel, responsible *int64) access.Input {
	in := access.Input{
		Active:         emp.Active,
		ChatAdmin:      emp.ChatAdmin,
		Responsible:    responsibility(emp.ID, responsible),
		FirstResponder: ch.Distribution == channel.DistributionFIRST_RESPONDER,
		Visibility:     visibilityOf(snap.Settings.GlobalChatVisibility),
	}
	if m := snap.Member(ch.ID, emp.ID); m != nil {
		in.Member = &access.Member{Role: roleOf(m.Role), Access: levelOf(m.Access), ReceivesNewClients: m.Receives}
	}
	return in
}

func (v *channelView) member(employeeID int64) *member {
	for i := range v.members {
		if v.members[i].EmployeeID == employeeID {
			return &v.members[i]
		}
	}
	return nil
}

func responsibility(employeeID int64, responsible *int64) access.Responsibility {
	switch {
	case responsible == nil:
		return access.Unassigned
	case *responsible == employeeID:
		return access.Self
	}
	return access.Other
}

// input builds the access table's input for an employee; emp describes
// employees who are not members (nil member record).
func (v *channelView) input(employeeID int64, active, chatAdmin bool, responsible *int64) access.Input {
	in := access.Input{
		Active:         active,
		ChatAdmin:      chatAdmin,
		Responsible:    responsibility(employeeID, responsible),
		FirstResponder: v.ch.Distribution == channel.DistributionFIRST_RESPONDER,
		Visibility:     visibilityOf(v.settings.GlobalChatVisibility),
	}
	if m := v.member(employeeID); m != nil {
		in.Member = &access.Member{Role: m.Role, Access: m.Access, ReceivesNewClients: m.Receives}
		in.Active, in.ChatAdmin = m.Active, m.ChatAdmin
	}
	return in
}

// decideFor applies the access table to a member (or non-member) employee.
func (v *channelView) decideFor(e *ent.Employee, responsible *int64) access.Decision {
	return access.Decide(v.input(e.ID, e.Active, e.ChatAdmin, responsible))
}

// viewers applies the access table to every member.
func (v *channelView) viewers(responsible *int64) ([]push.Viewer, []access.Decision) {
	out := make([]push.Viewer, len(v.members))
	ds := make([]access.Decision, len(v.members))
	for i, m := range v.members {
		ds[i] = access.Decide(v.input(m.EmployeeID, m.Active, m.ChatAdmin, responsible))
		out[i] = push.Viewer{EmployeeID: m.EmployeeID, Role: m.Role, CanView: ds[i].View}
	}
	return out, ds
}

// eligible says whether a member takes part in distributing new clients
// (SPEC §5).
func (m member) eligible() bool {
	return m.Active && m.Receives && m.Access == access.ReadWrite && (m.Role == access.SalesRep || m.Role == access.Manager)
}

// presenceOf converts a stored presence.
func presenceOf(p employee.Presence) availability.Presence {
	switch p {
	case employee.PresenceAWAY:
		return availability.Away
	case employee.PresenceOFFLINE:
		return availability.Offline
	}
	return availability.Online
}

// capacityUsed reports whether an eligible member of the channel has a
// capacity: only then are open clients counted.
func (v *channelView) capacityUsed() bool {
	for _, m := range v.members {
		if m.Capacity > 0 && m.eligible() {
			return true
		}
	}
	return false
}

// hoursUsed reports whether an eligible member of the channel has working
// hours: only then is the account's time zone loaded.
func (v *channelView) hoursUsed() bool {
	for _, m := range v.members {
		if m.Hours != nil && m.eligible() {
			return true
		}
	}
	return false
}

// present is the member list for distribution at now (SPEC §11): eligible
// members who cannot take a client now are marked absent, and listed in
// skipped, in list order, with why. The channel's stream grace is read from
// the channel itself, the streams' closing times from the directory: no
// statement is added for them. open maps an employee to its open
// clients on the channel (nil when no member has a capacity); loc reads
// working hours.
func (v *channelView) present(now time.Time, loc *time.Location, open map[int64]int) ([]distribution.Member, []*pb.SkippedMember) {
	out := v.distribution()
	var skipped []*pb.SkippedMember
	grace := time.Duration(v.ch.StreamGraceMinutes) * time.Minute
	for i, m := range v.members {
		streams := grace > 0 && m.StreamsClosedAt != nil
		if !out[i].Eligible || (m.Presence == availability.Online && m.Hours == nil && m.Capacity == 0 && !streams) {
			continue
		}
		a := availability.Check(availability.Member{Name: m.Name, Presence: m.Presence, Hours: m.Hours,
			Capacity: m.Capacity, Open: open[m.EmployeeID], StreamsClosedAt: m.StreamsClosedAt, StreamGrace: grace}, now, loc)
		if a.Available() {
			continue
		}
		out[i].Absent = true
		skipped = append(skipped, &pb.SkippedMember{EmployeeId: ids.Format(m.EmployeeID), EmployeeName: m.Name,
			Reason: skipReasons[a.Reason], Explanation: a.Explanation})
	}
	return out, skipped
}

var skipReasons = map[availability.Reason]pb.SkipReason{
	availability.NotOnline:    pb.SkipReason_SKIP_REASON_NOT_ONLINE,
	availability.NoStream:     pb.SkipReason_SKIP_REASON_NO_STREAM,
	availability.DayOff:       pb.SkipReason_SKIP_REASON_DAY_OFF,
	availability.OutsideHours: pb.SkipReason_SKIP_REASON_OUTSIDE_HOURS,
	availability.AtCapacity:   pb.SkipReason_SKIP_REASON_AT_CAPACITY,
}

func (v *channelView) distribution() []distribution.Member {
	out := make([]distribution.Member, len(v.members))
	for i, m := range v.members {
		out[i] = distribution.Member{EmployeeID: m.EmployeeID, Name: m.Name, Weight: m.Weight, Eligible: m.eligible()}
	}
	return out
}

func (v *channelView) name(employeeID int64) string {
	if m := v.member(employeeID); m != nil {
		return m.Name
	}
	return ""
}
