package directory

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/accountsettings"
	"github.com/switchboardhq/switchboard/ent/assignmentevent"
	"github.com/switchboardhq/switchboard/ent/employee"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/auth"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/crm"
	_ "github.com/switchboardhq/switchboard/server/crm/native" // the built-in CRM: its directory is edited here
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/supervise"
)

// Employees lists the account's employees, the deactivated ones too when
// asked.
func Employees(ctx context.Context, st *store.Store, includeDeactivated bool) ([]*ent.Employee, error) {
	q := st.Ent.Employee.Query()
	if !includeDeactivated {
		q = q.Where(employee.Active(true))
	}
	return q.Order(ent.Asc(employee.FieldID)).All(ctx)
}

// editable refuses a directory edit when the account's CRM owns the
// directory (crm.OwnsDirectory): such changes are made in the CRM and
// come here by a refresh.
func editable(ctx context.Context, st *store.Store, what string) error {
	as, err := st.Ent.AccountSettings.Query().Only(ctx)
	if err != nil {
		return err
	}
	if as.CrmKind != accountsettings.CrmKindNONE && crm.OwnsDirectory(crm.Kind(as.CrmKind)) {
		return errs.Precondition("%s come from %s: change them there and refresh", what, as.CrmKind)
	}
	return nil
}

func conflictOnCrmID(err error, crmUserID string) error {
	if store.IsUniqueViolation(err) {
		return errs.New(errs.ErrConflict, "an employee with crm_user_id %q already exists", crmUserID)
	}
	return err
}

// NewEmployee is an employee to add; CrmUserID may be empty.
type NewEmployee struct {
	Name, Email, CrmUserID string
}

// CreateEmployee adds an employee.
func CreateEmployee(ctx context.Context, st *store.Store, n NewEmployee) (*ent.Employee, error) {
	if err := editable(ctx, st, "employees"); err != nil {
		return nil, err
	}
	var e *ent.Employee
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		c := tx.Employee.Create().SetName(n.Name).SetEmail(n.Email)
		if n.CrmUserID != "" {
			c = c.SetCrmUserID(n.CrmUserID)
		}
		var err error
		e, err = c.Save(ctx)
		return err
	})
	if err != nil {
		return nil, conflictOnCrmID(err, n.CrmUserID)
	}
	return e, nil
}

// EmployeeChange edits the employee ID names; nil fields stay as they
// are, an empty CrmUserID clears it.
type EmployeeChange struct {
	ID                     string
	Name, CrmUserID, Email *string
}

// UpdateEmployee applies c.
func UpdateEmployee(ctx context.Context, st *store.Store, c EmployeeChange) (*ent.Employee, error) {
	if err := editable(ctx, st, "employees"); err != nil {
		return nil, err
	}
	var e *ent.Employee
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		e, err = ids.Resolve(ctx, "employee_id", "employee", c.ID, func(ctx context.Context, id int64) (*ent.Employee, error) {
			upd := tx.Employee.UpdateOneID(id)
			if c.Name != nil {
				upd = upd.SetName(*c.Name)
			}
			if c.CrmUserID != nil {
				if *c.CrmUserID == "" {
					upd = upd.ClearCrmUserID()
				} else {
					upd = upd.SetCrmUserID(*c.CrmUserID)
				}
			}
			if c.Email != nil {
				upd = upd.SetEmail(*c.Email)
			}
			return upd.Save(ctx)
		})
		return err
	})
	if err != nil {
		crmUserID := ""
		if c.CrmUserID != nil {
			crmUserID = *c.CrmUserID
		}
		return nil, conflictOnCrmID(err, crmUserID)
	}
	return e, nil
}

// SetActive deactivates or reactivates the employee id names. Deactivating
// makes cache forget remembered credentials, so the employee's tokens stop
// working and its open streams end at once; a failed check is never
// remembered, so reactivating needs nothing.
func SetActive(ctx context.Context, st *store.Store, cache Remembered, id string, active bool) (*ent.Employee, error) {
	if err := editable(ctx, st, "employees"); err != nil {
		return nil, err
	}
	var e *ent.Employee
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		e, err = ids.Resolve(ctx, "employee_id", "employee", id, tx.Employee.Get)
		if err != nil || e.Active == active {
			return err
		}
		if e, err = tx.Employee.UpdateOneID(e.ID).SetActive(active).Save(ctx); err != nil {
			return err
		}
		// Who may see and write chats changed: the history says so.
		actor, err := supervise.CallerActor(ctx, tx.Client())
		if err != nil {
			return err
		}
		what := e.Name + " deactivated: sees and writes no chat"
		if active {
			what = e.Name + " reactivated"
		}
		return supervise.Record(ctx, tx, supervise.Event{Cause: assignmentevent.CauseSETTINGS_EDIT, Actor: actor,
			Explanation: what, Changes: []string{what}})
	})
	if err != nil {
		return nil, err
	}
	if !active {
		cache.Forget()
	}
	return e, nil
}

// Remembered is what remembers checked credentials (the authenticator).
type Remembered interface{ Forget() }

// SetPresence sets an employee's presence (SPEC §11). An employee token
// names itself (or nobody, meaning itself); another employee is
// PERMISSION_DENIED. Presence is not a setting: the revision stays; the
// directory version moves, so routing decides on it at once.
func SetPresence(ctx context.Context, st *store.Store, id string, p pb.Presence) (*ent.Employee, error) {
	if auth.Caller(ctx).IsEmployee() {
		self, err := auth.ActingEmployee(ctx, ids.Value(id))
		if err != nil {
			return nil, err
		}
		id = ids.Format(self)
	} else if id == "" {
		return nil, errs.Invalid("employee_id", "is required with an account API key")
	}
	presence := convert.EnumFromPB(p, "PRESENCE_", employee.DefaultPresence)
	var e *ent.Employee
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		var err error
		e, err = ids.Resolve(ctx, "employee_id", "employee", id, func(ctx context.Context, id int64) (*ent.Employee, error) {
			cur, err := tx.Employee.Get(ctx, id)
			if err != nil || cur.Presence == presence {
				return cur, err
			}
			return tx.Employee.UpdateOneID(id).SetPresence(presence).Save(ctx)
		})
		return err
	})
	return e, err
}
