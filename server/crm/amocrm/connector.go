package amocrm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

func init() {
	v := crm.Vendor{Open: open, ParseWebhook: parseWebhook, Rate: crm.Rate{PerSecond: DefaultRate, Burst: 1},
		Address: "https://{subdomain}.amocrm.ru (or .amocrm.com) for amoCRM, https://{subdomain}.kommo.com for Kommo"}
	crm.Register(crm.AmoCRM, v)
	crm.Register(crm.Kommo, v)
}

// connector is amoCRM/Kommo behind the crm seam.
type connector struct{ c *Client }

func open(cfg crm.Config) (crm.Connector, error) {
	opts := crmhttp.Options(cfg, AllowAnyHost, WithHTTPClient, WithLimiter)
	c, err := New(cfg.BaseURL, cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", crm.ErrBadAddress, err)
	}
	return connector{c}, nil
}

// seam translates the client's errors into the seam's.
func seam(err error) error {
	e, ok := crmhttp.As[*Error](err)
	return crmhttp.Seam(err, ok && e.Unauthorized(), ok && (e.Retryable() || e.Status == 0))
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

// parseWebhook reads a form-encoded amoCRM webhook: the leads whose status
// (leads[status]) or responsible (leads[responsible]) changed; the other
// events carry nothing Switchboard acts on.
func parseWebhook(r *http.Request) ([]crm.Event, error) {
	w, err := ParseWebhookRequest(nil, r)
	if err != nil {
		return nil, err
	}
	var out []crm.Event
	for _, e := range w.Events {
		if e.Kind == LeadStatusChanged || e.Kind == LeadResponsibleChanged {
			out = append(out, crm.Event{DealID: strconv.FormatInt(e.ID, 10)})
		}
	}
	return out, nil
}

func id64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// FindContact searches contacts by the number's national significant
// digits (the search is full-text, and CRM users write "8 (916) …" as
// often as "+7 916 …"), then keeps the first whose PHONE value same
// accepts. An empty result is the CRM's HTTP 204.
// Source: https://www.amocrm.ru/developers/content/crm_platform/contacts-api
func (k connector) FindContact(ctx context.Context, phone string, same func(raw string) bool) (*crm.Contact, error) {
	cs, err := k.byPhone(ctx, phone)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		for _, raw := range c.Phones {
			if same(raw) {
				return &crm.Contact{ID: strconv.FormatInt(c.ID, 10), Name: c.Name, ResponsibleID: strconv.FormatInt(c.ResponsibleUserID, 10)}, nil
			}
		}
	}
	return nil, nil
}

// byPhone searches contacts by a number's last ten digits: the search is
// full-text, so the CRM's own notations ("8 (916) …") match too; callers
// judge every returned phone.
func (k connector) byPhone(ctx context.Context, e164 string) ([]Contact, error) {
	q := strings.TrimPrefix(e164, "+")
	if len(q) > 10 {
		q = q[len(q)-10:]
	}
	cs, err := k.c.FindContactsByPhone(ctx, q)
	return cs, seam(err)
}

// dealName is the lead's name with the record's marker.
func dealName(rec crm.ClientRecord) string {
	return strings.TrimSpace(rec.DealName + " " + rec.Marker)
}

// CreateClient creates the lead with its contact in one
// POST /api/v4/leads/complex (an existing contact is linked by id).
// Source: https://developers.kommo.com/reference/complex-leads
func (k connector) CreateClient(ctx context.Context, rec crm.ClientRecord) (crm.ClientRef, error) {
	lead := NewLead{Name: dealName(rec), PipelineID: id64(rec.PipelineID), StatusID: id64(rec.StageID),
		ResponsibleUserID: id64(rec.ResponsibleID), RequestID: rec.Marker}
	if rec.ContactID != "" {
		lead.ContactID = id64(rec.ContactID)
	} else {
		lead.Contact = &NewContact{Name: rec.Name, Phone: rec.Phone, PhoneEnum: "MOB", ResponsibleUserID: id64(rec.ResponsibleID)}
	}
	out, err := k.c.CreateLeadComplex(ctx, lead)
	if err != nil {
		return crm.ClientRef{}, seam(err)
	}
	return crm.ClientRef{ContactID: strconv.FormatInt(out.ContactID, 10), DealID: strconv.FormatInt(out.ID, 10)}, nil
}

// FindCreated finds a lead named with rec's marker among the leads of the
// contacts with rec's phone. The CRM echoes request ids but does not keep
// them, so the marker in the lead's name is what survives a lost answer.
// A client known only by a messenger handle has no phone to search by:
// its lead is searched for by the marker itself.
func (k connector) FindCreated(ctx context.Context, rec crm.ClientRecord) (*crm.ClientRef, error) {
	if rec.Marker == "" {
		return nil, nil
	}
	if rec.Phone == "" {
		leads, err := k.c.FindLeads(ctx, rec.Marker)
		if err != nil {
			return nil, seam(err)
		}
		for _, l := range leads {
			if crm.HasMarker(l.Name, rec.Marker) && !l.Deleted {
				ref := &crm.ClientRef{DealID: strconv.FormatInt(l.ID, 10), ContactID: rec.ContactID}
				if len(l.ContactIDs) > 0 {
					ref.ContactID = strconv.FormatInt(l.ContactIDs[0], 10)
				}
				return ref, nil
			}
		}
		return nil, nil
	}
	cs, err := k.byPhone(ctx, rec.Phone)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		for _, lid := range c.LeadIDs {
			l, err := k.c.GetLead(ctx, lid)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, seam(err)
			}
			if crm.HasMarker(l.Name, rec.Marker) {
				return &crm.ClientRef{ContactID: strconv.FormatInt(c.ID, 10), DealID: strconv.FormatInt(l.ID, 10)}, nil
			}
		}
	}
	return nil, nil
}

// SetResponsible patches the lead's and the contact's responsible user
// (PATCH /api/v4/leads/{id}, /api/v4/contacts/{id}): a client has one
// responsible, shared by its deals.
func (k connector) SetResponsible(ctx context.Context, ref crm.ClientRef, userID string) error {
	if ref.DealID != "" {
		if err := k.c.UpdateLeadResponsible(ctx, id64(ref.DealID), id64(userID)); err != nil {
			return seam(err)
		}
	}
	if ref.ContactID != "" {
		if err := k.c.UpdateContactResponsible(ctx, id64(ref.ContactID), id64(userID)); err != nil {
			return seam(err)
		}
	}
	return nil
}

// AddNote adds an extended service message signed "Switchboard" to the
// lead (else the contact); when maybeWritten, not if a note with marker is
// there already (the CRM does not keep request ids, so the marker in the
// text is what is searched).
// Source: https://developers.kommo.com/reference/notes-types
func (k connector) AddNote(ctx context.Context, ref crm.ClientRef, text, marker string, maybeWritten bool) error {
	entity, id := Leads, id64(ref.DealID)
	if ref.DealID == "" {
		entity, id = Contacts, id64(ref.ContactID)
	}
	if marker != "" && maybeWritten {
		if _, found, err := k.c.FindNote(ctx, entity, id, marker); err != nil || found {
			return seam(err)
		}
	}
	if marker != "" {
		text = text + "\n" + marker
	}
	_, err := k.c.AddNotes(ctx, entity, []NewNote{{EntityID: id, Text: text, RequestID: marker}})
	return seam(err)
}

// Deal reads the lead's status and responsible (GET /api/v4/leads/{id}).
func (k connector) Deal(ctx context.Context, dealID string) (crm.DealState, error) {
	l, err := k.c.GetLead(ctx, id64(dealID))
	if err != nil {
		return crm.DealState{}, seam(err)
	}
	return crm.DealState{Won: l.Won(), Lost: l.Lost(),
		ResponsibleID: strconv.FormatInt(l.ResponsibleUserID, 10)}, nil
}
