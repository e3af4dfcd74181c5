package crmsync_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/message"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

func TestPeriod(t *testing.T) {
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	moscow, _ := time.LoadLocation("Europe/Moscow")
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	for _, c := range []struct {
		name     string
		mode     accountsettings.SaveMessages
		t        time.Time
		loc      *time.Location
		from, to time.Time
		hours    float64
	}{
		{"an hour of a half-hour zone", accountsettings.SaveMessagesHOURLY, at(kolkata, 2026, 11, 30, 14, 45), kolkata,
			at(kolkata, 2026, 11, 30, 14, 0), at(kolkata, 2026, 11, 30, 15, 0), 1},
		{"a day in Moscow", accountsettings.SaveMessagesDAILY, at(moscow, 2026, 11, 30, 23, 59), moscow,
			at(moscow, 2026, 11, 30, 0, 0), at(moscow, 2026, 12, 1, 0, 0), 24},
		{"the day clocks go forward", accountsettings.SaveMessagesDAILY, at(berlin, 2026, 3, 29, 12, 0), berlin,
			at(berlin, 2026, 3, 29, 0, 0), at(berlin, 2026, 3, 30, 0, 0), 23},
		{"the day clocks go back", accountsettings.SaveMessagesDAILY, at(berlin, 2026, 10, 25, 12, 0), berlin,
			at(berlin, 2026, 10, 25, 0, 0), at(berlin, 2026, 10, 26, 0, 0), 25},
		{"the first 02:30 of the night clocks go back", accountsettings.SaveMessagesHOURLY,
			time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), berlin,
			time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), 1},
		{"the second 02:30 of that night is another hour", accountsettings.SaveMessagesHOURLY,
			time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), berlin,
			time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC), 1},
	} {
		from, to := crmsync.Period(c.mode, c.t, c.loc)
		if !from.Equal(c.from) || !to.Equal(c.to) || to.Sub(from).Hours() != c.hours {
			t.Errorf("%s: [%s, %s), want [%s, %s) of %v hours", c.name, from, to, c.from, c.to, c.hours)
		}
	}
}

// TestEachMessageNotes: with EACH_MESSAGE every message of a chat, in and
// out, reaches the deal's feed exactly once and in order, while the CRM
// answers 503 and loses answers after writing.
func TestEachMessageNotes(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		env, admin, f := throughOutbox(t, b)
		var err error
		res, err := admin.Directory.ListEmployees(ctx, &pb.ListEmployeesRequest{})
		NoErr(t, err)
		var tony string
		for _, e := range res.Employees {
			if e.CrmUserId == "5002" {
				tony = e.Id
			}
		}
		ch, err := admin.Directory.CreateChannel(ctx, &pb.CreateChannelRequest{Kind: pb.ChannelKind_CHANNEL_KIND_WHATSAPP, Name: "WhatsApp"})
		NoErr(t, err)
		UpdateSettings(t, admin, func(s *pb.IntegrationSettings) {
			s.Account.SaveMessages = pb.SaveMessagesMode_SAVE_MESSAGES_MODE_EACH_MESSAGE
			ChannelSettings(s, ch.Channel.Id).Members = []*pb.ChannelMember{Member(tony, Rep, true, true, 1)}
		})
		notes := "/api/v4/leads/notes"
		f.Inject(amofake.Fault{Method: "POST", PathPrefix: notes, Status: 503, Times: 2})
		f.Inject(amofake.Fault{Method: "POST", PathPrefix: notes, DropAfterCommit: true, Times: 2})
		var d *pb.RoutingDecision
		const n = 8
		for i := 0; i < n; i++ {
			if i%3 == 2 {
				_, err := admin.Routing.RouteOutgoingMessage(ctx, &pb.RouteOutgoingMessageRequest{EmployeeId: tony,
					Target: &pb.RouteOutgoingMessageRequest_ChatId{ChatId: d.Chat.Id}, Content: &pb.MessageContent{Text: fmt.Sprintf("reply %d", i)}})
				NoErr(t, err)
				continue
			}
			d = Route(t, admin, ch.Channel.Id, Phone(7), fmt.Sprintf("message %d", i))
		}
		actx := tenant.NewContext(ctx, env.AccountID)
		waitFor(t, "every message is in the CRM", 60*time.Second, func() bool {
			c, err := env.Store.Ent.Chat.Query().Where(chat.ID(ids.Value(d.Chat.Id))).Only(actx)
			if err != nil {
				return false
			}
			newest, err := env.Store.Ent.Message.Query().Order(ent.Desc(message.FieldID)).First(actx)
			return err == nil && c.CrmLoggedMessageID >= newest.ID
		})
		dl, err := env.Store.Ent.Deal.Get(actx, ids.Value(d.Deal.Id))
		NoErr(t, err)
		lead, _ := strconv.ParseInt(*dl.CrmID, 10, 64)
		var got []string
		for _, nt := range f.Notes("leads", lead) {
			got = append(got, nt.Text)
		}
		if len(got) != n {
			t.Fatalf("%d notes for %d messages:\n%s", len(got), n, strings.Join(got, "\n"))
		}
		for i, text := range got {
			want := fmt.Sprintf("message %d", i)
			if i%3 == 2 {
				want = fmt.Sprintf("reply %d", i)
			}
			if !strings.Contains(text, want) || !strings.Contains(text, "[WhatsApp]") {
				t.Fatalf("note %d: %q, want %q", i, text, want)
			}
		}
	})
}

// TestHourlyChatLog: with HOURLY a chat's hour waits in one job scheduled
// at the hour's end, however many messages came; run (and run again, as
// after a lost answer), it writes the hour as one note.
func TestHourlyChatLog(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		fx := connected(t, b)
		UpdateSettings(t, fx.admin, func(s *pb.IntegrationSettings) {
			s.Account.SaveMessages = pb.SaveMessagesMode_SAVE_MESSAGES_MODE_HOURLY
			s.Account.TimeZone = "Asia/Kolkata"
		})
		var d *pb.RoutingDecision
		for i := 0; i < 3; i++ {
			d = Route(t, fx.admin, fx.channel, Phone(9), fmt.Sprintf("hourly %d", i))
		}
		var jobs, waiting int
		row := fx.env.Store.DB.QueryRowContext(ctx, "SELECT count(*), count(*) FILTER (WHERE state = 'scheduled') FROM river_job WHERE kind = 'crm_chat_log'")
		NoErr(t, row.Scan(&jobs, &waiting))
		loc, _ := time.LoadLocation("Asia/Kolkata")
		from, to := crmsync.Period(accountsettings.SaveMessagesHOURLY, time.Now(), loc)
		if jobs != 1 || waiting != 1 {
			t.Fatalf("%d chat-log jobs (%d waiting for the hour's end) for one chat's hour", jobs, waiting)
		}
		NoErr(t, fx.syncer.NewClient(fx.actx, ids.Value(d.Deal.Id), false))
		NoErr(t, fx.syncer.ChatLog(fx.actx, ids.Value(d.Chat.Id), from, to))
		NoErr(t, fx.syncer.ChatLog(fx.actx, ids.Value(d.Chat.Id), from, to))
		dl, err := fx.env.Store.Ent.Deal.Get(fx.actx, ids.Value(d.Deal.Id))
		NoErr(t, err)
		lead, _ := strconv.ParseInt(*dl.CrmID, 10, 64)
		notes := fx.fake.Notes("leads", lead)
		if len(notes) != 1 || strings.Count(notes[0].Text, "hourly ") != 3 || !strings.Contains(notes[0].Text, "IST") {
			t.Fatalf("notes %+v", notes)
		}
	})
}
