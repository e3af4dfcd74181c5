package routing_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestOpenChannelsWritingFirst: on a channel of Bitrix24's Open Channels,
// writing first takes the channel being the writer's default outgoing one
// (the portal sends a first message through it); replies in a chat are as
// before, and without Bitrix24 the flag changes nothing.
func TestOpenChannelsWritingFirst(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		admin := env.Admin()
		e := co.Employees
		wa, tg := co.Channels["WhatsApp Sales"], co.Channels["Telegram Support"]
		open := true
		_, err := admin.Directory.UpdateChannel(ctx, &pb.UpdateChannelRequest{ChannelId: wa, OpenChannels: &open})
		NoErr(t, err)

		// Two clients known from Telegram, claimed there by Tony.
		var clients, chats []string
		for i := range 2 {
			d := Route(t, admin, tg, Phone(40+i), "hi")
			_, err := write(admin, e["Tony Stark"], d.Chat.Id)
			NoErr(t, err)
			clients, chats = append(clients, d.Client.Id), append(chats, d.Chat.Id)
		}

		// The built-in CRM has no open lines: the flag changes nothing.
		_, err = writeFirst(admin, e["Tony Stark"], clients[0], wa)
		NoErr(t, err)

		actx := tenant.NewContext(context.Background(), env.AccountID)
		NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
			return tx.AccountSettings.Update().SetCrmKind(accountsettings.CrmKindBITRIX24).Exec(actx)
		}))

		// With Bitrix24, Tony's first message on WhatsApp Sales needs it as
		// his default outgoing channel, given or not.
		_, err = writeFirst(admin, e["Tony Stark"], clients[1], wa)
		WantCode(t, err, connect.CodeFailedPrecondition)
		var ce *connect.Error
		if !asConnect(err, &ce) || !hasViolation(ce, "OPEN_CHANNELS_DEFAULT_OUTGOING", "employees/"+e["Tony Stark"]) {
			t.Fatalf("refusal without the step to take: %v", err)
		}
		// A reply in his chat on Telegram is as before.
		_, err = write(admin, e["Tony Stark"], chats[1])
		NoErr(t, err)
		// So is a message in the WhatsApp chat he opened before.
		_, err = writeFirst(admin, e["Tony Stark"], clients[0], wa)
		NoErr(t, err)

		_, err = admin.Directory.SetDefaultOutgoingChannel(ctx, &pb.SetDefaultOutgoingChannelRequest{EmployeeId: e["Tony Stark"], ChannelId: wa})
		NoErr(t, err)
		res, err := writeFirst(admin, e["Tony Stark"], clients[1], "")
		NoErr(t, err)
		if res.ChannelChoice != pb.ChannelChoice_CHANNEL_CHOICE_DEFAULT_OUTGOING || res.Chat.ChannelId != wa {
			t.Fatalf("first message through the default outgoing channel: %v", res)
		}
	})
}

func asConnect(err error, target **connect.Error) bool {
	ce, ok := err.(*connect.Error)
	if ok {
		*target = ce
	}
	return ok
}

func hasViolation(ce *connect.Error, typ, subject string) bool {
	for _, det := range ce.Details() {
		v, err := det.Value()
		if err != nil {
			continue
		}
		if pf, ok := v.(*errdetails.PreconditionFailure); ok {
			for _, vi := range pf.Violations {
				if vi.Type == typ && vi.Subject == subject {
					return true
				}
			}
		}
	}
	return false
}
