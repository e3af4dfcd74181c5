package pipedrive

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Person is a Pipedrive person (a contact).
type Person struct {
	ID, Name, OwnerID string
	// Phones are the phone values as stored, in the person's spelling.
	Phones []string
}

// personJSON reads a person as the v2 endpoints answer it (phones as
// [{value, primary, label}], owner_id) and as the search does (phones as
// strings, owner {id}).
type personJSON struct {
	ID      ID               `json:"id"`
	Name    string           `json:"name"`
	OwnerID ID               `json:"owner_id"`
	Owner   *struct{ ID ID } `json:"owner"`
	Phones  []phoneJSON      `json:"phones"`
}

// phoneJSON is {value, primary, label} or a bare string.
type phoneJSON struct{ Value string }

func (p *phoneJSON) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		p.Value = s
		return nil
	}
	var o struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	p.Value = o.Value
	return nil
}

func (j personJSON) person() Person {
	p := Person{ID: string(j.ID), Name: j.Name, OwnerID: string(j.OwnerID)}
	if p.OwnerID == "" && j.Owner != nil {
		p.OwnerID = string(j.Owner.ID)
	}
	for _, ph := range j.Phones {
		if ph.Value != "" {
			p.Phones = append(p.Phones, ph.Value)
		}
	}
	return p
}

// NewPerson is a person to create.
type NewPerson struct {
	// Name is required by Pipedrive: when empty, Phone (else "Client")
	// stands in.
	Name string
	// Phone is stored as the primary phone, labelled "mobile" ("" none).
	Phone string
	// OwnerID is the user who owns the person ("" the token's user).
	OwnerID string
}

// AddPerson creates a person (POST /api/v2/persons {name, owner_id,
// phones: [{value, primary, label}]}) and returns its id. Source:
// developers.pipedrive.com docs/api/v2/Persons#addPerson.
func (c *Client) AddPerson(ctx context.Context, n NewPerson) (string, error) {
	r := request{method: http.MethodPost, path: "/api/v2/persons"}
	name := strings.TrimSpace(n.Name)
	if name == "" {
		name = n.Phone
	}
	if name == "" {
		name = "Client" // Pipedrive requires a name
	}
	body := map[string]any{"name": name}
	if n.Phone != "" {
		body["phones"] = []map[string]any{{"value": n.Phone, "primary": true, "label": "mobile"}}
	}
	if n.OwnerID != "" {
		id, err := num(r.op(), "owner_id", n.OwnerID)
		if err != nil {
			return "", err
		}
		body["owner_id"] = id
	}
	r.body = body
	return c.create(ctx, r)
}

// create sends a POST whose answer's data is the new record, and returns
// its id. An answer without one is ambiguous: the record was made.
func (c *Client) create(ctx context.Context, r request) (string, error) {
	a, err := c.call(ctx, r)
	if err != nil {
		return "", err
	}
	var j struct {
		ID ID `json:"id"`
	}
	if err := decode(r.op(), a.Data, &j); err != nil {
		return "", err
	}
	if j.ID == "" {
		return "", &Error{Op: r.op(), Status: http.StatusOK, Err: errNoID}
	}
	return string(j.ID), nil
}

var errNoID = jsonError("no id in the answer")

type jsonError string

func (e jsonError) Error() string { return string(e) }

// SetPersonOwner makes userID the person's owner (PATCH
// /api/v2/persons/{id} {owner_id}). Source: developers.pipedrive.com
// docs/api/v2/Persons#updatePerson.
func (c *Client) SetPersonOwner(ctx context.Context, personID, userID string) error {
	return c.setOwner(ctx, "/api/v2/persons/", personID, userID)
}

func (c *Client) setOwner(ctx context.Context, prefix, id, userID string) error {
	op := http.MethodPatch + " " + prefix + "{id}"
	pid, err := idPath(op, id)
	if err != nil {
		return err
	}
	owner, err := num(op, "owner_id", userID)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, request{method: http.MethodPatch, path: prefix + pid, body: map[string]any{"owner_id": owner}})
	return err
}

// searchItems is data of a v2 search: {items: [{result_score, item}]}.
type searchItems[T any] struct {
	Items []struct {
		Item T `json:"item"`
	} `json:"items"`
}

// SearchPersonsByPhone returns the persons whose phone matches term
// (GET /api/v2/persons/search?term=&fields=phone&exact_match=false, its
// first searchPages pages): a full-text search, so callers judge each
// phone themselves. The
// term needs 2 characters at least. Source: developers.pipedrive.com
// docs/api/v2/Persons#searchPersons.
func (c *Client) SearchPersonsByPhone(ctx context.Context, term string) ([]Person, error) {
	const op = "GET /api/v2/persons/search"
	if len([]rune(term)) < 2 {
		return nil, &Error{Op: op, Err: jsonError("the search term needs 2 characters at least"), local: true}
	}
	q := url.Values{"term": {term}, "fields": {"phone"}, "exact_match": {"false"}}
	var out []Person
	err := c.listV2(ctx, "/api/v2/persons/search", q, searchPages, func(raw json.RawMessage) error {
		var page searchItems[personJSON]
		if err := decode(op, raw, &page); err != nil {
			return err
		}
		for _, it := range page.Items {
			if it.Item.ID != "" {
				out = append(out, it.Item.person())
			}
		}
		return nil
	})
	return out, err
}

// SearchPersonsByName returns the persons whose name matches term (GET
// /api/v2/persons/search?term=&fields=name&exact_match=false, its first
// searchPages pages): a full-text search, so callers judge each name.
func (c *Client) SearchPersonsByName(ctx context.Context, term string) ([]Person, error) {
	const op = "GET /api/v2/persons/search"
	if len([]rune(term)) < 2 {
		return nil, &Error{Op: op, Err: jsonError("the search term needs 2 characters at least"), local: true}
	}
	q := url.Values{"term": {term}, "fields": {"name"}, "exact_match": {"false"}}
	var out []Person
	err := c.listV2(ctx, "/api/v2/persons/search", q, searchPages, func(raw json.RawMessage) error {
		var page searchItems[personJSON]
		if err := decode(op, raw, &page); err != nil {
			return err
		}
		for _, it := range page.Items {
			if it.Item.ID != "" {
				out = append(out, it.Item.person())
			}
		}
		return nil
	})
	return out, err
}

// RecentPersons returns the newest persons, at most limit (≤ PageLimit),
// newest first (GET /api/v2/persons?sort_by=id&sort_direction=desc, one
// page). Unlike the search it does not wait for an index. Source:
// developers.pipedrive.com docs/api/v2/Persons#getPersons.
func (c *Client) RecentPersons(ctx context.Context, limit int) ([]Person, error) {
	const op = "GET /api/v2/persons"
	limit = min(max(limit, 1), PageLimit)
	q := url.Values{"sort_by": {"id"}, "sort_direction": {"desc"}, "limit": {strconv.Itoa(limit)}}
	a, err := c.call(ctx, request{method: http.MethodGet, path: "/api/v2/persons", query: q})
	if err != nil {
		return nil, err
	}
	var js []personJSON
	if err := decode(op, a.Data, &js); err != nil {
		return nil, err
	}
	out := make([]Person, 0, len(js))
	for _, j := range js {
		if j.ID != "" {
			out = append(out, j.person())
		}
	}
	return out, nil
}
