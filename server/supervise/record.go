package supervise

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/ids"
)

// Event is one change for the assignment history.
type Event struct {
	Cause               assignmentevent.Cause
	ClientID, ChannelID *int64
	From, To            *int64
	Mode                string // the distribution mode, for DISTRIBUTION
	Position            int
	Actor               Actor
	Explanation         string
	Changes             []string
}

// Actor is who made a change: kind SYSTEM, API_KEY, EMPLOYEE or CRM, with
// the credential's or employee's id and name, never a secret.
type Actor struct{ Kind, ID, Name string }

// System is the actor of changes the rules make by themselves.
var System = Actor{Kind: "SYSTEM"}

// CRM is the actor of changes the CRM makes.
var CRM = Actor{Kind: "CRM"}

// CallerActor is the request's caller: its API key (id and name), or its
// employee token's employee (acting, when not 0, is the employee it acts
// as).
func CallerActor(ctx context.Context, c *ent.Client) (Actor, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return System, nil
	}
	if p.IsEmployee() {
		return EmployeeActor(ctx, c, p.EmployeeID)
	}
	cred, err := c.Credential.Get(ctx, p.CredentialID)
	if err != nil {
		return Actor{}, err
	}
	return Actor{Kind: "API_KEY", ID: ids.Format(cred.ID), Name: cred.Name}, nil
}

// EmployeeActor is an employee acting.
func EmployeeActor(ctx context.Context, c *ent.Client, id int64) (Actor, error) {
	e, err := c.Employee.Get(ctx, id)
	if err != nil {
		return Actor{}, err
	}
	return Actor{Kind: "EMPLOYEE", ID: ids.Format(e.ID), Name: e.Name}, nil
}

// Record writes e in tx, the transaction making the change.
func Record(ctx context.Context, tx *ent.Tx, e Event) error {
	changes := ""
	for i, c := range e.Changes {
		if i > 0 {
			changes += "\n"
		}
		changes += c
	}
	return tx.AssignmentEvent.Create().SetCause(e.Cause).SetNillableContactID(e.ClientID).
		SetNillableChannelID(e.ChannelID).SetNillableFromEmployeeID(e.From).SetNillableToEmployeeID(e.To).
		SetDistributionMode(e.Mode).SetPosition(e.Position).SetActorKind(e.Actor.Kind).SetActorID(e.Actor.ID).
		SetActorName(e.Actor.Name).SetExplanation(e.Explanation).SetChanges(changes).Exec(ctx)
}
