package routing

import (
	"context"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/ent"
)

// Availability's reads (SPEC §11). Nothing is read while no member of the
// channel has working hours or a capacity, so a channel that uses neither
// routes exactly as before, in as many statements.

// loadAvailability reads the account's time zone when a member of the
// channel has working hours, and the members' open clients on the channel
// when one has a capacity.
func (r *Router) loadAvailability(ctx context.Context, tx *ent.Tx, sit *incomingSituation) error {
	hours, capacity := false, false
	for _, m := range sit.snap.Members[sit.channel.ID] {
		if m.Capacity > 0 {
			capacity = true
		}
		if e := sit.snap.Employees[m.EmployeeID]; e != nil && e.WorkingHours != nil {
			hours = true
		}
	}
	if hours {
		sit.loc = zone(sit.settings.TimeZone)
	}
	if !capacity {
		return nil
	}
	var err error
	sit.open, err = openClients(ctx, tx, sit.settings.AccountID, sit.channel.ID)
	return err
}

// openClients counts each employee's open clients on a channel: clients it
// is responsible for with an OPEN deal or lead created on the channel. A
// client is counted once however many such deals it has; closing them
// frees the place (docs/DECISIONS.md).
//
// It runs on every distribution of a channel where a member has a
// capacity, under the channel's cursor lock, so it is one prepared
// statement scanned by hand: from the channel's open deals (an index), not
// from the account's clients, so the work grows with the channel's open
// clients only.
func openClients(ctx context.Context, tx *ent.Tx, accountID, channelID int64) (map[int64]int, error) {
	rows, err := tx.QueryContext(ctx, openClientsSQL, accountID, channelID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// openClientsSQL is openClients' statement ($1 account, $2 channel), the
// same on both stores; IN counts each client once. The deals' account
// keeps it within the account (a deal's client is of the deal's account);
// no condition on the clients' account, which the planner could take for
// a walk over all the account's clients.
const openClientsSQL = `SELECT c.responsible_id, count(*) FROM contacts c
WHERE c.id IN (SELECT d.contact_id FROM deals d WHERE d.channel_id = $2 AND d.state = 'OPEN' AND d.account_id = $1)
	AND c.responsible_id IS NOT NULL
GROUP BY c.responsible_id`

var zones sync.Map // IANA name → *time.Location

// zone is the account's time zone (UTC when unset or unknown: settings
// refuse unknown names).
func zone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	zones.Store(name, l)
	return l
}
