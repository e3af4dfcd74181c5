package routing

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/notify"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/supervise"
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

type adoptingKey struct{}

// AdoptingContact marks an AssignFromCRM call as adopting the responsible of
// a contact the CRM already had (a new client found there), not a change
// the CRM announced: the history says so.
func AdoptingContact(ctx context.Context) context.Context {
	return context.WithValue(ctx, adoptingKey{}, true)
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

// assign is AssignResponsible (and AssignFromCRM) as a command.
func (r *Router) assign(ctx context.Context, chatID, employeeID, acting int64, fromCRM bool) (*pb.AssignResponsibleResponse, error) {
	var out *pb.AssignResponsibleResponse
	err := r.st.Tx(ctx, func(tx *ent.Tx) error {
		sit, err := r.loadTransfer(ctx, tx, chatID, employeeID, acting, fromCRM)
		if err != nil {
			return err
		}
		plan, err := decideTransfer(sit)
		if err != nil {
			return err
		}
		out, err = r.persistTransfer(ctx, tx, sit, plan)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.told(ctx, out.Notifications)
	return out, nil
}

// loadTransfer reads what a transfer is decided on: the chat, the
// directory, and the chat's client, locked so that a claim cannot slip
// between reading who saw its chats and changing its responsible, with its
// chats unless the employee has it already.
func (r *Router) loadTransfer(ctx context.Context, tx *ent.Tx, chatID, employeeID, acting int64, fromCRM bool) (*transferSituation, error) {
	c := tx.Client()
	cht, err := c.Chat.Get(ctx, chatID)
	if err != nil {
		return nil, store.NotFound(err, "chat", chatID)
	}
	snap, err := r.current(ctx, c)
	if err != nil {
		return nil, err
	}
	sit := &transferSituation{snap: snap, channel: snap.Channels[cht.ChannelID], employee: snap.Employees[employeeID],
		employeeID: employeeID, acting: acting, fromCRM: fromCRM, external: r.external(snap.Settings)}
	if sit.client, err = lockClient(ctx, c, cht.ContactID); err != nil {
		return nil, err
	}
	if id := sit.client.ResponsibleID; id == nil || *id != employeeID {
		if sit.chats, err = chatsOf(ctx, c, sit.client.ID); err != nil {
			return nil, err
		}
	}
	return sit, nil
}

// persistTransfer writes a transfer: the client's responsible, the CRM's
// outbox job, and the pushes last (the log's position is held until the
// commit).
func (r *Router) persistTransfer(ctx context.Context, tx *ent.Tx, sit *transferSituation, p *transferPlan) (*pb.AssignResponsibleResponse, error) {
	out := p.response
	if !p.change {
		return out, nil
	}
	cl := p.client
	if err := tx.Contact.UpdateOneID(cl.ID).SetResponsibleID(*cl.ResponsibleID).ClearClaimedAt().Exec(ctx); err != nil {
		return nil, err
	}
	if err := recordTransfer(ctx, tx, sit, cl); err != nil {
		return nil, err
	}
	r.handsChanged(tx, cl.AccountID, cl.ID)
	if p.crmResponsible {
		as := sit.snap.Settings
		if err := r.crm.Responsible(ctx, tx, string(as.CrmKind), cl.AccountID, cl.ID); err != nil {
			return nil, err
		}
	}
	var err error
	out.Notifications, err = notify.Record(ctx, r.st, tx, p.pushes)
	return out, err
}

// recordTransfer writes a transfer to the assignment history: by the CRM,
// a manager, or an API key.
func recordTransfer(ctx context.Context, tx *ent.Tx, sit *transferSituation, cl *ent.Contact) error {
	c := tx.Client()
	ev := supervise.Event{Cause: assignmentevent.CauseTRANSFER, ClientID: &cl.ID, ChannelID: &sit.channel.ID,
		From: sit.client.ResponsibleID, To: cl.ResponsibleID}
	to := sit.employeeName()
	var err error
	switch {
	case sit.fromCRM && ctx.Value(adoptingKey{}) != nil:
		ev.Cause, ev.Actor = assignmentevent.CauseCRM_CONTACT, supervise.CRM
		ev.Explanation = fmt.Sprintf("the CRM already had this contact, with %s responsible", to)
	case sit.fromCRM:
		ev.Cause, ev.Actor = assignmentevent.CauseCRM_WEBHOOK, supervise.CRM
		ev.Explanation = fmt.Sprintf("the CRM made %s responsible", to)
	case sit.acting != 0:
		if ev.Actor, err = supervise.EmployeeActor(ctx, c, sit.acting); err != nil {
			return err
		}
		ev.Explanation = fmt.Sprintf("%s transferred the client to %s on %s", ev.Actor.Name, to, sit.channel.Name)
	default:
		if ev.Actor, err = supervise.CallerActor(ctx, c); err != nil {
			return err
		}
		ev.Explanation = fmt.Sprintf("API key %q transferred the client to %s on %s", ev.Actor.Name, to, sit.channel.Name)
	}
	return supervise.Record(ctx, tx, ev)
}

// CloseDeal closes a deal or lead as won or lost. acting (0 for an account
// API key) must be able to write on the deal's channel for its client.
func (r *Router) CloseDeal(ctx context.Context, dealID int64, won bool, acting int64) (*pb.Deal, error) {
	var out *ent.Deal
	closed := false
	err := r.st.Tx(ctx, func(tx *ent.Tx) error {
		sit, err := r.loadClose(ctx, tx, dealID, won, acting)
		if err != nil {
			return err
		}
		plan, err := decideClose(sit)
		if err != nil {
			return err
		}
		out, err = persistClose(ctx, tx, plan)
		closed = plan.close
		return err
	})
	if err != nil {
		return nil, err
	}
	if closed {
		// Its responsible may have a free place now for a waiting client
		// (SPEC §11). The close stands whatever happens here; clients
		// that keep waiting are handed out on the next change.
		_, _ = r.AssignWaiting(ctx, out.ChannelID)
	}
	return convert.Deal(out), nil
}

// loadClose reads what closing a deal is decided on: the deal, locked
// until the commit, and for an employee its client and the directory.
func (r *Router) loadClose(ctx context.Context, tx *ent.Tx, dealID int64, won bool, acting int64) (*closeSituation, error) {
	c := tx.Client()
	d, err := store.ForUpdate(c.Deal.Query().Where(deal.ID(dealID))).Only(ctx)
	if err != nil {
		return nil, store.NotFound(err, "deal", dealID)
	}
	sit := &closeSituation{deal: d, won: won, acting: acting}
	if acting != 0 {
		if sit.client, err = c.Contact.Get(ctx, d.ContactID); err != nil {
			return nil, err
		}
		if sit.snap, err = r.current(ctx, c); err != nil {
			return nil, err
		}
	}
	return sit, nil
}

// persistClose closes the deal, if the plan says so.
func persistClose(ctx context.Context, tx *ent.Tx, p *closePlan) (*ent.Deal, error) {
	if !p.close {
		return p.deal, nil
	}
	at := now()
	p.deal.ClosedAt = &at
	return p.deal, tx.Deal.UpdateOneID(p.deal.ID).SetState(p.deal.State).SetClosedAt(at).Exec(ctx)
}
