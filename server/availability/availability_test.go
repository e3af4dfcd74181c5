package availability

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/schema/types"
)

func TestCheck(t *testing.T) {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	// Mon 2026-11-30 09:00–18:00, Tue 09:00–13:00 and 14:00–18:00.
	week := &types.WorkingHours{Weekly: []types.WorkingPeriod{
		{Day: time.Monday, Start: 9 * 60, End: 18 * 60},
		{Day: time.Tuesday, Start: 9 * 60, End: 13 * 60},
		{Day: time.Tuesday, Start: 14 * 60, End: 18 * 60},
	}, DaysOff: []string{"2026-12-31"}}
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, moscow)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC() // routing passes UTC; the rule reads it in the zone
	}
	cases := []struct {
		name string
		m    Member
		now  time.Time
		want Reason
		expl string
	}{
		{"defaults: available", Member{Name: "Tony Stark"}, at("2026-11-29 03:00"), None, ""},
		{"inside hours", Member{Name: "Tony Stark", Hours: week}, at("2026-11-30 09:00"), None, ""},
		{"before the shift", Member{Name: "Tony Stark", Hours: week}, at("2026-11-30 08:59"), OutsideHours,
			"Tony Stark: outside working hours (Mon 09:00–18:00 Europe/Moscow)"},
		{"the end is outside", Member{Name: "Tony Stark", Hours: week}, at("2026-11-30 18:00"), OutsideHours,
			"Tony Stark: outside working hours (Mon 09:00–18:00 Europe/Moscow)"},
		{"lunch break", Member{Name: "Tony Stark", Hours: week}, at("2026-12-01 13:30"), OutsideHours,
			"Tony Stark: outside working hours (Tue 09:00–13:00, 14:00–18:00 Europe/Moscow)"},
		{"no hours that day", Member{Name: "Tony Stark", Hours: week}, at("2026-12-06 12:00"), OutsideHours,
			"Tony Stark: outside working hours (Sun no hours, Europe/Moscow)"},
		{"day off", Member{Name: "Tony Stark", Hours: &types.WorkingHours{DaysOff: []string{"2026-12-31"}}}, at("2026-12-31 12:00"), DayOff,
			"Tony Stark: day off (Thu 2026-12-31)"},
		{"days off only: any other day", Member{Name: "Tony Stark", Hours: &types.WorkingHours{DaysOff: []string{"2026-12-31"}}}, at("2026-12-30 23:59"), None, ""},
		{"away", Member{Name: "Tony Stark", Presence: Away, Hours: week}, at("2026-11-30 10:00"), NotOnline, "Tony Stark: not online (AWAY)"},
		{"offline", Member{Name: "Tony Stark", Presence: Offline}, at("2026-11-30 10:00"), NotOnline, "Tony Stark: not online (OFFLINE)"},
		{"at capacity", Member{Name: "Bruce Wayne", Capacity: 20, Open: 20}, at("2026-11-30 10:00"), AtCapacity, "Bruce Wayne: at capacity 20/20"},
		{"below capacity", Member{Name: "Bruce Wayne", Capacity: 20, Open: 19}, at("2026-11-30 10:00"), None, ""},
		{"no limit", Member{Name: "Bruce Wayne", Open: 500}, at("2026-11-30 10:00"), None, ""},
		{"streams closed longer than the grace", Member{Name: "Tony Stark", StreamsClosedAt: ptr(at("2026-11-30 09:48")),
			StreamGrace: 10 * time.Minute}, at("2026-11-30 10:00"), NoStream, "Tony Stark: no notification stream for 12 min (AWAY)"},
		{"streams closed within the grace", Member{Name: "Tony Stark", StreamsClosedAt: ptr(at("2026-11-30 09:52")),
			StreamGrace: 10 * time.Minute}, at("2026-11-30 10:00"), None, ""},
		{"streams closed exactly the grace ago", Member{Name: "Tony Stark", StreamsClosedAt: ptr(at("2026-11-30 09:50")),
			StreamGrace: 10 * time.Minute}, at("2026-11-30 10:00"), None, ""},
		{"grace 0: streams not looked at", Member{Name: "Tony Stark", StreamsClosedAt: ptr(at("2026-11-01 09:00"))},
			at("2026-11-30 10:00"), None, ""},
		{"a stream open, or none ever", Member{Name: "Tony Stark", StreamGrace: time.Minute}, at("2026-11-30 10:00"), None, ""},
		{"presence first", Member{Name: "Tony Stark", Presence: Offline, StreamsClosedAt: ptr(at("2026-11-30 09:00")),
			StreamGrace: time.Minute}, at("2026-11-30 10:00"), NotOnline, "Tony Stark: not online (OFFLINE)"},
		{"streams before hours", Member{Name: "Tony Stark", Hours: week, StreamsClosedAt: ptr(at("2026-11-30 06:00")),
			StreamGrace: time.Minute}, at("2026-11-30 08:00"), NoStream, "Tony Stark: no notification stream for 120 min (AWAY)"},
		{"streams but at capacity", Member{Name: "Bruce Wayne", Capacity: 1, Open: 1, StreamsClosedAt: ptr(at("2026-11-30 09:59")),
			StreamGrace: 5 * time.Minute}, at("2026-11-30 10:00"), AtCapacity, "Bruce Wayne: at capacity 1/1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Check(c.m, c.now, moscow)
			if got.Reason != c.want || got.Explanation != c.expl {
				t.Fatalf("got %v %q, want %v %q", got.Reason, got.Explanation, c.want, c.expl)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	for s, want := range map[string]int{"00:00": 0, "09:30": 570, "23:59": 1439, "24:00": 1440} {
		if got, ok := ParseClock(s); !ok || got != want {
			t.Errorf("%s: %d %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "9:30", "24:01", "25:00", "12:60", "noon", "12:00:00"} {
		if _, ok := ParseClock(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestNextStart(t *testing.T) {
	week := &types.WorkingHours{Weekly: []types.WorkingPeriod{
		{Day: time.Monday, Start: 9 * 60, End: 18 * 60},
		{Day: time.Tuesday, Start: 0, End: 6 * 60},
		{Day: time.Monday, Start: 22 * 60, End: 24 * 60},
	}, DaysOff: []string{"2026-12-07"}}
	utc := func(s string) time.Time { tm, _ := time.Parse("2006-01-02 15:04", s); return tm }
	cases := []struct{ now, want string }{
		{"2026-11-30 08:00", "2026-11-30 09:00"},
		{"2026-11-30 12:00", "2026-11-30 22:00"},
		// Mon 22:00 runs on into Tuesday's 00:00: no start at midnight.
		// Dec 7 (Mon) is a day off: Tuesday 00:00 starts a shift then.
		{"2026-11-30 23:00", "2026-12-08 00:00"},
	}
	for _, c := range cases {
		got, ok := NextStart(week, utc(c.now), time.UTC)
		if !ok || !got.Equal(utc(c.want)) {
			t.Errorf("after %s: %v %v, want %s", c.now, got, ok, c.want)
		}
	}
	if _, ok := NextStart(nil, utc("2026-11-30 08:00"), time.UTC); ok {
		t.Error("no hours: a start")
	}
}

func ptr[T any](v T) *T { return &v }

// TestNextStartAcrossDST: a shift starts at its wall-clock time on the days
// the clocks change, not an hour off.
func TestNextStartAcrossDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	week := &types.WorkingHours{Weekly: []types.WorkingPeriod{
		{Day: time.Sunday, Start: 9 * 60, End: 18 * 60},
		{Day: time.Monday, Start: 9 * 60, End: 18 * 60},
	}}
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct{ now, want string }{
		{"2026-03-08 01:00", "2026-03-08 09:00"}, // spring forward at 02:00
		{"2026-03-07 20:00", "2026-03-08 09:00"},
		{"2026-11-01 00:30", "2026-11-01 09:00"}, // fall back at 02:00
		{"2026-10-31 20:00", "2026-11-01 09:00"},
		{"2026-11-01 19:00", "2026-11-02 09:00"},
	}
	for _, c := range cases {
		got, ok := NextStart(week, at(c.now), ny)
		if !ok || !got.Equal(at(c.want)) {
			t.Errorf("after %s: %v %v, want %s", c.now, got.In(ny), ok, c.want)
		}
	}
}
