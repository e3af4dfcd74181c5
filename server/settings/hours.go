package settings

import (
	"fmt"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/availability"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/validate"
)

// Availability settings (SPEC §11): working hours per employee, capacity
// per member, and each channel's rules.

// between records a violation when n is outside lo..hi.
func between(v *errs.Violations, field string, n, lo, hi int32, note string) {
	if n >= lo && n <= hi {
		return
	}
	if note != "" {
		note = " (" + note + ")"
	}
	v.Add(field, "must be between %d and %d%s, got %d", lo, hi, note, n)
}

// checkHours checks working hours' shape: one entry per employee, periods
// on a weekday from a start to a later end, days off as dates, bounded.
func checkHours(v *errs.Violations, at string, hs []*pb.WorkingHours) {
	if len(hs) > 1000 {
		v.Add(at, "at most 1000 entries")
		return
	}
	seen := map[string]bool{}
	for i, h := range hs {
		f := fmt.Sprintf("%s[%d]", at, i)
		ids.Check(v, f+".employee_id", h.EmployeeId, true)
		if h.EmployeeId != "" && seen[h.EmployeeId] {
			v.Add(f+".employee_id", "employee %s has working hours already: at most one entry per employee", h.EmployeeId)
		}
		seen[h.EmployeeId] = true
		if len(h.Weekly) > 50 {
			v.Add(f+".weekly", "at most 50 periods")
		} else {
			for j, p := range h.Weekly {
				pf := fmt.Sprintf("%s.weekly[%d]", f, j)
				validate.Enum(v, pf+".day", p.Day, true)
				start, okStart := availability.ParseClock(p.Start)
				if !okStart || start >= 24*60 {
					v.Add(pf+".start", "must be a time of day \"HH:MM\" from 00:00 to 23:59, got %q", clip(p.Start, 16))
				}
				end, okEnd := availability.ParseClock(p.End)
				switch {
				case !okEnd:
					v.Add(pf+".end", "must be a time of day \"HH:MM\" from 00:01 to 24:00, got %q", clip(p.End, 16))
				case okStart && end <= start:
					v.Add(pf+".end", "must be after start (%s): a shift past midnight is two periods", p.Start)
				}
			}
		}
		if len(h.DaysOff) > 400 {
			v.Add(f+".days_off", "at most 400 dates")
			continue
		}
		dates := map[string]bool{}
		for j, d := range h.DaysOff {
			df := fmt.Sprintf("%s.days_off[%d]", f, j)
			if t, err := time.Parse(time.DateOnly, d); err != nil || t.Format(time.DateOnly) != d {
				v.Add(df, "must be a date \"YYYY-MM-DD\", got %q", clip(d, 16))
			} else if dates[d] {
				v.Add(df, "%s is listed twice", d)
			}
			dates[d] = true
		}
	}
}

// hoursFromPB converts checked working hours for storage.
func hoursFromPB(h *pb.WorkingHours) *types.WorkingHours {
	out := &types.WorkingHours{DaysOff: slices.Clone(h.DaysOff)}
	for _, p := range h.Weekly {
		start, _ := availability.ParseClock(p.Start)
		end, _ := availability.ParseClock(p.End)
		out.Weekly = append(out.Weekly, types.WorkingPeriod{Day: time.Weekday(int(p.Day) % 7), Start: start, End: end})
	}
	if len(out.DaysOff) == 0 {
		out.DaysOff = nil
	}
	return out
}

// hoursToPB converts stored working hours.
func hoursToPB(employeeID int64, h *types.WorkingHours) *pb.WorkingHours {
	out := &pb.WorkingHours{EmployeeId: ids.Format(employeeID), DaysOff: slices.Clone(h.DaysOff)}
	for _, p := range h.Weekly {
		day := pb.Weekday(p.Day)
		if p.Day == time.Sunday {
			day = pb.Weekday_WEEKDAY_SUNDAY
		}
		out.Weekly = append(out.Weekly, &pb.WorkingPeriod{Day: day, Start: availability.Clock(p.Start), End: availability.Clock(p.End)})
	}
	return out
}

// availabilityToPB reads a channel's availability rules; nil when all are
// off.
func availabilityToPB(ch *ent.Channel) *pb.ChannelAvailability {
	a := &pb.ChannelAvailability{AbsentKeepTurn: ch.AbsentKeepTurn, ReplyDeadlineMinutes: int32(ch.ReplyDeadlineMinutes),
		MaxPasses: int32(ch.MaxPasses), StreamGraceMinutes: int32(ch.StreamGraceMinutes)}
	if !a.AbsentKeepTurn && a.ReplyDeadlineMinutes == 0 && a.MaxPasses == 0 && a.StreamGraceMinutes == 0 {
		return nil
	}
	return a
}
