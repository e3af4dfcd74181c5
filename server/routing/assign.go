package routing

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/contact"
	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/store"
)

// AssignResponsible transfers a chat's client to another employee. acting
// is the manager doing it (0 for an account API key): it must be a MANAGER
// of the chat's channel. The new responsible must be able to write there.
func (r *Router) AssignResponsible(ctx context.Context, chatID, employeeID, acting int64) (*pb.AssignResponsibleResponse, error) {
	return r.assign(ctx, chatID, employeeID, acting, false)
}

// AssignFromCRM makes employeeID the responsible of chatID's client because
// the CRM says so (a webhook): the pushes of a transfer, without requiring
// that the employee can write on the chat's channel (the responsible is
// the client's, on every channel, and the CRM decides it).
func (r *Router) AssignFromCRM(ctx context.Context, chatID, employeeID int64) error {
	_, err := r.assign(ctx, chatID, employeeID, 0, true)
	return err
}

// CloseDealFromCRM closes a deal as won or lost because the CRM moved it
// to such a stage; a deal already closed so is left as it is.
func (r *Router) CloseDealFromCRM(ctx context.Context, dealID int64, won bool) error {
	_, err := r.CloseDeal(ctx, dealID, won, 0)
	if errors.Is(err, errs.ErrFailedPrecondition) {
		return nil // closed the other way here: the first close stands
	}
	return err
}

func (r *Router) assign(ctx context.Context, chatID, employeeID, acting int64, fromCRM bool) (*pb.AssignResponsibleResponse, error) {
	out := &pb.AssignResponsibleResponse{}
	err := r.st.Tx(ctx, func(tx *ent.Tx) error {
		c := tx.Client()
		cht, err := c.Chat.Get(ctx, chatID)
		if err != nil {
			return store.NotFound(err, "chat", chatID)
		}
		snap, err := r.current(ctx, c)
		if err != nil {
			return err
		}
		ch := snap.Channels[cht.ChannelID]
		if acting != 0 {
			m, e := snap.Member(ch.ID, acting), snap.Employees[acting]
			if m == nil || m.Role != channelmember.RoleMANAGER || e == nil || !e.Active {
				return errs.Forbidden("only a manager of the chat's channel (or an account API key) can transfer its clients")
			}
		}
		emp := snap.Employees[employeeID]
		if emp == nil {
			return errs.NotFound("employee", employeeID)
		}
		// Lock the client so a claim cannot slip between reading who saw the
		// chat and changing its responsible.
		ct, err := store.ForUpdate(c.Contact.Query().Where(contact.ID(cht.ContactID))).Only(ctx)
		if err != nil {
			return err
		}
		if d := access.Decide(inputFor(snap, emp, ch, &emp.ID)); !d.Write && !fromCRM {
			return errs.Invalid("employee_id", "%s cannot write on %s, so cannot be responsible there: %s", emp.Name, ch.Name, d.Explanation)
		}
		out.PreviousResponsibleEmployeeId = ids.FormatPtr(ct.ResponsibleID)
		if ct.ResponsibleID != nil && *ct.ResponsibleID == emp.ID {
			out.Client = convert.Client(ct)
			return nil
		}
		prev := ct.ResponsibleID
		if ct, err = ct.Update().SetResponsibleID(emp.ID).ClearClaimedAt().Save(ctx); err != nil {
			return err
		}
		r.handsChanged(tx, ct.AccountID, ct.ID)
		what := fmt.Sprintf("%s was transferred to %s", ct.Name, emp.Name)
		if fromCRM {
			what = fmt.Sprintf("%s was given to %s in the CRM", ct.Name, emp.Name)
		}
		notes, err := handover(ctx, c, snap, ct, prev, what)
		if err != nil {
			return err
		}
		// A change the CRM made is not sent back to it.
		if !fromCRM && r.external(snap.Settings) {
			if err := r.crm.Responsible(ctx, tx, string(snap.Settings.CrmKind), ct.AccountID, ct.ID); err != nil {
				return err
			}
		}
		// The log's position last: it is held until the commit.
		if out.Notifications, err = notify.Record(ctx, r.st, tx, notes); err != nil {
			return err
		}
		out.Client = convert.Client(ct)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.told(ctx, out.Notifications)
	return out, nil
}

// CloseDeal closes a deal or lead as won or lost. acting (0 for an account
// API key) must be able to write on the deal's channel for its client.
func (r *Router) CloseDeal(ctx context.Context, dealID int64, won bool, acting int64) (*pb.Deal, error) {
	var out *ent.Deal
	err := r.st.Tx(ctx, func(tx *ent.Tx) error {
		c := tx.Client()
		d, err := store.ForUpdate(c.Deal.Query().Where(deal.ID(dealID))).Only(ctx)
		if err != nil {
			return store.NotFound(err, "deal", dealID)
		}
		if acting != 0 {
			ct, err := c.Contact.Get(ctx, d.ContactID)
			if err != nil {
				return err
			}
			snap, err := r.current(ctx, c)
			if err != nil {
				return err
			}
			dec, err := decideIn(snap, acting, d.ChannelID, ct.ResponsibleID)
			if err != nil {
				return err
			}
			if !dec.Write {
				return errs.Forbidden("only someone who can write to the client can close its deal: %s", dec.Explanation)
			}
		}
		state := deal.StateLOST
		if won {
			state = deal.StateWON
		}
		if d.State == state {
			// Closed so already (a repeated or concurrent copy of this
			// request): the same answer, nothing changed.
			out = d
			return nil
		}
		if d.State != deal.StateOPEN {
			return errs.Precondition("deal %d is already closed (%s)", d.ID, d.State)
		}
		out, err = d.Update().SetState(state).SetClosedAt(now()).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return convert.Deal(out), nil
}
