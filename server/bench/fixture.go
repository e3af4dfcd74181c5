package bench

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channel"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/server/accounts"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// fixture is a company to route into: channels with sales reps who
// receive new clients by round robin, and a manager each.
type fixture struct {
	accountID int64
	key       string
	channels  []int64
	// employees[i] are the members of channels[i], the manager last.
	employees [][]int64
}

func newFixture(ctx context.Context, st *store.Store, nChannels, repsPerChannel int) (*fixture, error) {
	acct, key, err := accounts.Create(ctx, st, "Bench", "")
	if err != nil {
		return nil, err
	}
	f := &fixture{accountID: acct.ID, key: key}
	actx := tenant.NewContext(ctx, acct.ID)
	err = st.Tx(actx, func(tx *ent.Tx) error {
		p, err := tx.Pipeline.Create().SetName("Sales").Save(actx)
		if err != nil {
			return err
		}
		if err := tx.Stage.Create().SetPipelineID(p.ID).SetName("New").Exec(actx); err != nil {
			return err
		}
		for c := 0; c < nChannels; c++ {
			ch, err := tx.Channel.Create().SetName(fmt.Sprintf("WhatsApp %d", c+1)).SetKind(channel.KindWHATSAPP).Save(actx)
			if err != nil {
				return err
			}
			if err := tx.DistributionCursor.Create().SetChannelID(ch.ID).Exec(actx); err != nil {
				return err
			}
			var ids []int64
			for r := 0; r <= repsPerChannel; r++ {
				role, receives := channelmember.RoleSALES_REP, true
				name := fmt.Sprintf("Rep %d.%d", c+1, r+1)
				if r == repsPerChannel {
					role, receives, name = channelmember.RoleMANAGER, false, fmt.Sprintf("Manager %d", c+1)
				}
				e, err := tx.Employee.Create().SetName(name).Save(actx)
				if err != nil {
					return err
				}
				err = tx.ChannelMember.Create().SetChannelID(ch.ID).SetEmployeeID(e.ID).SetRole(role).
					SetAccess(channelmember.AccessREAD_WRITE).SetReceivesNewClients(receives).SetPosition(r).Exec(actx)
				if err != nil {
					return err
				}
				ids = append(ids, e.ID)
			}
			f.channels = append(f.channels, ch.ID)
			f.employees = append(f.employees, ids)
		}
		return tx.AccountSettings.Update().SetSavedOnce(true).Exec(actx)
	})
	return f, err
}
