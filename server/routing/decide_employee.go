package routing

// The decisions about what employees do: write (and claim), transfer a
// client, close a deal.

import (
	"fmt"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"slices"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	"github.com/switchboardhq/switchboard/ent/deal"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/access"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/directory/snapshot"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/notify"
)

// outgoingSituation is everything an employee's message is decided on.
type outgoingSituation struct {
	settings  *ent.AccountSettings
	snap      *snapshot.Snapshot
	employee  *ent.Employee // active
	channel   *ent.Channel
	choice    pb.ChannelChoice
	content   Content
	gatewayID string
	external  bool
	// client is the client as read (and locked).
	client *ent.Contact
	// chat is the client's chat on the channel; nil: the employee writes
	// first there, and persist creates it.
	chat *ent.Chat
	// chats are the client's chats, by id, when it has no responsible.
	chats []*ent.Chat
	// responsible is the employee of another responsible of the client,
	// when known.
	responsible *ent.Employee
}

// outgoingPlan is the decision about an employee's message.
type outgoingPlan struct {
	// response: the answer but the chat, the message and the pushes.
	response *pb.RouteOutgoingMessageResponse
	// client is the client as the message leaves it.
	client *ent.Contact
	// claim: the message makes the employee the client's responsible.
	claim bool
	// pushes of the claim; a chat id 0 is the chat persist creates.
	pushes []notify.Decision
	// CRM outbox jobs: the claimed client's responsible, the message for
	// the CRM's feed.
	crmResponsible, crmLogged bool
}

// decideOutgoing authorizes an employee's message by the access table
// (SPEC §3) and decides a claim and its pushes (§5, §6); a refusal is the
// error.
func decideOutgoing(sit *outgoingSituation) (*outgoingPlan, error) {
	emp, cl := sit.employee, *sit.client
	view := &channelView{ch: sit.channel, settings: sit.settings, members: membersFrom(sit.snap, sit.channel.ID)}
	d := view.decideFor(emp, cl.ResponsibleID)
	if !d.Write {
		return nil, refusal(sit, view, d)
	}
	if err := openChannelsFirst(sit); err != nil {
		return nil, err
	}
	p := &outgoingPlan{response: &pb.RouteOutgoingMessageResponse{ChannelChoice: sit.choice, Access: accessToPB(d)}}
	if d.Claims {
		// Claimed now: the claim's time is the message's.
		cl.ResponsibleID, cl.ClaimedAt = &emp.ID, nil
		chats := sit.chats
		if sit.chat == nil {
			chats = append(slices.Clone(chats), &ent.Chat{ChannelID: sit.channel.ID, ContactID: cl.ID})
		}
		p.claim, p.response.Claimed = true, true
		p.pushes = handover(sit.snap, &cl, chats, nil, fmt.Sprintf("%s claimed %s", emp.Name, cl.Name))
		p.crmResponsible = sit.external
	}
	p.crmLogged = sit.external && !cl.IsTest
	p.client = &cl
	p.response.Client = convert.Client(&cl)
	return p, nil
}

// openChannelsFirst refuses a first message on a channel that Bitrix24's
// Open Channels handle unless it is the writer's default outgoing channel:
// the portal's open line sends an operator's first message to a client
// through the operator's default outgoing channel, as the operator's role
// on it allows. A role that may write is what the access table already
// asked; the default channel is the other step (docs/DECISIONS.md).
func openChannelsFirst(sit *outgoingSituation) error {
	ch, emp := sit.channel, sit.employee
	if sit.chat != nil || !ch.OpenChannels || sit.settings.CrmKind != accountsettings.CrmKindBITRIX24 {
		return nil
	}
	if def := emp.DefaultOutgoingChannelID; def != nil && *def == ch.ID {
		return nil
	}
	return errs.Precondition("%s writes first on %s, a channel of Bitrix24's Open Channels: the portal sends a first message through the operator's default outgoing channel, so make %s %s's default outgoing channel first (SetDefaultOutgoingChannel)",
		emp.Name, ch.Name, ch.Name, emp.Name).With(&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
		Type: "OPEN_CHANNELS_DEFAULT_OUTGOING", Subject: "employees/" + ids.Format(emp.ID), Description: "default outgoing channel " + ch.Name,
	}}})
}

// withChat gives the pushes about the chat to be created (id 0) its id.
func withChat(pushes []notify.Decision, chatID int64) []notify.Decision {
	for i := range pushes {
		if pushes[i].ChatID == 0 {
			pushes[i].ChatID = chatID
		}
	}
	return pushes
}

// refusal explains why an employee may not write: ABORTED with
// CLIENT_CLAIMED when another employee claimed the client and this one
// could have claimed it too (it lost the race, whenever it arrived), else
// PERMISSION_DENIED with the access table's reason.
func refusal(sit *outgoingSituation, view *channelView, d access.Decision) error {
	emp, cl := sit.employee, sit.client
	if cl.ResponsibleID != nil && *cl.ResponsibleID != emp.ID && cl.ClaimedAt != nil {
		if view.decideFor(emp, nil).Claims {
			return claimedError(cl, sit.responsible)
		}
	}
	return errs.Forbidden("%s may not write in this chat: %s", emp.Name, d.Explanation)
}

// claimedError is the refusal of a client that responsible (nil: unknown)
// claimed first.
func claimedError(cl *ent.Contact, responsible *ent.Employee) error {
	name := ""
	if responsible != nil {
		name = responsible.Name
	}
	id := ids.FormatPtr(cl.ResponsibleID)
	return errs.New(errs.ErrAborted, "client %s was claimed by %s (employee %s) first: the chat is theirs", cl.Name, name, id).
		With(&errdetails.ErrorInfo{Reason: ClaimedReason, Domain: "switchboard.v1", Metadata: map[string]string{
			"client_id": ids.Format(cl.ID), "responsible_employee_id": id, "responsible_name": name,
		}})
}

// transferSituation is everything a transfer is decided on.
type transferSituation struct {
	snap *snapshot.Snapshot
	// channel is the chat's channel.
	channel *ent.Channel
	// employee is the new responsible (nil: not in the directory).
	employee   *ent.Employee
	employeeID int64
	// acting is the manager transferring (0: an account API key).
	acting int64
	// fromCRM: the CRM gave the client to employee (a webhook).
	fromCRM bool
	// external: the account's CRM hears of decisions through the outbox.
	external bool
	// client is the client as read (and locked).
	client *ent.Contact
	// chats are the client's chats, by id, unless employee has it already.
	chats []*ent.Chat
}

// employeeName names the new responsible.
func (sit *transferSituation) employeeName() string {
	if sit.employee != nil {
		return sit.employee.Name
	}
	return fmt.Sprintf("employee %d", sit.employeeID)
}

// transferPlan is the decision about a transfer.
type transferPlan struct {
	response *pb.AssignResponsibleResponse // but the pushes
	// change: the client changes hands (else the transfer changes nothing).
	change         bool
	client         *ent.Contact // as the transfer leaves it
	pushes         []notify.Decision
	crmResponsible bool
}

// decideTransfer checks a transfer (SPEC §3: a manager of the chat's
// channel; a new responsible that can write there, unless the CRM says so)
// and decides its pushes (§6).
func decideTransfer(sit *transferSituation) (*transferPlan, error) {
	snap, ch := sit.snap, sit.channel
	if sit.acting != 0 {
		m, e := snap.Member(ch.ID, sit.acting), snap.Employees[sit.acting]
		if m == nil || m.Role != channelmember.RoleMANAGER || e == nil || !e.Active {
			return nil, errs.Forbidden("only a manager of the chat's channel (or an account API key) can transfer its clients")
		}
	}
	emp := sit.employee
	if emp == nil {
		return nil, errs.NotFound("employee", sit.employeeID)
	}
	if d := access.Decide(inputFor(snap, emp, ch, &emp.ID)); !d.Write && !sit.fromCRM {
		return nil, errs.Invalid("employee_id", "%s cannot write on %s, so cannot be responsible there: %s", emp.Name, ch.Name, d.Explanation)
	}
	cl := *sit.client
	p := &transferPlan{response: &pb.AssignResponsibleResponse{PreviousResponsibleEmployeeId: ids.FormatPtr(cl.ResponsibleID)}, client: &cl}
	if cl.ResponsibleID != nil && *cl.ResponsibleID == emp.ID {
		p.response.Client = convert.Client(&cl)
		return p, nil
	}
	prev := cl.ResponsibleID
	cl.ResponsibleID, cl.ClaimedAt = &emp.ID, nil
	p.change = true
	what := fmt.Sprintf("%s was transferred to %s", cl.Name, emp.Name)
	if sit.fromCRM {
		what = fmt.Sprintf("%s was given to %s in the CRM", cl.Name, emp.Name)
	}
	p.pushes = handover(snap, &cl, sit.chats, prev, what)
	// A change the CRM made is not sent back to it.
	p.crmResponsible = !sit.fromCRM && sit.external
	p.response.Client = convert.Client(&cl)
	return p, nil
}

// closeSituation is everything closing a deal is decided on.
type closeSituation struct {
	deal *ent.Deal // as read (and locked)
	won  bool
	// acting is the employee closing it (0: an account API key); then
	// client is the deal's client and snap the directory.
	acting int64
	client *ent.Contact
	snap   *snapshot.Snapshot
}

// closePlan is the decision about closing a deal.
type closePlan struct {
	deal  *ent.Deal // as the request leaves it, but the time it closes
	close bool      // else it was closed so already
}

// decideClose checks that the employee closing a deal can write to its
// client (SPEC §3) and closes an open deal; one closed the same way
// already is the same answer and changes nothing, one closed the other way
// is FAILED_PRECONDITION.
func decideClose(sit *closeSituation) (*closePlan, error) {
	d := *sit.deal
	if sit.acting != 0 {
		dec, err := decideIn(sit.snap, sit.acting, d.ChannelID, sit.client.ResponsibleID)
		if err != nil {
			return nil, err
		}
		if !dec.Write {
			return nil, errs.Forbidden("only someone who can write to the client can close its deal: %s", dec.Explanation)
		}
	}
	state := deal.StateLOST
	if sit.won {
		state = deal.StateWON
	}
	if d.State == state {
		// Closed so already (a repeated or concurrent copy of this
		// request): the same answer, nothing changed.
		return &closePlan{deal: &d}, nil
	}
	if d.State != deal.StateOPEN {
		return nil, errs.Precondition("deal %d is already closed (%s)", d.ID, d.State)
	}
	d.State = state
	return &closePlan{deal: &d, close: true}, nil
}
