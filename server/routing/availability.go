package routing

import (
	"context"
	"database/sql"
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

// openClients is each employee's open clients on a channel: clients it is
// responsible for with an OPEN deal or lead created on the channel, each
// counted once; closing them frees the place (docs/DECISIONS.md). The
// database keeps the counts (ent/schema/open_client_count.go) in every
// transaction that opens, closes or deletes a deal or changes a client's
// responsible, so reading them is one row per member, however many clients
// are open.
func openClients(ctx context.Context, tx *ent.Tx, accountID, channelID int64) (map[int64]int, error) {
	return countsOf(tx.QueryContext(ctx, openClientsSQL, channelID, accountID))
}

// countsOf reads rows of (employee id, count).
func countsOf(rows *sql.Rows, err error) (map[int64]int, error) {
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

// openClientsSQL is openClients' statement ($1 channel, $2 account), the
// same on both stores, scanned by hand: it runs on every distribution of a
// channel where a member has a capacity, under the channel's cursor lock.
const openClientsSQL = `SELECT employee_id, clients FROM open_client_counts
WHERE channel_id = $1 AND account_id = $2 AND clients > 0`

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
