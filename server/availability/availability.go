// Package availability decides whether a channel member can take a new
// client right now (SPEC §11): inside its working hours, ONLINE (and, where
// the channel asks, with a notification stream open or closed only
// briefly), below its capacity. Plain functions over plain values, with table tests; routing
// feeds them the time, the account's time zone and the open-client counts
// it read, and distribution skips whoever they say is absent.
package availability

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent/schema/types"
)

// Presence is an employee's presence. The zero value is Online: presence
// nobody ever set changes nothing.
type Presence int

// Presences.
const (
	Online Presence = iota
	Away
	Offline
)

func (p Presence) String() string {
	switch p {
	case Away:
		return "AWAY"
	case Offline:
		return "OFFLINE"
	}
	return "ONLINE"
}

// Reason is why a member cannot take a client; None: it can.
type Reason int

// Reasons, in the order they are checked.
const (
	None Reason = iota
	NotOnline
	NoStream
	DayOff
	OutsideHours
	AtCapacity
)

// Member is what availability reads of a channel member.
type Member struct {
	Name     string
	Presence Presence
	// Hours nil: works at any time.
	Hours *types.WorkingHours
	// Capacity 0: no limit.
	Capacity int
	// Open is the member's open clients on the channel (only read when
	// Capacity > 0).
	Open int
	// StreamsClosedAt is when the member's last notification stream
	// closed; nil while one is open or when it never opened one.
	StreamsClosedAt *time.Time
	// StreamGrace is the channel's grace for streams: a member ONLINE
	// whose streams have all been closed for longer counts as AWAY. 0:
	// streams are not looked at.
	StreamGrace time.Duration
}

// Absence says why a member cannot take a client now.
type Absence struct {
	Reason Reason
	// Explanation starts with the member's name: "Bruce Wayne: at
	// capacity 20/20".
	Explanation string
}

// Available reports whether the absence is none.
func (a Absence) Available() bool { return a.Reason == None }

// Check says whether m can take a new client at now, its working hours read
// in loc. The first reason found wins: presence, streams, day off, hours,
// capacity.
func Check(m Member, now time.Time, loc *time.Location) Absence {
	if m.Presence != Online {
		return Absence{NotOnline, fmt.Sprintf("%s: not online (%s)", m.Name, m.Presence)}
	}
	if gone, ok := StreamsGone(m.StreamsClosedAt, m.StreamGrace, now); ok {
		return Absence{NoStream, fmt.Sprintf("%s: no notification stream for %d min (%s)", m.Name, int(gone/time.Minute), Away)}
	}
	if h := m.Hours; h != nil {
		if loc == nil {
			loc = time.UTC
		}
		t := now.In(loc)
		if day := t.Format(time.DateOnly); slices.Contains(h.DaysOff, day) {
			return Absence{DayOff, fmt.Sprintf("%s: day off (%s %s)", m.Name, t.Format("Mon"), day)}
		}
		if !Working(h, t) {
			return Absence{OutsideHours, fmt.Sprintf("%s: outside working hours (%s %s)", m.Name, t.Format("Mon"), DayHours(h, t.Weekday(), loc))}
		}
	}
	if m.Capacity > 0 && m.Open >= m.Capacity {
		return Absence{AtCapacity, fmt.Sprintf("%s: at capacity %d/%d", m.Name, m.Open, m.Capacity)}
	}
	return Absence{}
}

// StreamsGone says how long a member's streams have all been closed at now
// and whether that is longer than grace (so it counts as away). A grace of 0
// is off, and a member with no closing time (a stream open, or none ever
// opened) is never away for streams.
func StreamsGone(closedAt *time.Time, grace time.Duration, now time.Time) (time.Duration, bool) {
	if grace <= 0 || closedAt == nil {
		return 0, false
	}
	gone := now.Sub(*closedAt)
	return gone, gone > grace
}

// Working reports whether t (already in the account's time zone) falls in
// the weekly schedule; an empty schedule is every day, all day. Days off
// are not looked at.
func Working(h *types.WorkingHours, t time.Time) bool {
	if h == nil || len(h.Weekly) == 0 {
		return true
	}
	minute := t.Hour()*60 + t.Minute()
	for _, p := range h.Weekly {
		if p.Day == t.Weekday() && p.Start <= minute && minute < p.End {
			return true
		}
	}
	return false
}

// DayHours says a weekday's periods in words with the zone's name:
// "09:00–13:00, 14:00–18:00 Europe/Moscow", or "no hours, Europe/Moscow".
func DayHours(h *types.WorkingHours, day time.Weekday, loc *time.Location) string {
	var spans []string
	for _, p := range h.Weekly {
		if p.Day == day {
			spans = append(spans, Clock(p.Start)+"–"+Clock(p.End))
		}
	}
	if len(spans) == 0 {
		return "no hours, " + loc.String()
	}
	return strings.Join(spans, ", ") + " " + loc.String()
}

// Clock writes minutes after midnight as "HH:MM" (1440 is "24:00").
func Clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// ParseClock reads "HH:MM" (00:00..24:00) as minutes after midnight.
func ParseClock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err == nil && len(s) == 5 {
		return t.Hour()*60 + t.Minute(), true
	}
	if s == "24:00" {
		return 24 * 60, true
	}
	return 0, false
}

// NextStart is the first moment after now (at minute precision) when the
// schedule makes a member working who is not working at now, looking a
// fortnight ahead; ok false when there is none (a schedule of days off
// only, or nothing but days off ahead). Used to wake waiting clients when
// a shift starts.
func NextStart(h *types.WorkingHours, now time.Time, loc *time.Location) (time.Time, bool) {
	if h == nil {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	at := func(t time.Time) bool {
		return Working(h, t) && !slices.Contains(h.DaysOff, t.Format(time.DateOnly))
	}
	t := now.In(loc).Truncate(time.Minute)
	// A shift starts at a period's start or at a midnight (a day off
	// ending), where the minute before was not working time.
	for d := 0; d <= 14; d++ {
		day := time.Date(t.Year(), t.Month(), t.Day()+d, 0, 0, 0, 0, loc)
		starts := []int{0}
		for _, p := range h.Weekly {
			if p.Day == day.Weekday() {
				starts = append(starts, p.Start)
			}
		}
		slices.Sort(starts)
		for _, m := range starts {
			// The wall time, not midnight plus minutes: a day the clocks
			// change on is 23 or 25 hours long.
			c := time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, loc)
			if c.After(now) && at(c) && !at(c.Add(-time.Minute)) {
				return c, true
			}
		}
	}
	return time.Time{}, false
}
