package routing_test

import (
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestHoursAtTimeZoneEdges: with only Tony online, whether he takes a new
// client follows the account's wall clock — a day off is the account's
// date, not UTC's; a period ending 24:00 runs on into the next day's 00:00
// period; on the days New York's clocks change, periods keep their wall
// times (the repeated 01:00–02:00 hour in November is inside a 01:00–02:00
// period both times).
func TestHoursAtTimeZoneEdges(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa := co.Channels["WhatsApp Sales"]
		for _, n := range []string{"Bruce Wayne", "Scrooge McDuck", "Constantine"} {
			_, err := admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e[n], Presence: pb.Presence_PRESENCE_OFFLINE})
			NoErr(t, err)
		}
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.TimeZone = "America/New_York"
			s.Account.WorkingHours = []*pb.WorkingHours{{EmployeeId: e["Tony Stark"], Weekly: []*pb.WorkingPeriod{
				{Day: pb.Weekday_WEEKDAY_SUNDAY, Start: "01:00", End: "02:00"},
				{Day: pb.Weekday_WEEKDAY_SUNDAY, Start: "03:00", End: "04:00"},
				{Day: pb.Weekday_WEEKDAY_SUNDAY, Start: "22:00", End: "24:00"},
				{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "00:00", End: "01:00"},
				{Day: pb.Weekday_WEEKDAY_TUESDAY, Start: "00:00", End: "24:00"},
			}, DaysOff: []string{"2026-03-09"}}}
		})
		phone := 830000
		cases := []struct {
			utc    string
			tony   bool
			reason pb.SkipReason
		}{
			{"2026-03-08 06:59", true, 0},                                        // Sun 01:59 EST
			{"2026-03-08 07:00", true, 0},                                        // Sun 03:00 EDT: the clocks jumped past 02:00
			{"2026-03-08 08:00", false, pb.SkipReason_SKIP_REASON_OUTSIDE_HOURS}, // Sun 04:00 EDT
			{"2026-03-09 03:59", true, 0},                                        // Sun 23:59 EDT
			{"2026-03-09 04:00", false, pb.SkipReason_SKIP_REASON_DAY_OFF},       // Mon 00:00 EDT, a day off
			{"2026-03-10 03:59", false, pb.SkipReason_SKIP_REASON_DAY_OFF},       // Mon 23:59 EDT, still the day off
			{"2026-03-10 04:00", true, 0},                                        // Tue 00:00 EDT
			{"2026-11-01 05:30", true, 0},                                        // Sun 01:30 EDT
			{"2026-11-01 06:30", true, 0},                                        // Sun 01:30 EST, the hour again
			{"2026-11-01 07:00", false, pb.SkipReason_SKIP_REASON_OUTSIDE_HOURS}, // Sun 02:00 EST
			{"2026-11-02 04:59", true, 0},                                        // Sun 23:59 EST
			{"2026-11-02 05:00", true, 0},                                        // Mon 00:00 EST: 24:00 runs on into 00:00
			{"2026-11-02 06:00", false, pb.SkipReason_SKIP_REASON_OUTSIDE_HOURS}, // Mon 01:00 EST
		}
		for _, c := range cases {
			at, err := time.Parse("2006-01-02 15:04", c.utc)
			NoErr(t, err)
			clk.Set(at)
			phone++
			d := Route(t, admin, wa, Phone(phone), "hi")
			got := d.Client.ResponsibleEmployeeId == e["Tony Stark"]
			if got != c.tony {
				t.Errorf("%s UTC: Tony takes the client %v, want %v (%v)", c.utc, got, c.tony, d.Assignment)
				continue
			}
			if !c.tony {
				var reason pb.SkipReason
				for _, s := range d.Assignment.Skipped {
					if s.EmployeeId == e["Tony Stark"] {
						reason = s.Reason
					}
				}
				if reason != c.reason {
					t.Errorf("%s UTC: Tony skipped for %v, want %v (%v)", c.utc, reason, c.reason, d.Assignment.Skipped)
				}
			}
		}
	})
}
