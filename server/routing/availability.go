package routing

import (
	"context"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
)

// Availability's reads (SPEC §11). Nothing is read while no member of the
// channel has working hours or a capacity, so a channel that uses neither
// routes exactly as before, in as many statements.

// loadAvailability reads the account's time zone when a member of the
// channel has working hours, and the members' open clients on the channel
// when one has a capacity.
func (r *Router) loadAvailability(ctx context.Context, c *ent.Client, sit *incomingSituation) error {
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
	sit.open, err = openClients(ctx, c, sit.channel.ID)
	return err
}

// openClients counts each employee's open clients on a channel: clients it
// is responsible for with an OPEN deal or lead created on the channel. A
// client is counted once however many such deals it has; closing them
// frees the place (docs/DECISIONS.md).
func openClients(ctx context.Context, c *ent.Client, channelID int64) (map[int64]int, error) {
	var rows []struct {
		ResponsibleID int64 `json:"responsible_id"`
		Count         int   `json:"count"`
	}
	// From the channel's open deals (an index), not from the account's
	// clients: the work grows with the channel's open clients only.
	err := c.Deal.Query().Where(deal.ChannelID(channelID), deal.StateEQ(deal.StateOPEN)).
		Modify(func(s *sql.Selector) {
			t := sql.Table(contact.Table)
			s.Join(t).On(s.C(deal.FieldContactID), t.C(contact.FieldID)).
				Where(sql.NotNull(t.C(contact.FieldResponsibleID))).
				Select(sql.As(t.C(contact.FieldResponsibleID), "responsible_id"), sql.As(sql.Count("DISTINCT "+t.C(contact.FieldID)), "count")).
				GroupBy(t.C(contact.FieldResponsibleID))
		}).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.ResponsibleID] = r.Count
	}
	return out, nil
}

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
