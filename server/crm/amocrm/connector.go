package amocrm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/switchboardhq/switchboard/server/crm"
)

func init() {
	v := crm.Vendor{Open: open, ParseWebhook: parseWebhook}
	crm.Register(crm.AmoCRM, v)
	crm.Register(crm.Kommo, v)
}

// connector is amoCRM/Kommo behind the crm seam.
type connector struct{ c *Client }

func open(cfg crm.Config) (crm.Connector, error) {
	var opts []Option
	if cfg.AllowAnyHost {
		opts = append(opts, AllowAnyHost())
	}
	if cfg.HTTP != nil {
		opts = append(opts, WithHTTPClient(cfg.HTTP))
	}
	c, err := New(cfg.BaseURL, cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", crm.ErrBadAddress, err)
	}
	return connector{c}, nil
}

// seam translates the client's errors into the seam's.
func seam(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case IsUnauthorized(err):
		return fmt.Errorf("%w: %v", crm.ErrUnauthorized, err)
	case IsRetryable(err):
		return fmt.Errorf("%w: %v", crm.ErrUnreachable, err)
	}
	var e *Error
	if errors.As(err, &e) && e.Status == 0 {
		return fmt.Errorf("%w: %v", crm.ErrUnreachable, err)
	}
	return err
}

// Directory reads users (GET /api/v4/users, which needs an admin's token)
// and pipelines with their statuses (GET /api/v4/leads/pipelines): status
// 142 is won, 143 lost, type 1 the pipeline's incoming leads. Archived
// pipelines are left out.
func (k connector) Directory(ctx context.Context) (crm.Directory, error) {
	users, err := k.c.ListUsers(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	pipelines, err := k.c.ListPipelines(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	var out crm.Directory
	for _, u := range users {
		out.Users = append(out.Users, crm.User{ID: strconv.FormatInt(u.ID, 10), Name: u.Name, Email: u.Email, Active: u.Active})
	}
	for _, p := range pipelines {
		if p.Archived {
			continue
		}
		cp := crm.Pipeline{ID: strconv.FormatInt(p.ID, 10), Name: p.Name, Main: p.Main}
		for _, s := range p.Statuses {
			kind := crm.Working
			switch {
			case s.Won():
				kind = crm.Won
			case s.Lost():
				kind = crm.Lost
			case s.Incoming():
				kind = crm.Incoming
			}
			cp.Stages = append(cp.Stages, crm.Stage{ID: strconv.FormatInt(s.ID, 10), Name: s.Name, Kind: kind})
		}
		out.Pipelines = append(out.Pipelines, cp)
	}
	return out, nil
}

// ParseWebhook reads a form-encoded amoCRM webhook: lead status changes
// (leads[status]) and lead responsible changes (leads[responsible]); the
// other events carry nothing Switchboard acts on.
func parseWebhook(r *http.Request) ([]crm.Event, error) {
	w, err := ParseWebhookRequest(nil, r)
	if err != nil {
		return nil, err
	}
	var out []crm.Event
	for _, e := range w.Events {
		id := strconv.FormatInt(e.ID, 10)
		switch e.Kind {
		case LeadStatusChanged:
			out = append(out, crm.Event{Kind: crm.DealStage, DealID: id, StageID: strconv.FormatInt(e.StatusID, 10),
				Won: e.Won(), Lost: e.Lost(), Modified: e.LastModified})
		case LeadResponsibleChanged:
			out = append(out, crm.Event{Kind: crm.DealResponsible, DealID: id, UserID: strconv.FormatInt(e.ResponsibleUserID, 10),
				Modified: e.LastModified})
		}
	}
	return out, nil
}
