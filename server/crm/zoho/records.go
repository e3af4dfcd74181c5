package zoho

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Ref is a lookup or owner value: {"id","name"} (owners add "email").
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// idOnly is a lookup written by id.
type idOnly struct {
	ID string `json:"id"`
}

// User is a CRM user.
type User struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
	Email    string `json:"email"`
	// Status is "active", "disabled" or "deleted" (any other value is
	// read as not active).
	Status string `json:"status"`
}

// Active reports whether the user can work in the CRM.
func (u User) Active() bool { return strings.EqualFold(u.Status, "active") }

// User types of GET /users.
const (
	AllUsers    = "AllUsers"
	ActiveUsers = "ActiveUsers"
)

// ListUsers returns the org's users of a type (AllUsers, ActiveUsers, …):
// GET /crm/v7/users?type=…, every page ({"users":[…],"info":{…,
// "more_records"}}). Source: api/v7/get-users.html.
func (c *Client) ListUsers(ctx context.Context, typ string) ([]User, error) {
	var out []User
	err := c.pages(ctx, request{method: http.MethodGet, path: APIPath + "/users", query: url.Values{"type": {typ}}}, "users",
		func(raw json.RawMessage) error {
			var page []User
			if err := json.Unmarshal(raw, &page); err != nil {
				return fmt.Errorf("decode users: %w", err)
			}
			out = append(out, page...)
			return nil
		})
	return out, err
}

// Layout is a module's layout.
type Layout struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// ListLayouts returns a module's layouts: GET /crm/v7/settings/layouts?
// module=… ({"layouts":[…]}). Source: api/v7/get-layouts.html.
func (c *Client) ListLayouts(ctx context.Context, module string) ([]Layout, error) {
	var a struct {
		Layouts []Layout `json:"layouts"`
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: APIPath + "/settings/layouts", query: url.Values{"module": {module}}}, &a)
	return a.Layouts, err
}

// Forecast types of a pipeline stage.
const (
	ForecastOpen       = "Open"
	ForecastClosedWon  = "Closed Won"
	ForecastClosedLost = "Closed Lost"
)

// Stage is one stage ("map") of a pipeline. ActualValue is what a deal's
// Stage field holds.
type Stage struct {
	ID               string `json:"id"`
	DisplayValue     string `json:"display_value"`
	ActualValue      string `json:"actual_value"`
	SequenceNumber   int    `json:"sequence_number"`
	ForecastType     string `json:"forecast_type"`
	ForecastCategory *struct {
		Name string `json:"name"`
	} `json:"forecast_category"`
}

// Won and Lost read the stage's forecast type (else its forecast
// category's name): "Closed Won" and "Closed Lost".
func (s Stage) Won() bool  { return s.closed(ForecastClosedWon) }
func (s Stage) Lost() bool { return s.closed(ForecastClosedLost) }

func (s Stage) closed(kind string) bool {
	if strings.EqualFold(s.ForecastType, kind) {
		return true
	}
	return s.ForecastType == "" && s.ForecastCategory != nil && strings.EqualFold(s.ForecastCategory.Name, kind)
}

// Pipeline is a deal pipeline of a layout, with its stages in order.
type Pipeline struct {
	ID           string  `json:"id"`
	DisplayValue string  `json:"display_value"`
	ActualValue  string  `json:"actual_value"`
	Default      bool    `json:"default"`
	Maps         []Stage `json:"maps"`
}

// ListPipelines returns the Deals pipelines of a layout, stages sorted by
// sequence_number: GET /crm/v7/settings/pipeline?layout_id=…
// ({"pipeline":[{id, display_value, actual_value, default, maps:[…]}]}).
// Source: api/v7/get-pipeline.html.
func (c *Client) ListPipelines(ctx context.Context, layoutID string) ([]Pipeline, error) {
	var a struct {
		Pipeline []Pipeline `json:"pipeline"`
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: APIPath + "/settings/pipeline", query: url.Values{"layout_id": {layoutID}}}, &a)
	for i := range a.Pipeline {
		m := a.Pipeline[i].Maps
		sort.SliceStable(m, func(x, y int) bool { return m[x].SequenceNumber < m[y].SequenceNumber })
	}
	return a.Pipeline, err
}

// Contact is a contact with the fields Switchboard reads.
type Contact struct {
	ID        string `json:"id"`
	FirstName string `json:"First_Name"`
	LastName  string `json:"Last_Name"`
	FullName  string `json:"Full_Name"`
	Phone     string `json:"Phone"`
	Mobile    string `json:"Mobile"`
	Owner     *Ref   `json:"Owner"`
}

// Name is the contact's full name.
func (c Contact) Name() string {
	if c.FullName != "" {
		return c.FullName
	}
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// OwnerID is the contact's owner's id ("" none).
func (c Contact) OwnerID() string {
	if c.Owner == nil {
		return ""
	}
	return c.Owner.ID
}

// Phones are the contact's Phone and Mobile as stored (any notation).
func (c Contact) Phones() []string {
	var out []string
	for _, p := range []string{c.Phone, c.Mobile} {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

const contactFields = "First_Name,Last_Name,Full_Name,Phone,Mobile,Owner"

// SearchContactsByPhone returns the contacts whose phone fields match
// phone as the CRM compares them: GET /crm/v7/Contacts/search?phone=…,
// every page; 204 No Content is no match. Source:
// api/v7/search-records.html.
func (c *Client) SearchContactsByPhone(ctx context.Context, phone string) ([]Contact, error) {
	return search[Contact](ctx, c, "Contacts", url.Values{"phone": {phone}, "fields": {contactFields}})
}

func search[T any](ctx context.Context, c *Client, module string, q url.Values) ([]T, error) {
	var out []T
	err := c.pages(ctx, request{method: http.MethodGet, path: APIPath + "/" + module + "/search", query: q}, "data",
		func(raw json.RawMessage) error {
			var page []T
			if err := json.Unmarshal(raw, &page); err != nil {
				return fmt.Errorf("decode records: %w", err)
			}
			out = append(out, page...)
			return nil
		})
	return out, err
}

// NewContact is a contact to create; LastName is mandatory.
type NewContact struct {
	FirstName, LastName, Phone, Description, OwnerID string
}

// CreateContact inserts one contact: POST /crm/v7/Contacts {"data":[{
// First_Name, Last_Name, Phone, Description, Owner:{id}}]}, whose answer
// holds one status per record (a record refused inside a 2xx answer is
// an *Error with Record set). Source: api/v7/insert-records.html.
func (c *Client) CreateContact(ctx context.Context, n NewContact) (string, error) {
	rec := map[string]any{"Last_Name": n.LastName}
	if n.FirstName != "" {
		rec["First_Name"] = n.FirstName
	}
	if n.Phone != "" {
		rec["Phone"] = n.Phone
	}
	if n.Description != "" {
		rec["Description"] = n.Description
	}
	if n.OwnerID != "" {
		rec["Owner"] = idOnly{n.OwnerID}
	}
	return c.insert(ctx, "Contacts", rec)
}

func (c *Client) insert(ctx context.Context, module string, rec map[string]any) (string, error) {
	r := request{method: http.MethodPost, path: APIPath + "/" + module, body: map[string]any{"data": []any{rec}}}
	var a writeAnswer
	st, err := c.do(ctx, r, &a)
	if err != nil {
		return "", err
	}
	return recordID(r.op(), st, a)
}

// Deal is a deal with the fields Switchboard reads.
type Deal struct {
	ID          string `json:"id"`
	DealName    string `json:"Deal_Name"`
	Stage       string `json:"Stage"`
	Pipeline    *Ref   `json:"Pipeline"`
	Owner       *Ref   `json:"Owner"`
	ContactName *Ref   `json:"Contact_Name"`
}

// OwnerID is the deal's owner's id ("" none).
func (d Deal) OwnerID() string {
	if d.Owner == nil {
		return ""
	}
	return d.Owner.ID
}

// ContactID is the deal's contact's id ("" none).
func (d Deal) ContactID() string {
	if d.ContactName == nil {
		return ""
	}
	return d.ContactName.ID
}

// PipelineID is the deal's pipeline's id ("" when not sent as an object).
func (d Deal) PipelineID() string {
	if d.Pipeline == nil {
		return ""
	}
	return d.Pipeline.ID
}

// UnmarshalJSON takes Pipeline as {"name","id"} or as a plain name.
func (d *Deal) UnmarshalJSON(b []byte) error {
	type plain Deal
	var x struct {
		plain
		Pipeline json.RawMessage `json:"Pipeline"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*d = Deal(x.plain)
	d.Pipeline = nil
	if len(x.Pipeline) > 0 && string(x.Pipeline) != "null" {
		var r Ref
		if json.Unmarshal(x.Pipeline, &r) == nil {
			d.Pipeline = &r
		} else {
			var name string
			if json.Unmarshal(x.Pipeline, &name) == nil {
				d.Pipeline = &Ref{Name: name}
			}
		}
	}
	return nil
}

const dealFields = "Deal_Name,Stage,Pipeline,Owner,Contact_Name"

// NewDeal is a deal to create; Deal_Name and Stage are mandatory.
type NewDeal struct {
	Name string
	// Stage is the stage's actual value; Pipeline the pipeline's.
	Stage, Pipeline    string
	ContactID, OwnerID string
}

// CreateDeal inserts one deal: POST /crm/v7/Deals {"data":[{Deal_Name,
// Stage, Pipeline, Contact_Name:{id}, Owner:{id}}]}. Source:
// api/v7/insert-records.html.
func (c *Client) CreateDeal(ctx context.Context, n NewDeal) (string, error) {
	rec := map[string]any{"Deal_Name": n.Name, "Stage": n.Stage}
	if n.Pipeline != "" {
		rec["Pipeline"] = n.Pipeline
	}
	if n.ContactID != "" {
		rec["Contact_Name"] = idOnly{n.ContactID}
	}
	if n.OwnerID != "" {
		rec["Owner"] = idOnly{n.OwnerID}
	}
	return c.insert(ctx, "Deals", rec)
}

// GetDeal reads one deal: GET /crm/v7/Deals/{id} ({"data":[{…}]}). A
// missing deal (204, or a 404) is an error matching ErrNotFound. Source:
// api/v7/get-records.html.
func (c *Client) GetDeal(ctx context.Context, id string) (Deal, error) {
	r := request{method: http.MethodGet, path: APIPath + "/Deals/" + url.PathEscape(id), query: url.Values{"fields": {dealFields}}}
	var a struct {
		Data []Deal `json:"data"`
	}
	st, err := c.do(ctx, r, &a)
	if err != nil {
		return Deal{}, err
	}
	if st == http.StatusNoContent || len(a.Data) == 0 {
		return Deal{}, &Error{Op: r.op(), Status: st, Code: "NOT_FOUND", notFound: true}
	}
	return a.Data[0], nil
}

// escapeCriteria escapes the characters a criteria value cannot hold
// bare: "(", ")", "," and "\" (api/v7/search-records.html).
func escapeCriteria(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`, `,`, `\,`)
	return r.Replace(s)
}

// SearchDealsByName returns the deals whose Deal_Name contains text:
// GET /crm/v7/Deals/search?criteria=(Deal_Name:contains:…), every page.
// Where the org's search refuses the operator (400 INVALID_QUERY), a
// word search (?word=…) is made instead; callers judge every name
// returned. Source: api/v7/search-records.html.
func (c *Client) SearchDealsByName(ctx context.Context, text string) ([]Deal, error) {
	out, err := search[Deal](ctx, c, "Deals", url.Values{"criteria": {"(Deal_Name:contains:" + escapeCriteria(text) + ")"}, "fields": {dealFields}})
	if e, ok := asError(err); ok && e.Status == http.StatusBadRequest && (e.Code == CodeInvalidQuery || e.Code == "INVALID_REQUEST") {
		return search[Deal](ctx, c, "Deals", url.Values{"word": {text}, "fields": {dealFields}})
	}
	return out, err
}

// SetOwner makes userID the owner of a record of module ("Deals",
// "Contacts"): PUT /crm/v7/{module}/{id} {"data":[{"Owner":{"id"}}]}.
// Source: api/v7/update-specific-record.html.
func (c *Client) SetOwner(ctx context.Context, module, id, userID string) error {
	r := request{method: http.MethodPut, path: APIPath + "/" + module + "/" + url.PathEscape(id),
		body: map[string]any{"data": []any{map[string]any{"Owner": idOnly{userID}}}}}
	var a writeAnswer
	st, err := c.do(ctx, r, &a)
	if err != nil {
		return err
	}
	_, err = recordID(r.op(), st, a)
	return err
}

// Note is a note of a record.
type Note struct {
	ID      string `json:"id"`
	Title   string `json:"Note_Title"`
	Content string `json:"Note_Content"`
}

// AddNote writes a note to a record of module: POST /crm/v7/{module}/
// {id}/Notes {"data":[{Note_Title, Note_Content}]}, and returns its id.
// Source: api/v7/create-notes.html.
func (c *Client) AddNote(ctx context.Context, module, id, title, content string) (string, error) {
	r := request{method: http.MethodPost, path: APIPath + "/" + module + "/" + url.PathEscape(id) + "/Notes",
		body: map[string]any{"data": []any{map[string]any{"Note_Title": title, "Note_Content": content}}}}
	var a writeAnswer
	st, err := c.do(ctx, r, &a)
	if err != nil {
		return "", err
	}
	return recordID(r.op(), st, a)
}

// ListNotes returns every note of a record of module: GET /crm/v7/
// {module}/{id}/Notes?fields=Note_Title,Note_Content, every page (204
// when none). Source: api/v7/get-notes.html.
func (c *Client) ListNotes(ctx context.Context, module, id string) ([]Note, error) {
	var out []Note
	r := request{method: http.MethodGet, path: APIPath + "/" + module + "/" + url.PathEscape(id) + "/Notes",
		query: url.Values{"fields": {"Note_Title,Note_Content"}}}
	err := c.pages(ctx, r, "data", func(raw json.RawMessage) error {
		var page []Note
		if err := json.Unmarshal(raw, &page); err != nil {
			return fmt.Errorf("decode notes: %w", err)
		}
		out = append(out, page...)
		return nil
	})
	return out, err
}
