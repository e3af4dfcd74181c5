package amocrm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// MaxComplexLeads is how many leads one POST /api/v4/leads/complex takes
// (https://developers.kommo.com/reference/complex-leads).
const MaxComplexLeads = 50

// Lead is a CRM lead (a deal on Switchboard's side).
type Lead struct {
	ID                int64
	Name              string
	Price             int64
	PipelineID        int64
	StatusID          int64
	ResponsibleUserID int64
	ContactIDs        []int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// ClosedAt is zero while the lead is open.
	ClosedAt time.Time
	Deleted  bool
}

// Won reports whether the lead is in the closed-won status.
func (l Lead) Won() bool { return l.StatusID == StatusWon }

// Lost reports whether the lead is in the closed-lost status.
func (l Lead) Lost() bool { return l.StatusID == StatusLost }

type leadJSON struct {
	ID                int64  `json:"id"`
	Name              string `json:"name"`
	Price             int64  `json:"price"`
	ResponsibleUserID int64  `json:"responsible_user_id"`
	StatusID          int64  `json:"status_id"`
	PipelineID        int64  `json:"pipeline_id"`
	CreatedAt         int64  `json:"created_at"`
	UpdatedAt         int64  `json:"updated_at"`
	ClosedAt          *int64 `json:"closed_at"`
	IsDeleted         bool   `json:"is_deleted"`
	Embedded          struct {
		Contacts []struct {
			ID int64 `json:"id"`
		} `json:"contacts"`
	} `json:"_embedded"`
}

func unix(s int64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func (j leadJSON) lead() Lead {
	l := Lead{
		ID: j.ID, Name: j.Name, Price: j.Price, PipelineID: j.PipelineID, StatusID: j.StatusID,
		ResponsibleUserID: j.ResponsibleUserID, CreatedAt: unix(j.CreatedAt), UpdatedAt: unix(j.UpdatedAt),
		Deleted: j.IsDeleted,
	}
	if j.ClosedAt != nil {
		l.ClosedAt = unix(*j.ClosedAt)
	}
	for _, c := range j.Embedded.Contacts {
		l.ContactIDs = append(l.ContactIDs, c.ID)
	}
	return l
}

// GetLead returns one lead with its contact ids
// (GET /api/v4/leads/{id}?with=contacts). A missing lead is an error
// matching ErrNotFound (the CRM may answer 204 or 404; both are handled).
// Source: https://www.amocrm.ru/developers/content/crm_platform/leads-api
func (c *Client) GetLead(ctx context.Context, id int64) (Lead, error) {
	path := fmt.Sprintf("/api/v4/leads/%d", id)
	var j leadJSON
	status, err := c.do(ctx, http.MethodGet, path, url.Values{"with": {"contacts"}}, nil, &j)
	if err != nil {
		return Lead{}, err
	}
	if status == http.StatusNoContent || j.ID == 0 {
		return Lead{}, &Error{Op: "GET " + path, Status: status, Title: "Not Found", Detail: "no such lead", notFound: true}
	}
	return j.lead(), nil
}

// FindLeads returns the leads whose filled fields match query, with their
// contact ids (GET /api/v4/leads?query=…&with=contacts, every page). The
// CRM's query is a full-text search: judge what it returns. No match is
// an empty slice and no error (204 No Content).
// Source: https://www.amocrm.ru/developers/content/crm_platform/leads-api
func (c *Client) FindLeads(ctx context.Context, query string) ([]Lead, error) {
	if query == "" {
		return nil, &Error{Op: "GET /api/v4/leads", Err: fmt.Errorf("empty query"), local: true}
	}
	raw, err := collect[leadJSON](ctx, c, "/api/v4/leads", url.Values{"query": {query}, "with": {"contacts"}}, "leads")
	if err != nil {
		return nil, err
	}
	out := make([]Lead, 0, len(raw))
	for _, j := range raw {
		out = append(out, j.lead())
	}
	return out, nil
}

// NewLead is a lead to create together with its contact in one
// POST /api/v4/leads/complex.
type NewLead struct {
	Name  string
	Price int64
	// PipelineID and StatusID place the lead; PipelineID is required when
	// StatusID is 142 or 143, which every pipeline shares. Both zero is the
	// main pipeline's first status.
	PipelineID        int64
	StatusID          int64
	ResponsibleUserID int64
	// ContactID links an existing contact; otherwise Contact, when not
	// nil, is created with the lead. The CRM takes at most one contact
	// per lead.
	ContactID int64
	Contact   *NewContact
	// RequestID is echoed back unchanged and not stored by the CRM: put the
	// outbox job's id here to match answers to requests.
	RequestID string
}

// CreatedLead is the CRM's answer for one lead of a complex create.
type CreatedLead struct {
	ID        int64
	ContactID int64
	CompanyID int64
	RequestID string
	// Merged is true when the CRM's duplicate control merged the lead into
	// an existing one; ID and ContactID are then the existing entities.
	Merged bool
}

type leadOut struct {
	Name              string `json:"name,omitempty"`
	Price             int64  `json:"price,omitempty"`
	StatusID          int64  `json:"status_id,omitempty"`
	PipelineID        int64  `json:"pipeline_id,omitempty"`
	ResponsibleUserID int64  `json:"responsible_user_id,omitempty"`
	RequestID         string `json:"request_id,omitempty"`
	Embedded          *struct {
		Contacts []contactOut `json:"contacts,omitempty"`
	} `json:"_embedded,omitempty"`
}

// flexStrings decodes a JSON string, number or array of them; the complex
// endpoint echoes request_id as an array.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	var many []flexString
	if json.Unmarshal(b, &many) == nil {
		for _, s := range many {
			*f = append(*f, string(s))
		}
		return nil
	}
	var one flexString
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	if one != "" && one != "null" {
		*f = flexStrings{string(one)}
	}
	return nil
}

// CreateLeadsComplex creates up to MaxComplexLeads leads, each with its
// new or existing contact, in one POST /api/v4/leads/complex, and returns
// the answers in request order. The contact's id comes back at the top
// level of each answer. The CRM's duplicate control does not compare leads
// of the same request.
// Source: https://developers.kommo.com/reference/complex-leads
func (c *Client) CreateLeadsComplex(ctx context.Context, leads []NewLead) ([]CreatedLead, error) {
	const op = "POST /api/v4/leads/complex"
	if len(leads) == 0 || len(leads) > MaxComplexLeads {
		return nil, &Error{Op: op, Err: fmt.Errorf("%d leads; 1 to %d per request", len(leads), MaxComplexLeads), local: true}
	}
	body := make([]leadOut, 0, len(leads))
	for i, l := range leads {
		if (l.StatusID == StatusWon || l.StatusID == StatusLost) && l.PipelineID == 0 {
			return nil, &Error{Op: op, Err: fmt.Errorf("lead %d: status %d needs a pipeline id", i, l.StatusID), local: true}
		}
		o := leadOut{
			Name: l.Name, Price: l.Price, StatusID: l.StatusID, PipelineID: l.PipelineID,
			ResponsibleUserID: l.ResponsibleUserID, RequestID: l.RequestID,
		}
		switch {
		case l.ContactID != 0:
			o.Embedded = &struct {
				Contacts []contactOut `json:"contacts,omitempty"`
			}{Contacts: []contactOut{{ID: l.ContactID}}}
		case l.Contact != nil:
			co := l.Contact.out()
			co.RequestID = ""
			o.Embedded = &struct {
				Contacts []contactOut `json:"contacts,omitempty"`
			}{Contacts: []contactOut{co}}
		}
		body = append(body, o)
	}
	var answers []struct {
		ID        int64       `json:"id"`
		ContactID int64       `json:"contact_id"`
		CompanyID int64       `json:"company_id"`
		RequestID flexStrings `json:"request_id"`
		Merged    bool        `json:"merged"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/api/v4/leads/complex", nil, body, &answers); err != nil {
		return nil, err
	}
	out := make([]CreatedLead, 0, len(answers))
	for _, a := range answers {
		cl := CreatedLead{ID: a.ID, ContactID: a.ContactID, CompanyID: a.CompanyID, Merged: a.Merged}
		if len(a.RequestID) > 0 {
			cl.RequestID = a.RequestID[0]
		}
		out = append(out, cl)
	}
	return out, nil
}

// CreateLeadComplex creates one lead with its contact; see
// CreateLeadsComplex.
func (c *Client) CreateLeadComplex(ctx context.Context, lead NewLead) (CreatedLead, error) {
	out, err := c.CreateLeadsComplex(ctx, []NewLead{lead})
	if err != nil {
		return CreatedLead{}, err
	}
	if len(out) != 1 {
		return CreatedLead{}, &Error{Op: "POST /api/v4/leads/complex", Status: 200, Err: fmt.Errorf("%d answers for 1 lead", len(out))}
	}
	return out[0], nil
}

// UpdateLeadResponsible makes userID the lead's responsible user
// (PATCH /api/v4/leads/{id}).
func (c *Client) UpdateLeadResponsible(ctx context.Context, leadID, userID int64) error {
	return c.patchResponsible(ctx, fmt.Sprintf("/api/v4/leads/%d", leadID), userID)
}

// LeadUpdate changes one lead in a bulk update; zero fields are left as
// they are. PipelineID is required with StatusID 142 or 143.
type LeadUpdate struct {
	ID                int64 `json:"id"`
	ResponsibleUserID int64 `json:"responsible_user_id,omitempty"`
	StatusID          int64 `json:"status_id,omitempty"`
	PipelineID        int64 `json:"pipeline_id,omitempty"`
}

// UpdateLeads changes up to 250 leads in one PATCH /api/v4/leads.
func (c *Client) UpdateLeads(ctx context.Context, updates []LeadUpdate) error {
	if len(updates) == 0 || len(updates) > pageLimit {
		return &Error{Op: "PATCH /api/v4/leads", Err: fmt.Errorf("%d updates; 1 to %d per request", len(updates), pageLimit), local: true}
	}
	_, err := c.do(ctx, http.MethodPatch, "/api/v4/leads", nil, updates, nil)
	return err
}
