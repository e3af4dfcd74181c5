package testenv

import (
	"context"

	"github.com/switchboardhq/switchboard/server/demo"
	"github.com/switchboardhq/switchboard/server/ids"
)

// Company is the demo company of an env's account, with API ids.
type Company struct {
	Channels  map[string]string
	Employees map[string]string
	// Token is Bruce Wayne's employee token.
	Token string
}

// Demo fills the env's account with the demo company (see package demo).
func (e *Env) Demo() *Company { return e.DemoIn(e.AccountID) }

// DemoIn fills another account with the demo company.
func (e *Env) DemoIn(accountID int64) *Company {
	e.T.Helper()
	co, err := demo.Fill(context.Background(), e.Store, accountID)
	if err != nil || co == nil {
		e.T.Fatalf("demo company: %v (account had channels: %v)", err, co == nil)
	}
	out := &Company{Channels: map[string]string{}, Employees: map[string]string{}, Token: co.Token}
	for k, v := range co.Channels {
		out.Channels[k] = ids.Format(v)
	}
	for k, v := range co.Employees {
		out.Employees[k] = ids.Format(v)
	}
	return out
}
