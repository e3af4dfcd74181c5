package routing_test

import (
	"sync"
	"testing"

	"connectrpc.com/connect"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestAvailabilityInputEdges: inputs an integrator gets wrong — another
// account's employee, clock strings at the edges, an out-of-range enum,
// bounds just past the limits — are refused by field and change nothing;
// presence for another account's employee is NOT_FOUND.
func TestAvailabilityInputEdges(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa := co.Channels["WhatsApp Sales"]
		otherID, otherKey := env.NewAccount("Other")
		other := env.DemoIn(otherID)
		otherAdmin := env.Clients(otherKey, client.Connect)
		foreign := other.Employees["Tony Stark"]

		get := func() *pb.IntegrationSettings {
			return Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
		}
		before := get()
		s := get()
		s.Account.WorkingHours = []*pb.WorkingHours{
			{EmployeeId: e["Tony Stark"], Weekly: []*pb.WorkingPeriod{
				{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "24:00", End: "24:00"},
				{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "09:00", End: "00:00"},
				{Day: pb.Weekday(99), Start: "09:00", End: "18:00"},
				{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "09:00 ", End: "18:00"},
				{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "-1:00", End: "18:00"},
				{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "09:00", End: "24:01"},
			}, DaysOff: []string{"2026-1-01", "31.12.2026", ""}},
		}
		cs := ChannelSettings(s, wa)
		cs.Members[0].Capacity = 10001
		cs.Availability = &pb.ChannelAvailability{ReplyDeadlineMinutes: -1, MaxPasses: -1, StreamGraceMinutes: 1441}
		_, err := admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
		WantCode(t, err, connect.CodeInvalidArgument)
		ch := "settings.channels[0]"
		if ChannelSettings(s, wa) != s.Channels[0] {
			ch = "settings.channels[1]"
		}
		wh := "settings.account.working_hours[0]"
		WantViolations(t, err,
			wh+".weekly[0].start",
			wh+".weekly[1].end",
			wh+".weekly[2].day",
			wh+".weekly[3].start",
			wh+".weekly[4].start",
			wh+".weekly[5].end",
			wh+".days_off[0]",
			wh+".days_off[1]",
			wh+".days_off[2]",
			ch+".members[0].capacity",
			ch+".availability.reply_deadline_minutes",
			ch+".availability.max_passes",
			ch+".availability.stream_grace_minutes",
		)
		// Another account's employee is not found in this one.
		s = get()
		s.Account.WorkingHours = []*pb.WorkingHours{{EmployeeId: foreign, DaysOff: []string{"2026-12-31"}}}
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
		WantViolations(t, err, "settings.account.working_hours[0].employee_id")
		// "Local" is the server's own zone, not an IANA name: hours read in
		// it would follow wherever each replica runs.
		s = get()
		s.Account.TimeZone = "Local"
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
		WantViolations(t, err, "settings.account.time_zone")
		if after := get(); after.Revision != before.Revision || len(after.Account.WorkingHours) != 0 || after.Account.TimeZone != before.Account.TimeZone {
			t.Fatalf("changed: %v", after)
		}

		// Presence: out of range, and another account's employee.
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e["Tony Stark"], Presence: pb.Presence(42)})
		WantCode(t, err, connect.CodeInvalidArgument)
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: foreign, Presence: pb.Presence_PRESENCE_AWAY})
		WantCode(t, err, connect.CodeNotFound)
		// An employee token naming another account's employee.
		tok := Must[*pb.CreateEmployeeTokenResponse](t)(admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: e["Bruce Wayne"], Name: "phone"}))
		bruce := env.Clients(tok.Secret, client.Connect)
		_, err = bruce.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: foreign, Presence: pb.Presence_PRESENCE_AWAY})
		if err == nil {
			t.Fatal("an employee token set another account's employee's presence")
		}
		for _, c := range []*client.Clients{admin, otherAdmin} {
			emps := Must[*pb.ListEmployeesResponse](t)(c.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{}))
			for _, x := range emps.Employees {
				if x.Presence != pb.Presence_PRESENCE_ONLINE {
					t.Fatalf("%s: presence %v", x.Name, x.Presence)
				}
			}
		}

		// The same presence set many times at once: every call answers
		// with it, and it is what reads back.
		var wg sync.WaitGroup
		errc := make(chan error, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e["Constantine"], Presence: pb.Presence_PRESENCE_AWAY})
				if err == nil && res.Employee.Presence != pb.Presence_PRESENCE_AWAY {
					t.Errorf("answered %v", res.Employee)
				}
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			NoErr(t, err)
		}
		emps := Must[*pb.ListEmployeesResponse](t)(admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{}))
		for _, x := range emps.Employees {
			want := pb.Presence_PRESENCE_ONLINE
			if x.Id == e["Constantine"] {
				want = pb.Presence_PRESENCE_AWAY
			}
			if x.Presence != want {
				t.Fatalf("%s: presence %v, want %v", x.Name, x.Presence, want)
			}
		}
		if after := get(); after.Revision != before.Revision {
			t.Fatalf("presence moved the revision: %d -> %d", before.Revision, after.Revision)
		}
	})
}
