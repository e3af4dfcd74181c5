package amocrm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// PhoneFieldCode is the field_code of a contact's phone numbers among its
// custom_fields_values.
const PhoneFieldCode = "PHONE"

// Contact is a CRM contact with the parts Switchboard reads.
type Contact struct {
	ID                int64
	Name              string
	FirstName         string
	LastName          string
	ResponsibleUserID int64
	// Phones are the PHONE field's values as the CRM stores them (any
	// notation: "+7 916 …", "8 (916) …"); normalize before comparing.
	Phones []string
	// LeadIDs are the contact's leads; filled by calls that ask the CRM
	// for them (FindContactsByPhone, GetContact).
	LeadIDs   []int64
	UpdatedAt time.Time
}

type customFieldJSON struct {
	FieldID   int64  `json:"field_id,omitempty"`
	FieldCode string `json:"field_code,omitempty"`
	Values    []struct {
		Value    flexString `json:"value"`
		EnumCode string     `json:"enum_code,omitempty"`
	} `json:"values"`
}

type contactJSON struct {
	ID                 int64             `json:"id"`
	Name               string            `json:"name"`
	FirstName          string            `json:"first_name"`
	LastName           string            `json:"last_name"`
	ResponsibleUserID  int64             `json:"responsible_user_id"`
	UpdatedAt          int64             `json:"updated_at"`
	CustomFieldsValues []customFieldJSON `json:"custom_fields_values"`
	Embedded           struct {
		Leads []struct {
			ID int64 `json:"id"`
		} `json:"leads"`
	} `json:"_embedded"`
}

func (j contactJSON) contact() Contact {
	c := Contact{
		ID: j.ID, Name: j.Name, FirstName: j.FirstName, LastName: j.LastName,
		ResponsibleUserID: j.ResponsibleUserID,
	}
	if j.UpdatedAt > 0 {
		c.UpdatedAt = time.Unix(j.UpdatedAt, 0).UTC()
	}
	for _, f := range j.CustomFieldsValues {
		if f.FieldCode != PhoneFieldCode {
			continue
		}
		for _, v := range f.Values {
			if v.Value != "" {
				c.Phones = append(c.Phones, string(v.Value))
			}
		}
	}
	for _, l := range j.Embedded.Leads {
		c.LeadIDs = append(c.LeadIDs, l.ID)
	}
	return c
}

// FindContactsByPhone returns the contacts whose filled fields match query,
// with their phones and lead ids (GET /api/v4/contacts?query=…&with=leads,
// every page). The CRM's query is a full-text search, not a phone match:
// pass the national significant number (the last 10 digits of a +7 number)
// and keep only the contacts whose normalized Phones equal the client's.
// No match is an empty slice and no error: the CRM answers 204 No Content.
// Source: https://www.amocrm.ru/developers/content/crm_platform/contacts-api
func (c *Client) FindContactsByPhone(ctx context.Context, query string) ([]Contact, error) {
	if query == "" {
		return nil, &Error{Op: "GET /api/v4/contacts", Err: fmt.Errorf("empty query"), local: true}
	}
	raw, err := collect[contactJSON](ctx, c, "/api/v4/contacts", url.Values{"query": {query}, "with": {"leads"}}, "contacts")
	if err != nil {
		return nil, err
	}
	out := make([]Contact, 0, len(raw))
	for _, j := range raw {
		out = append(out, j.contact())
	}
	return out, nil
}

// GetContact returns one contact with its lead ids
// (GET /api/v4/contacts/{id}?with=leads). A missing contact is an error
// matching ErrNotFound.
func (c *Client) GetContact(ctx context.Context, id int64) (Contact, error) {
	path := fmt.Sprintf("/api/v4/contacts/%d", id)
	var j contactJSON
	status, err := c.do(ctx, http.MethodGet, path, url.Values{"with": {"leads"}}, nil, &j)
	if err != nil {
		return Contact{}, err
	}
	if status == http.StatusNoContent || j.ID == 0 {
		return Contact{}, &Error{Op: "GET " + path, Status: status, Title: "Not Found", Detail: "no such contact", notFound: true}
	}
	return j.contact(), nil
}

// NewContact is a contact to create. Name, or FirstName/LastName, names
// it; Phone (any notation; E.164 preferred) goes to the PHONE field with
// PhoneEnum ("WORK" when empty; the CRM also knows "MOB", "HOME", …).
type NewContact struct {
	Name              string
	FirstName         string
	LastName          string
	Phone             string
	PhoneEnum         string
	ResponsibleUserID int64
	// RequestID is echoed back by POST /api/v4/contacts (not stored).
	RequestID string
}

type contactOut struct {
	ID                 int64            `json:"id,omitempty"`
	Name               string           `json:"name,omitempty"`
	FirstName          string           `json:"first_name,omitempty"`
	LastName           string           `json:"last_name,omitempty"`
	ResponsibleUserID  int64            `json:"responsible_user_id,omitempty"`
	CustomFieldsValues []customFieldOut `json:"custom_fields_values,omitempty"`
	RequestID          string           `json:"request_id,omitempty"`
}

type customFieldOut struct {
	FieldCode string             `json:"field_code"`
	Values    []customFieldValue `json:"values"`
}

type customFieldValue struct {
	Value    string `json:"value"`
	EnumCode string `json:"enum_code,omitempty"`
}

func (n NewContact) out() contactOut {
	o := contactOut{
		Name: n.Name, FirstName: n.FirstName, LastName: n.LastName,
		ResponsibleUserID: n.ResponsibleUserID, RequestID: n.RequestID,
	}
	if n.Phone != "" {
		enum := n.PhoneEnum
		if enum == "" {
			enum = "WORK"
		}
		o.CustomFieldsValues = []customFieldOut{{
			FieldCode: PhoneFieldCode,
			Values:    []customFieldValue{{Value: n.Phone, EnumCode: enum}},
		}}
	}
	return o
}

// Created is the id the CRM gave an entity and the request_id it echoed.
type Created struct {
	ID        int64
	RequestID string
}

// CreateContacts creates contacts in one POST /api/v4/contacts and returns
// their ids in request order.
// Source: https://www.amocrm.ru/developers/content/crm_platform/contacts-api
func (c *Client) CreateContacts(ctx context.Context, contacts []NewContact) ([]Created, error) {
	body := make([]contactOut, 0, len(contacts))
	for _, n := range contacts {
		body = append(body, n.out())
	}
	return c.create(ctx, "/api/v4/contacts", "contacts", body)
}

// UpdateContactResponsible makes userID the contact's responsible user
// (PATCH /api/v4/contacts/{id}).
func (c *Client) UpdateContactResponsible(ctx context.Context, contactID, userID int64) error {
	return c.patchResponsible(ctx, fmt.Sprintf("/api/v4/contacts/%d", contactID), userID)
}

func (c *Client) patchResponsible(ctx context.Context, path string, userID int64) error {
	if userID <= 0 {
		return &Error{Op: "PATCH " + path, Err: fmt.Errorf("responsible user id %d", userID), local: true}
	}
	_, err := c.do(ctx, http.MethodPatch, path, nil, map[string]int64{"responsible_user_id": userID}, nil)
	return err
}

// create POSTs a batch and reads back "_embedded"[key][]{id, request_id}.
func (c *Client) create(ctx context.Context, path, key string, body any) ([]Created, error) {
	var l halList
	if _, err := c.do(ctx, http.MethodPost, path, nil, body, &l); err != nil {
		return nil, err
	}
	var items []struct {
		ID        int64      `json:"id"`
		RequestID flexString `json:"request_id"`
	}
	if raw, ok := l.Embedded[key]; ok {
		if err := jsonUnmarshal(raw, &items); err != nil {
			return nil, &Error{Op: "POST " + path, Status: 200, Err: err}
		}
	}
	out := make([]Created, 0, len(items))
	for _, it := range items {
		out = append(out, Created{ID: it.ID, RequestID: string(it.RequestID)})
	}
	return out, nil
}
