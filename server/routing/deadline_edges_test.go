package routing_test

import (
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/tenant"
	. "github.com/switchboardhq/switchboard/server/testenv"
)

// TestTransferRacesReplyDeadline: clients' deadlines run out while an admin
// transfers each of them to Constantine at the same moment. Whichever comes
// first, the transfer is the last word — every client ends with
// Constantine — a deadline passes a client at most once and never after
// its transfer, and the kept counts equal a recount.
func TestTransferRacesReplyDeadline(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, b Backend) {
		clk := &clock{t: moscow(t, "2026-11-30 12:00")}
		env := New(t, b, withClock(clk))
		co := env.Demo()
		admin := env.Admin()
		wa := co.Channels["WhatsApp Sales"]
		withDeadline(t, env, wa, 15, 3)
		router := env.Server.App.Router()
		to := co.Employees["Constantine"]
		const n = 16
		type cl struct {
			id   int64
			chat string
			job  routing.DeadlineArgs
		}
		var cls []cl
		for i := 0; i < n; i++ {
			d := Route(t, admin, wa, Phone(840000+i), "hi")
			if d.Client.ResponsibleEmployeeId == to {
				continue // a transfer to whom it already has changes nothing
			}
			id := ids.Value(d.Client.Id)
			jobs := deadlineJobs(t, env, id)
			if len(jobs) != 1 {
				t.Fatalf("client %d: %d deadlines", i, len(jobs))
			}
			cls = append(cls, cl{id, d.Chat.Id, jobs[0]})
		}
		clk.Set(moscow(t, "2026-11-30 12:16"))
		var wg sync.WaitGroup
		for _, c := range cls {
			for k := 0; k < 3; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := router.ReplyDeadline(ctx, c.job); err != nil {
						t.Errorf("deadline of %d: %v", c.id, err)
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := admin.Routing.AssignResponsible(ctx, &pb.AssignResponsibleRequest{ChatId: c.chat, EmployeeId: to}); err != nil {
					t.Errorf("transfer of %d: %v", c.id, err)
				}
			}()
		}
		wg.Wait()
		passed := 0
		for _, c := range cls {
			if got := responsibleOf(t, env, c.id); got != ids.Value(to) {
				t.Errorf("client %d: responsible %d after the transfer to %s", c.id, got, to)
			}
			evs := deadlineEvents(t, env, c.id)
			if len(evs) > 1 {
				t.Errorf("client %d: %d passes", c.id, len(evs))
			}
			passed += len(evs)
		}
		t.Logf("%d of %d deadlines passed their client before the transfer", passed, len(cls))
		actx := tenant.NewContext(ctx, env.AccountID)
		NoErr(t, env.Store.Tx(actx, func(tx *ent.Tx) error {
			kept, err := routing.OpenClients(actx, tx, env.AccountID, ids.Value(wa))
			if err != nil {
				return err
			}
			recount, err := routing.RecountOpenClients(actx, tx, ids.Value(wa))
			if err != nil {
				return err
			}
			if !maps.Equal(kept, recount) {
				return fmt.Errorf("counts kept %v, recounted %v", kept, recount)
			}
			return nil
		}))
	})
}
