package routing_test

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/app"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/routing"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// moscow reads a Moscow wall time.
func moscow(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Moscow")
	NoErr(t, err)
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	NoErr(t, err)
	return tm
}

func withClock(c *clock) Options {
	return Options{Configure: func(o *app.Options) { o.Clock = c.Now }}
}

// TestAvailabilityDefaults: with nothing set, settings read as all off,
// everyone is ONLINE, and the spec's sequence is unchanged with nobody
// skipped, whatever the clock says.
func TestAvailabilityDefaults(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-12-06 03:00")} // a Sunday night
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		s := Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
		if len(s.Account.WorkingHours) != 0 {
			t.Fatalf("working hours by default: %v", s.Account.WorkingHours)
		}
		for _, cs := range s.Channels {
			if cs.Availability != nil {
				t.Fatalf("channel %s: availability by default: %v", cs.ChannelId, cs.Availability)
			}
			for _, m := range cs.Members {
				if m.Capacity != 0 {
					t.Fatalf("capacity by default: %v", m)
				}
			}
		}
		emps := Must[*pb.ListEmployeesResponse](t)(admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{}))
		for _, e := range emps.Employees {
			if e.Presence != pb.Presence_PRESENCE_ONLINE {
				t.Fatalf("%s: presence %v by default", e.Name, e.Presence)
			}
		}
		// Saving the settings back as read changes nothing either.
		UpdateSettings(t, admin, func(*pb.IntegrationSettings) {})
		byID := names(co)
		var got []string
		for i := 0; i < 5; i++ {
			d := Route(t, admin, co.Channels["WhatsApp Sales"], Phone(700000+i), "hi")
			if len(d.Assignment.Skipped) != 0 {
				t.Fatalf("skipped by default: %v", d.Assignment)
			}
			got = append(got, byID[d.Client.ResponsibleEmployeeId])
		}
		want := []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Tony Stark", "Constantine"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		d := Route(t, admin, co.Channels["Telegram Support"], Phone(700100), "hi")
		if len(d.Assignment.CandidateEmployeeIds) != 2 || len(d.Assignment.Skipped) != 0 {
			t.Fatalf("first responder by default: %v", d.Assignment)
		}
	})
}

// TestAvailabilitySkips: members outside their hours, not online or at
// capacity are skipped and named in the decision; they take clients again
// when back.
func TestAvailabilitySkips(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 08:00")} // Monday
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		byID := names(co)
		wa := co.Channels["WhatsApp Sales"]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.TimeZone = "Europe/Moscow"
			s.Account.WorkingHours = []*pb.WorkingHours{{EmployeeId: e["Tony Stark"],
				Weekly: []*pb.WorkingPeriod{{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "09:00", End: "18:00"}}}}
		})
		phone := 710000
		route := func(ch string) *pb.RoutingDecision {
			phone++
			return Route(t, admin, ch, Phone(phone), "hi")
		}
		next := func(n int) ([]string, []*pb.RoutingDecision) {
			var out []string
			var ds []*pb.RoutingDecision
			for i := 0; i < n; i++ {
				d := route(wa)
				out = append(out, byID[d.Client.ResponsibleEmployeeId])
				ds = append(ds, d)
			}
			return out, ds
		}
		got, ds := next(3)
		if want := []string{"Bruce Wayne", "Scrooge McDuck", "Constantine"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("before Tony's shift: %v, want %v", got, want)
		}
		sk := ds[2].Assignment.Skipped
		if len(sk) != 1 || sk[0].EmployeeId != e["Tony Stark"] || sk[0].Reason != pb.SkipReason_SKIP_REASON_OUTSIDE_HOURS ||
			sk[0].Explanation != "Tony Stark: outside working hours (Mon 09:00–18:00 Europe/Moscow)" {
			t.Fatalf("skipped %v", sk)
		}
		if ds[2].Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_DISTRIBUTED {
			t.Fatalf("assignment %v", ds[2].Assignment)
		}

		// The shift starts; Bruce goes away (through his own token).
		clk.Set(moscow(t, "2026-11-30 09:00"))
		tok := Must[*pb.CreateEmployeeTokenResponse](t)(admin.Account.CreateEmployeeToken(ctx, &pb.CreateEmployeeTokenRequest{EmployeeId: e["Bruce Wayne"], Name: "phone"}))
		bruce := env.Clients(tok.Secret, client.Connect)
		_, err := bruce.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e["Tony Stark"], Presence: pb.Presence_PRESENCE_AWAY})
		WantCode(t, err, connect.CodePermissionDenied)
		res := Must[*pb.SetPresenceResponse](t)(bruce.Directory.SetPresence(ctx, &pb.SetPresenceRequest{Presence: pb.Presence_PRESENCE_AWAY}))
		if res.Employee.Id != e["Bruce Wayne"] || res.Employee.Presence != pb.Presence_PRESENCE_AWAY {
			t.Fatalf("presence %v", res.Employee)
		}
		got, ds = next(4)
		if want := []string{"Scrooge McDuck", "Tony Stark", "Tony Stark", "Constantine"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Bruce away: %v, want %v", got, want)
		}
		if sk := ds[0].Assignment.Skipped; len(sk) != 1 || sk[0].Explanation != "Bruce Wayne: not online (AWAY)" {
			t.Fatalf("skipped %v", sk)
		}

		// Back online, with a capacity of the clients he has (1).
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e["Bruce Wayne"], Presence: pb.Presence_PRESENCE_ONLINE})
		NoErr(t, err)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			for _, m := range ChannelSettings(s, wa).Members {
				if m.EmployeeId == e["Bruce Wayne"] {
					m.Capacity = 1
				}
			}
		})
		got, ds = next(1)
		if got[0] != "Scrooge McDuck" {
			t.Fatalf("Bruce at capacity: %v", got)
		}
		sk = ds[0].Assignment.Skipped
		if len(sk) != 1 || sk[0].Reason != pb.SkipReason_SKIP_REASON_AT_CAPACITY || sk[0].Explanation != "Bruce Wayne: at capacity 1/1" {
			t.Fatalf("skipped %v", sk)
		}
		// Closing his client's deal frees the place.
		_, err = admin.Routing.CloseDeal(ctx, &pb.CloseDealRequest{DealId: firstDealOf(t, admin, e["Bruce Wayne"], wa), Outcome: pb.DealOutcome_DEAL_OUTCOME_WON})
		NoErr(t, err)
		got, _ = next(5)
		if want := []string{"Tony Stark", "Tony Stark", "Constantine", "Bruce Wayne", "Scrooge McDuck"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("capacity freed: %v, want %v", got, want)
		}

		// Nobody available: the client waits in the general chat.
		clk.Set(moscow(t, "2026-11-30 19:00"))
		for _, n := range []string{"Bruce Wayne", "Scrooge McDuck", "Constantine"} {
			_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e[n], Presence: pb.Presence_PRESENCE_OFFLINE})
			NoErr(t, err)
		}
		d := route(wa)
		if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE || d.Client.ResponsibleEmployeeId != "" ||
			!d.PostedToGeneralChat || len(d.Assignment.Skipped) != 4 {
			t.Fatalf("nobody available: %v", d)
		}
		// First responder: only available members are candidates.
		tg := route(co.Channels["Telegram Support"])
		if tg.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE || len(tg.Assignment.Skipped) != 2 {
			t.Fatalf("first responder, nobody available: %v", tg.Assignment)
		}
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e["Bruce Wayne"], Presence: pb.Presence_PRESENCE_ONLINE})
		NoErr(t, err)
		tg = route(co.Channels["Telegram Support"])
		if tg.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_PENDING_FIRST_RESPONDER ||
			!reflect.DeepEqual(tg.Assignment.CandidateEmployeeIds, []string{e["Bruce Wayne"]}) || len(tg.Assignment.Skipped) != 1 {
			t.Fatalf("first responder: %v", tg.Assignment)
		}
	})
}

// TestAbsentKeepTurn: with the channel's absent_keep_turn, the spec's
// weighted sequence continues exactly where it stood once Tony is back.
func TestAbsentKeepTurn(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		byID := names(co)
		wa := co.Channels["WhatsApp Sales"]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			ChannelSettings(s, wa).Availability = &pb.ChannelAvailability{AbsentKeepTurn: true}
		})
		presence := func(p pb.Presence) {
			_, err := admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e["Tony Stark"], Presence: p})
			NoErr(t, err)
		}
		var got []string
		for i := 0; i < 9; i++ {
			switch i {
			case 2:
				presence(pb.Presence_PRESENCE_AWAY)
			case 4:
				presence(pb.Presence_PRESENCE_ONLINE)
			}
			d := Route(t, admin, wa, Phone(720000+i), "hi")
			got = append(got, byID[d.Client.ResponsibleEmployeeId])
		}
		want := []string{"Bruce Wayne", "Scrooge McDuck", "Constantine", "Constantine", "Tony Stark", "Tony Stark", "Constantine", "Bruce Wayne", "Scrooge McDuck"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})
}

// firstDealOf finds the deal of one of an employee's clients on a channel.
func firstDealOf(t *testing.T, c *client.Clients, employee, channel string) string {
	t.Helper()
	res := Must[*pb.ListVisibleChatsResponse](t)(c.Routing.ListVisibleChats(ctx, &pb.ListVisibleChatsRequest{EmployeeId: employee, ChannelId: channel}))
	for _, ch := range res.Chats {
		if ch.Chat.DealId != "" {
			return ch.Chat.DealId
		}
	}
	t.Fatalf("no deal of %s on %s", employee, channel)
	return ""
}

// TestAvailabilitySettingsValidation: bad availability settings are
// refused naming each field, and nothing changes.
func TestAvailabilitySettingsValidation(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa := co.Channels["WhatsApp Sales"]
		before := Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
		s := Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
		s.Account.WorkingHours = []*pb.WorkingHours{
			{EmployeeId: e["Tony Stark"], Weekly: []*pb.WorkingPeriod{
				{Day: pb.Weekday_WEEKDAY_UNSPECIFIED, Start: "09:00", End: "18:00"},
				{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "9:00", End: "25:00"},
				{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "18:00", End: "09:00"},
			}, DaysOff: []string{"2026-02-30", "2026-12-31", "2026-12-31"}},
			{EmployeeId: e["Tony Stark"]},
			{EmployeeId: "999999"},
		}
		cs := ChannelSettings(s, wa)
		cs.Members[0].Capacity = -1
		cs.Availability = &pb.ChannelAvailability{ReplyDeadlineMinutes: 10081, MaxPasses: 21, StreamGraceMinutes: -1}
		_, err := admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
		WantCode(t, err, connect.CodeInvalidArgument)
		ch := "settings.channels[0]"
		if ChannelSettings(s, wa) != s.Channels[0] {
			ch = "settings.channels[1]"
		}
		WantViolations(t, err,
			"settings.account.working_hours[0].weekly[0].day",
			"settings.account.working_hours[0].weekly[1].start",
			"settings.account.working_hours[0].weekly[1].end",
			"settings.account.working_hours[0].weekly[2].end",
			"settings.account.working_hours[0].days_off[0]",
			"settings.account.working_hours[0].days_off[2]",
			"settings.account.working_hours[1].employee_id",
			ch+".members[0].capacity",
			ch+".availability.reply_deadline_minutes",
			ch+".availability.max_passes",
			ch+".availability.stream_grace_minutes",
		)
		after := Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
		if after.Revision != before.Revision || len(after.Account.WorkingHours) != 0 {
			t.Fatalf("changed: %v", after)
		}
		// An unknown employee is named once the shape is right.
		s = Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
		s.Account.WorkingHours = []*pb.WorkingHours{{EmployeeId: "999999"}}
		_, err = admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})
		WantViolations(t, err, "settings.account.working_hours[0].employee_id")
		// Presence: UNSPECIFIED and an unknown employee are refused.
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e["Tony Stark"]})
		WantCode(t, err, connect.CodeInvalidArgument)
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: "999999", Presence: pb.Presence_PRESENCE_AWAY})
		WantCode(t, err, connect.CodeNotFound)
		_, err = admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{Presence: pb.Presence_PRESENCE_AWAY})
		WantCode(t, err, connect.CodeInvalidArgument)

		// Saved and read back as written.
		s = Must[*pb.GetIntegrationSettingsResponse](t)(admin.Integration.GetIntegrationSettings(ctx, &pb.GetIntegrationSettingsRequest{})).Settings
		hours := &pb.WorkingHours{EmployeeId: e["Tony Stark"], Weekly: []*pb.WorkingPeriod{
			{Day: pb.Weekday_WEEKDAY_SUNDAY, Start: "10:00", End: "24:00"},
			{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "09:00", End: "18:00"},
		}, DaysOff: []string{"2026-12-31"}}
		s.Account.WorkingHours = []*pb.WorkingHours{hours}
		cs = ChannelSettings(s, wa)
		cs.Members[0].Capacity = 20
		cs.Availability = &pb.ChannelAvailability{AbsentKeepTurn: true, ReplyDeadlineMinutes: 15, MaxPasses: 2, StreamGraceMinutes: 5}
		saved := Must[*pb.UpdateIntegrationSettingsResponse](t)(admin.Integration.UpdateIntegrationSettings(ctx, &pb.UpdateIntegrationSettingsRequest{Settings: s})).Settings
		got := ChannelSettings(saved, wa)
		if len(saved.Account.WorkingHours) != 1 || !proto.Equal(saved.Account.WorkingHours[0], hours) ||
			got.Members[0].Capacity != 20 || !proto.Equal(got.Availability, cs.Availability) {
			t.Fatalf("saved %v", saved)
		}
	})
}

// TestWaitingLine: clients nobody could take wait; when someone becomes
// available (a save after the shift started, a presence back ONLINE, a
// place freed) they are handed out in the order they first wrote, by the
// channel's mode, each with a NEW_CLIENT_ASSIGNED push.
func TestWaitingLine(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 08:00")} // Monday
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		byID := names(co)
		wa := co.Channels["WhatsApp Sales"]
		shift := []*pb.WorkingPeriod{{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "09:00", End: "18:00"}}
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.TimeZone = "Europe/Moscow"
			for _, n := range []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Constantine"} {
				s.Account.WorkingHours = append(s.Account.WorkingHours, &pb.WorkingHours{EmployeeId: e[n], Weekly: shift})
			}
		})
		var waiting []*pb.RoutingDecision
		for i := 0; i < 3; i++ {
			d := Route(t, admin, wa, Phone(730000+i), "before nine")
			if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE || !d.PostedToGeneralChat {
				t.Fatalf("before the shift: %v", d.Assignment)
			}
			waiting = append(waiting, d)
		}
		// Nothing changes before someone is available.
		UpdateSettings(t, admin, func(*pb.IntegrationSettings) {})
		assigned := func(emp string) []string {
			res := Must[*pb.ListNotificationsResponse](t)(admin.Notification.ListNotifications(ctx, &pb.ListNotificationsRequest{EmployeeId: e[emp]}))
			var out []string
			for _, n := range res.Decisions {
				if n.Reason == pb.NotificationReason_NOTIFICATION_REASON_NEW_CLIENT_ASSIGNED {
					out = append(out, n.ChatId)
				}
			}
			return out
		}
		if got := assigned("Bruce Wayne"); len(got) != 0 {
			t.Fatalf("assigned before the shift: %v", got)
		}
		// The shift starts; a save hands the line out: the spec's sequence.
		clk.Set(moscow(t, "2026-11-30 09:00"))
		UpdateSettings(t, admin, func(*pb.IntegrationSettings) {})
		want := map[string]string{"Bruce Wayne": waiting[0].Chat.Id, "Scrooge McDuck": waiting[1].Chat.Id, "Tony Stark": waiting[2].Chat.Id}
		for emp, chat := range want {
			if got := assigned(emp); !reflect.DeepEqual(got, []string{chat}) {
				t.Fatalf("%s was assigned %v, want [%s]", emp, got, chat)
			}
		}
		// The history says each waiting client was distributed, to whom.
		for i, emp := range []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark"} {
			h := Must[*pb.ListAssignmentHistoryResponse](t)(admin.Supervision.ListAssignmentHistory(ctx,
				&pb.ListAssignmentHistoryRequest{ClientId: waiting[i].Client.Id}))
			if len(h.Events) != 1 || h.Events[0].Cause != pb.AssignmentCause_ASSIGNMENT_CAUSE_DISTRIBUTION ||
				h.Events[0].ToEmployeeId != e[emp] || !strings.Contains(h.Events[0].Explanation, "waited") {
				t.Fatalf("history of waiting client %d: %v, want one distribution to %s", i, h.Events, emp)
			}
		}
		// The cycle goes on from there: Tony's second client, then Constantine.
		var got []string
		for i := 0; i < 2; i++ {
			got = append(got, byID[Route(t, admin, wa, Phone(731000+i), "hi").Client.ResponsibleEmployeeId])
		}
		if !reflect.DeepEqual(got, []string{"Tony Stark", "Constantine"}) {
			t.Fatalf("after the line: %v", got)
		}
		// A waiting client's next message finds it assigned.
		again := Route(t, admin, wa, waiting[0].Client.Phone, "hello again")
		if byID[again.Client.ResponsibleEmployeeId] != "Bruce Wayne" {
			t.Fatalf("waiting client after the line: %v", again.Assignment)
		}

		// Presence: everyone offline, a client waits; Constantine comes
		// online and gets it.
		for _, n := range []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Constantine"} {
			_, err := admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e[n], Presence: pb.Presence_PRESENCE_OFFLINE})
			NoErr(t, err)
		}
		d := Route(t, admin, wa, Phone(732000), "anyone?")
		if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE {
			t.Fatalf("all offline: %v", d.Assignment)
		}
		_, err := admin.Directory.SetPresence(ctx, &pb.SetPresenceRequest{EmployeeId: e["Constantine"], Presence: pb.Presence_PRESENCE_ONLINE})
		NoErr(t, err)
		if got := assigned("Constantine"); len(got) == 0 || got[len(got)-1] != d.Chat.Id {
			t.Fatalf("Constantine online: assigned %v, want %s last", got, d.Chat.Id)
		}
	})
}

// TestShiftStartTimer: the waiting line's periodic job hands out clients
// once a shift has started, exactly once however many replicas run it at
// once, and a run with nothing to do changes nothing.
func TestShiftStartTimer(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 08:00")}
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa := co.Channels["WhatsApp Sales"]
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.TimeZone = "Europe/Moscow"
			for _, n := range []string{"Bruce Wayne", "Scrooge McDuck", "Tony Stark", "Constantine"} {
				s.Account.WorkingHours = append(s.Account.WorkingHours, &pb.WorkingHours{EmployeeId: e[n],
					Weekly: []*pb.WorkingPeriod{{Day: pb.Weekday_WEEKDAY_MONDAY, Start: "09:00", End: "18:00"}}})
			}
		})
		const n = 20
		for i := 0; i < n; i++ {
			if d := Route(t, admin, wa, Phone(740000+i), "early"); d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_NONE_AVAILABLE {
				t.Fatalf("before the shift: %v", d.Assignment)
			}
		}
		routers := []*routing.Router{env.Server.App.Router()}
		if b.Name == "postgres" {
			routers = append(routers, env.Replica(withClock(clk)).App.Router())
		}
		if got, err := routers[0].AssignWaitingEverywhere(ctx); err != nil || got != 0 {
			t.Fatalf("before the shift the timer assigned %d (%v)", got, err)
		}
		clk.Set(moscow(t, "2026-11-30 09:00"))
		var mu sync.Mutex
		total := 0
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(r *routing.Router) {
				defer wg.Done()
				got, err := r.AssignWaitingEverywhere(ctx)
				if err != nil {
					t.Errorf("timer: %v", err)
				}
				mu.Lock()
				total += got
				mu.Unlock()
			}(routers[i%len(routers)])
		}
		wg.Wait()
		if total != n {
			t.Fatalf("timers at once assigned %d clients in all, want %d", total, n)
		}
		counts := map[string]int{}
		for i := 0; i < n; i++ {
			d := Route(t, admin, wa, Phone(740000+i), "nine")
			if d.Assignment.Source != pb.ResponsibleSource_RESPONSIBLE_SOURCE_KEPT {
				t.Fatalf("client %d after the shift started: %v", i, d.Assignment)
			}
			counts[names(co)[d.Client.ResponsibleEmployeeId]]++
		}
		// 20 clients by the spec's weights: four rounds of five.
		want := map[string]int{"Bruce Wayne": 4, "Scrooge McDuck": 4, "Tony Stark": 8, "Constantine": 4}
		if !reflect.DeepEqual(counts, want) {
			t.Fatalf("after the shift started: %v, want %v", counts, want)
		}
		if got, err := routers[0].AssignWaitingEverywhere(ctx); err != nil || got != 0 {
			t.Fatalf("a stale timer assigned %d (%v)", got, err)
		}
	})
}
