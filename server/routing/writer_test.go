package routing_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/distributioncursor"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/schema/types"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/push"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// writerDir is an account's directory as the writes name it.
type writerDir struct {
	account, channel, cursor int64
	bruce, scrooge           int64
	pipeline, stage, status  int64
	// clients created by the steps, in order, with their chats.
	clients, chats []int64
}

// errRollBack ends a step's transaction without committing it.
var errRollBack = errors.New("roll back")

// writerSteps are the writes every implementation makes, in order, each
// checking what the writer returns against what it stored.
var writerSteps = []struct {
	name string
	run  func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir)
}{
	{"a new client with a deal", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		createClient(t, ctx, st, w, d, routing.NewClientArgs{Identity: "+79160000001", Phone: "+79160000001", Name: "Ann",
			Kind: string(deal.KindDEAL), PipelineID: &d.pipeline, StageID: &d.stage})
	}},
	{"a new client with a lead", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		createClient(t, ctx, st, w, d, routing.NewClientArgs{Identity: "+79160000002", Phone: "+79160000002", Name: "Bob",
			Kind: string(deal.KindLEAD), LeadStatusID: &d.status})
	}},
	{"a new test client only, by handle", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		createClient(t, ctx, st, w, d, routing.NewClientArgs{Identity: "telegram:@cat", Handle: "@cat", Name: "@cat", Test: true})
	}},
	{"a client that exists is a unique violation", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		err := st.Tx(ctx, func(tx *ent.Tx) error {
			_, _, _, err := w.CreateClient(ctx, tx, routing.NewClientArgs{AccountID: d.account, ChannelID: d.channel,
				Identity: "+79160000001", Phone: "+79160000001", Name: "Ann again"})
			return err
		})
		if !store.IsUniqueViolation(err) {
			t.Fatalf("err %v, want a unique violation", err)
		}
	}},
	{"a distributed message moves the cursor and sets the responsible", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		storeMessage(t, ctx, st, w, d, routing.StoreArgs{CursorID: d.cursor, CursorLast: d.bruce, CursorStreak: 1,
			SetResponsible: true, To: &d.bruce, ClientID: d.clients[0], ChatID: d.chats[0], Text: "hello", History: "to Bruce",
			Attachments: []types.Attachment{{URL: "https://example.com/a.jpg", MimeType: "image/jpeg", FileName: "a.jpg"}},
			GatewayID:   "gw-1", Decision: []byte("first"),
			Pushes: []notify.Decision{
				push1(d, d.bruce, push.NewClientAssigned, 0, "hello", "yours"),
				push1(d, 0, push.GeneralChat, 0, "hello", "for everyone"),
			}})
	}},
	{"a message clears the responsible", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		storeMessage(t, ctx, st, w, d, routing.StoreArgs{SetResponsible: true, From: &d.bruce, ClientID: d.clients[0],
			ChatID: d.chats[0], Text: "again", GatewayID: "gw-2", Decision: []byte("second"), History: "from Bruce"})
	}},
	{"a message changes nothing but the log, and revokes another chat", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		storeMessage(t, ctx, st, w, d, routing.StoreArgs{ClientID: d.clients[1], ChatID: d.chats[1],
			Attachments: []types.Attachment{{URL: "https://example.com/b.pdf"}}, GatewayID: "gw-3", Decision: []byte("third"),
			Pushes: []notify.Decision{
				push1(d, d.scrooge, push.Responsible, 1, "[1 attachment]", "yours still"),
				push1(d, d.bruce, push.ChatRevoked, 1, "", "gone"),
			}})
	}},
	{"a responsible changed meanwhile is not overwritten", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		err := st.Tx(ctx, func(tx *ent.Tx) error {
			_, _, err := w.StoreIncoming(ctx, tx, routing.StoreArgs{AccountID: d.account, CursorID: d.cursor, CursorLast: d.scrooge,
				CursorStreak: 1, SetResponsible: true, From: &d.bruce, To: &d.scrooge, ClientID: d.clients[1], ChatID: d.chats[1],
				GatewayID: "gw-4", Decision: []byte("lost"), History: "never written"})
			if routing.IsResponsibleMoved(err) {
				return errRollBack
			}
			return fmt.Errorf("err %v, want the responsible moved", err)
		})
		if err != errRollBack {
			t.Fatal(err)
		}
	}},
	{"a gateway id used before is a unique violation", func(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir) {
		err := st.Tx(ctx, func(tx *ent.Tx) error {
			_, _, err := w.StoreIncoming(ctx, tx, routing.StoreArgs{AccountID: d.account, ClientID: d.clients[2], ChatID: d.chats[2],
				GatewayID: "gw-1", Decision: []byte("copy")})
			return err
		})
		if !store.IsUniqueViolation(err) {
			t.Fatalf("err %v, want a unique violation", err)
		}
	}},
}

// push1 is a push about the chat of the step's client i (the first is 0).
func push1(d *writerDir, employee int64, reason push.Reason, client int, preview, explanation string) notify.Decision {
	return notify.Decision{EmployeeID: employee, Reason: reason, ChatID: d.chats[client], ContactID: d.clients[client],
		ContactName: fmt.Sprintf("client %d", client), ChannelID: d.channel, ChannelName: "WhatsApp Sales", ChannelKind: "WHATSAPP",
		Preview: preview, Explanation: explanation}
}

func createClient(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir, a routing.NewClientArgs) {
	t.Helper()
	a.AccountID, a.ChannelID = d.account, d.channel
	var cl *ent.Contact
	var dl *ent.Deal
	var cht *ent.Chat
	NoErr(t, st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		cl, dl, cht, err = w.CreateClient(ctx, tx, a)
		return err
	}))
	c := st.Ent
	gotCt := Must[*ent.Contact](t)(c.Contact.Get(ctx, cl.ID))
	if !sameRow(gotCt, cl) {
		t.Fatalf("client returned %+v, stored %+v", cl, gotCt)
	}
	gotChat := Must[*ent.Chat](t)(c.Chat.Get(ctx, cht.ID))
	if !sameRow(gotChat, cht) {
		t.Fatalf("chat returned %+v, stored %+v", cht, gotChat)
	}
	if (a.Kind == "") != (dl == nil) {
		t.Fatalf("kind %q, deal %+v", a.Kind, dl)
	}
	if dl != nil {
		if gotDeal := Must[*ent.Deal](t)(c.Deal.Get(ctx, dl.ID)); !sameRow(gotDeal, dl) {
			t.Fatalf("deal returned %+v, stored %+v", dl, gotDeal)
		}
	}
	d.clients, d.chats = append(d.clients, cl.ID), append(d.chats, cht.ID)
}

func storeMessage(t *testing.T, ctx context.Context, st *store.Store, w routing.TestWriter, d *writerDir, a routing.StoreArgs) {
	t.Helper()
	a.AccountID = d.account
	var msg *ent.Message
	var notes []*pb.NotificationDecision
	NoErr(t, st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		msg, notes, err = w.StoreIncoming(ctx, tx, a)
		return err
	}))
	c := st.Ent
	if got := Must[*ent.Message](t)(c.Message.Get(ctx, msg.ID)); !sameRow(got, msg) {
		t.Fatalf("message returned %+v, stored %+v", msg, got)
	}
	rows := Must[[]*ent.Notification](t)(c.Notification.Query().Where(notification.MessageID(msg.ID)).
		Order(ent.Asc(notification.FieldTxid), ent.Asc(notification.FieldID)).All(ctx))
	if len(rows) != len(notes) || len(notes) != len(a.Pushes) {
		t.Fatalf("%d pushes returned, %d stored, %d given", len(notes), len(rows), len(a.Pushes))
	}
	for i, n := range rows {
		if stored := notify.ToPB(n); !proto.Equal(stored, notes[i]) {
			t.Fatalf("push %d returned %v, stored %v", i, notes[i], stored)
		}
	}
}

// sameRow compares two rows of one table by their fields (ent's row
// structs also hold a driver and edges).
func sameRow[T any](a, b *T) bool {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := 0; i < va.NumField(); i++ {
		f := va.Type().Field(i)
		if !f.IsExported() || f.Name == "Edges" {
			continue
		}
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		if !reflect.DeepEqual(x, y) && fmt.Sprint(deref(x)) != fmt.Sprint(deref(y)) {
			return false
		}
	}
	return true
}

func deref(v any) any {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}

// TestWriters runs the same writes through every writer implementation a
// store has (ent on SQLite; one PostgreSQL statement per group and ent on
// PostgreSQL), each in an account of its own with the same directory, and
// checks that they store the same rows.
func TestWriters(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		dumps := map[string][]string{}
		var names []string
		for _, w := range routing.Writers(env.Store) {
			names = append(names, w.Name)
			t.Run(w.Name, func(t *testing.T) {
				acct, _ := env.NewAccount("Writes by " + w.Name)
				co := env.DemoIn(acct)
				ctx := tenant.NewContext(context.Background(), acct)
				c := env.Store.Ent
				d := &writerDir{account: acct, channel: ids.Value(co.Channels["WhatsApp Sales"]),
					bruce: ids.Value(co.Employees["Bruce Wayne"]), scrooge: ids.Value(co.Employees["Scrooge McDuck"])}
				d.cursor = Must[*ent.DistributionCursor](t)(c.DistributionCursor.Query().
					Where(distributioncursor.ChannelID(d.channel)).Only(ctx)).ID
				st := Must[*ent.Stage](t)(c.Stage.Query().First(ctx))
				d.pipeline, d.stage = st.PipelineID, st.ID
				d.status = Must[*ent.LeadStatus](t)(c.LeadStatus.Query().First(ctx)).ID
				for _, s := range writerSteps {
					if !t.Run(s.name, func(t *testing.T) { s.run(t, ctx, env.Store, w, d) }) {
						t.FailNow()
					}
				}
				dumps[w.Name] = dumpRouting(t, ctx, env.Store, d)
			})
		}
		first := dumps[names[0]]
		for _, n := range names[1:] {
			other := dumps[n]
			for i := range max(len(first), len(other)) {
				var a, b string
				if i < len(first) {
					a = first[i]
				}
				if i < len(other) {
					b = other[i]
				}
				if a != b {
					t.Errorf("row %d:\n%s stored %s\n%s stored %s", i, names[0], a, n, b)
				}
			}
		}
	})
}

// dumpRouting lists what routing's writes stored in the account, with
// ids replaced by what they stand for and times left out.
func dumpRouting(t *testing.T, ctx context.Context, st *store.Store, d *writerDir) []string {
	t.Helper()
	c := st.Ent
	emp := func(id *int64) string {
		switch {
		case id == nil:
			return "nobody"
		case *id == d.bruce:
			return "Bruce"
		case *id == d.scrooge:
			return "Scrooge"
		}
		return fmt.Sprintf("employee %d", *id)
	}
	clients := map[int64]string{}
	for i, id := range d.clients {
		clients[id] = fmt.Sprintf("client %d", i)
	}
	chats := map[int64]string{}
	for i, id := range d.chats {
		chats[id] = fmt.Sprintf("chat %d", i)
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, cl := range Must[[]*ent.Contact](t)(c.Contact.Query().Order(ent.Asc(contact.FieldID)).All(ctx)) {
		add("%s: %q %q %q %q test=%v responsible=%s claimed=%v", clients[cl.ID], cl.Identity, cl.Phone, cl.Handle, cl.Name,
			cl.IsTest, emp(cl.ResponsibleID), cl.ClaimedAt != nil)
	}
	deals := map[int64]string{}
	for i, dl := range Must[[]*ent.Deal](t)(c.Deal.Query().Order(ent.Asc(deal.FieldID)).All(ctx)) {
		deals[dl.ID] = fmt.Sprintf("deal %d", i)
		add("deal %d of %s: channel=%v %s pipeline=%v stage=%v status=%v %s closed=%v", i, clients[dl.ContactID],
			dl.ChannelID == d.channel, dl.Kind, dl.PipelineID != nil && *dl.PipelineID == d.pipeline,
			dl.StageID != nil && *dl.StageID == d.stage, dl.LeadStatusID != nil && *dl.LeadStatusID == d.status, dl.State, dl.ClosedAt != nil)
	}
	for _, ch := range Must[[]*ent.Chat](t)(c.Chat.Query().Order(ent.Asc(chat.FieldID)).All(ctx)) {
		deal := "none"
		if ch.DealID != nil {
			deal = deals[*ch.DealID]
		}
		add("%s of %s: channel=%v deal=%s unanswered=%v", chats[ch.ID], clients[ch.ContactID], ch.ChannelID == d.channel, deal, ch.UnansweredSince != nil)
	}
	msgs := map[int64]string{}
	for i, m := range Must[[]*ent.Message](t)(c.Message.Query().Order(ent.Asc(message.FieldID)).All(ctx)) {
		msgs[m.ID] = fmt.Sprintf("message %d", i)
		add("message %d in %s: %s %q %v gateway=%v employee=%s decision=%q", i, chats[m.ChatID], m.Direction, m.Text,
			m.Attachments, deref(m.GatewayMessageID), emp(m.EmployeeID), m.Decision)
	}
	for _, n := range Must[[]*ent.Notification](t)(c.Notification.Query().
		Order(ent.Asc(notification.FieldTxid), ent.Asc(notification.FieldID)).All(ctx)) {
		msg := "none"
		if n.MessageID != nil {
			msg = msgs[*n.MessageID]
		}
		add("push to %s: %s %s %s %q channel=%v %q %s %s %q %q", emp(n.EmployeeID), n.Reason, chats[n.ChatID],
			clients[n.ContactID], n.ContactName, n.ChannelID == d.channel, n.ChannelName, n.ChannelKind, msg, n.Preview, n.Explanation)
	}
	for _, h := range Must[[]*ent.AssignmentEvent](t)(c.AssignmentEvent.Query().Order(ent.Asc(assignmentevent.FieldID)).All(ctx)) {
		if h.Cause != assignmentevent.CauseDISTRIBUTION {
			continue // the setup's settings edits
		}
		add("history: %s of %s on %v %s→%s %s %d %s %q", h.Cause, clients[*h.ContactID], *h.ChannelID, emp(h.FromEmployeeID),
			emp(h.ToEmployeeID), h.DistributionMode, h.Position, h.ActorKind, h.Explanation)
	}
	for _, cur := range Must[[]*ent.DistributionCursor](t)(c.DistributionCursor.Query().
		Where(distributioncursor.ChannelID(d.channel)).All(ctx)) {
		add("cursor: last=%s streak=%d assigned=%d", emp(cur.LastEmployeeID), cur.Streak, cur.Assigned)
	}
	return out
}
