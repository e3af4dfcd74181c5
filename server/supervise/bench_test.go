package supervise_test

import (
	"fmt"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/server/supervise"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// recountSQL is the baseline: the same counts from the messages alone (the
// last message of each chat), without even the oldest wait.
const recountSQL = `SELECT c.channel_id, co.responsible_id, COUNT(*) FROM chats c JOIN contacts co ON co.id = c.contact_id
WHERE c.account_id = $1 AND (SELECT m.direction FROM messages m WHERE m.chat_id = c.id ORDER BY m.id DESC LIMIT 1) = 'IN'
GROUP BY c.channel_id, co.responsible_id`

// BenchmarkUnanswered reads an account's counters with 5,000 chats of 4
// messages, one in ten waiting: from the chats' unanswered_since (what
// GetUnansweredCounters does) and, as the baseline, a recount from the
// messages.
func BenchmarkUnanswered(b *testing.B) {
	for _, be := range Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			env := New(b, be, Options{})
			co := env.Demo()
			ctx := tenant.NewContext(ctx, env.AccountID)
			c := env.Store.Ent
			channel := Must[*ent.Channel](b)(c.Channel.Get(ctx, int64(mustID(co.Channels["WhatsApp Sales"]))))
			emp := int64(mustID(co.Employees["Bruce Wayne"]))
			const chats = 5000
			for lo := 0; lo < chats; lo += 500 {
				cls := make([]*ent.ContactCreate, 500)
				for i := range cls {
					cls[i] = c.Contact.Create().SetIdentity(fmt.Sprintf("+7916%07d", lo+i)).SetResponsibleID(emp)
				}
				made := Must[[]*ent.Contact](b)(c.Contact.CreateBulk(cls...).Save(ctx))
				chs := make([]*ent.ChatCreate, len(made))
				for i, cl := range made {
					chs[i] = c.Chat.Create().SetChannelID(channel.ID).SetContactID(cl.ID)
					if (lo+i)%10 == 0 {
						chs[i] = chs[i].SetUnansweredSince(cl.CreatedAt)
					}
				}
				cts := Must[[]*ent.Chat](b)(c.Chat.CreateBulk(chs...).Save(ctx))
				var ms []*ent.MessageCreate
				for i, ch := range cts {
					for j := 0; j < 4; j++ {
						dir := message.DirectionIN
						if j%2 == 1 && !((lo+i)%10 == 0 && j == 3) {
							dir = message.DirectionOUT
						}
						ms = append(ms, c.Message.Create().SetChatID(ch.ID).SetDirection(dir))
					}
				}
				Must[[]*ent.Message](b)(c.Message.CreateBulk(ms...).Save(ctx))
			}
			b.Run("chat column", func(b *testing.B) {
				for b.Loop() {
					got := Must[*supervise.Counters](b)(supervise.Read(ctx, c, 0))
					if got.Total.Chats != chats/10 {
						b.Fatalf("%d waiting", got.Total.Chats)
					}
				}
			})
			b.Run("recount from messages", func(b *testing.B) {
				for b.Loop() {
					rows, err := c.QueryContext(ctx, recountSQL, env.AccountID)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						var ch, r, k int64
						if err := rows.Scan(&ch, &r, &k); err != nil {
							b.Fatal(err)
						}
						n += int(k)
					}
					rows.Close()
					if n != chats/10 {
						b.Fatalf("%d waiting", n)
					}
				}
			})
		})
	}
}

func mustID(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
