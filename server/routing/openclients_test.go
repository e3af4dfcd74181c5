package routing_test

import (
	"maps"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestOpenClients pins what capacity counts (docs/DECISIONS.md): a client
// the member is responsible for with an OPEN deal or lead on the channel,
// once however many; not a won or lost one, not one on another channel,
// not one nobody is responsible for, nothing of another account.
func TestOpenClients(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		env := New(t, b, Options{})
		co := env.Demo()
		other, _ := env.NewAccount("Other")
		oco := env.DemoIn(other)
		bruce, tony := ids.Value(co.Employees["Bruce Wayne"]), ids.Value(co.Employees["Tony Stark"])
		wa, tg := ids.Value(co.Channels["WhatsApp Sales"]), ids.Value(co.Channels["Telegram Support"])
		n := 0
		client := func(acct int64, resp *int64, deals ...struct {
			ch    int64
			state deal.State
		}) {
			t.Helper()
			n++
			actx := tenant.NewContext(ctx, acct)
			NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
				c, err := tx.Contact.Create().SetIdentity(Phone(n)).SetNillableResponsibleID(resp).Save(actx)
				if err != nil {
					return err
				}
				for _, d := range deals {
					if err := tx.Deal.Create().SetContactID(c.ID).SetChannelID(d.ch).SetKind(deal.KindLEAD).SetState(d.state).Exec(actx); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		type dl = struct {
			ch    int64
			state deal.State
		}
		client(env.AccountID, &bruce, dl{wa, deal.StateOPEN}, dl{wa, deal.StateOPEN}) // once
		client(env.AccountID, &bruce, dl{wa, deal.StateWON}, dl{wa, deal.StateOPEN})
		client(env.AccountID, &bruce, dl{wa, deal.StateLOST})
		client(env.AccountID, &bruce, dl{tg, deal.StateOPEN})
		client(env.AccountID, &tony, dl{wa, deal.StateOPEN}, dl{tg, deal.StateOPEN})
		client(env.AccountID, nil, dl{wa, deal.StateOPEN})
		obruce := ids.Value(oco.Employees["Bruce Wayne"])
		client(other, &obruce, dl{ids.Value(oco.Channels["WhatsApp Sales"]), deal.StateOPEN})

		count := func(acct, ch int64) map[int64]int {
			var got map[int64]int
			actx := tenant.NewContext(ctx, acct)
			NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
				var err error
				got, err = routing.OpenClients(actx, tx, acct, ch)
				return err
			}))
			return got
		}
		for _, c := range []struct {
			name     string
			acct, ch int64
			want     map[int64]int
		}{
			{"WhatsApp", env.AccountID, wa, map[int64]int{bruce: 2, tony: 1}},
			{"Telegram", env.AccountID, tg, map[int64]int{bruce: 1, tony: 1}},
			{"another account's channel asked as this account", env.AccountID, ids.Value(oco.Channels["WhatsApp Sales"]), map[int64]int{}},
			{"the other account", other, ids.Value(oco.Channels["WhatsApp Sales"]), map[int64]int{obruce: 1}},
		} {
			if got := count(c.acct, c.ch); !maps.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	})
}
