package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Object types of the CRM objects API.
const (
	Contacts = "contacts"
	Deals    = "deals"
	Notes    = "notes"
)

// HubSpot-defined association type ids (category HUBSPOT_DEFINED).
// Source: developers.hubspot.com docs/api/crm/associations/association-details
// (the table of default association type ids).
const (
	AssocDealToContact = 3
	AssocContactToDeal = 4
	AssocNoteToContact = 202
	AssocNoteToDeal    = 214
)

// MaxBatchRead is how many ids one batch read takes.
const MaxBatchRead = 100

// searchPageSize is the page asked of a search (at most 200).
const searchPageSize = 100

// maxSearchPages bounds one search: a phone or a marker matching more
// than a few pages of records is not a search that needs the rest.
const maxSearchPages = 5

// Props are an object's properties. HubSpot sends every value as a
// string; null and absent read as "".
type Props map[string]string

// UnmarshalJSON reads strings, numbers and booleans as their text, null
// as "".
func (p *Props) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Props, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		t := strings.TrimSpace(string(v))
		if t != "null" {
			out[k] = t
		}
	}
	*p = out
	return nil
}

// Object is a CRM record: {"id", "properties", "archived", …}.
type Object struct {
	ID         string `json:"id"`
	Properties Props  `json:"properties"`
	Archived   bool   `json:"archived"`
}

// Filter is one condition of a search; Value for EQ, NEQ,
// CONTAINS_TOKEN, …; Values for IN (strings lower case).
type Filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"`
}

// FilterGroup holds filters that must all match; a search's groups are
// alternatives.
type FilterGroup struct {
	Filters []Filter `json:"filters"`
}

// Search limits: groups per request, filters per group, filters in all.
// Source: developers.hubspot.com docs/api/crm/search (limitations).
const (
	MaxFilterGroups = 5
	MaxGroupFilters = 6
	MaxFilters      = 18
)

// Search returns the objects of objType matching any of groups, with
// properties, in ascending id order: POST /crm/v3/objects/{type}/search
// {filterGroups, properties, sorts, limit, after}, which answers {total,
// results[], paging.next.after}. At most maxSearchPages pages are read.
// Every request counts against the search limit. The search index lags
// writes by a few seconds. Source: developers.hubspot.com
// docs/api/crm/search.
func (c *Client) Search(ctx context.Context, objType string, groups []FilterGroup, properties []string) ([]Object, error) {
	op := "POST /crm/v3/objects/" + objType + "/search"
	n := 0
	for _, g := range groups {
		if len(g.Filters) > MaxGroupFilters {
			return nil, &Error{Op: op, Err: fmt.Errorf("a group of %d filters; at most %d", len(g.Filters), MaxGroupFilters), local: true}
		}
		n += len(g.Filters)
	}
	if len(groups) == 0 || len(groups) > MaxFilterGroups || n > MaxFilters {
		return nil, &Error{Op: op, Err: fmt.Errorf("%d groups of %d filters; 1 to %d groups, %d filters", len(groups), n, MaxFilterGroups, MaxFilters), local: true}
	}
	var out []Object
	after := ""
	for range maxSearchPages {
		body := map[string]any{
			"filterGroups": groups,
			"properties":   properties,
			"sorts":        []map[string]string{{"propertyName": "hs_object_id", "direction": "ASCENDING"}},
			"limit":        searchPageSize,
		}
		if after != "" {
			body["after"] = after
		}
		var page struct {
			Results []Object `json:"results"`
			Paging  *paging  `json:"paging"`
		}
		if err := c.call(ctx, "POST", "/crm/v3/objects/"+objType+"/search", nil, body, &page, true); err != nil {
			return nil, err
		}
		out = append(out, page.Results...)
		after = page.Paging.after()
		if after == "" || len(page.Results) == 0 {
			break
		}
	}
	sortByID(out)
	return out, nil
}

// sortByID sorts objects by numeric id.
func sortByID(os []Object) {
	sort.SliceStable(os, func(i, j int) bool { return idLess(os[i].ID, os[j].ID) })
}

func idLess(a, b string) bool {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

// Association links a new object to another at creation.
type Association struct {
	ToID   string
	TypeID int
}

func (a Association) json() map[string]any {
	return map[string]any{
		"to":    map[string]string{"id": a.ToID},
		"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": a.TypeID}},
	}
}

// Create creates an object of objType with properties and associations
// and returns it: POST /crm/v3/objects/{type} {"properties", "associations":
// [{"to":{"id"}, "types":[{"associationCategory":"HUBSPOT_DEFINED",
// "associationTypeId"}]}]}, answered 201 with the object. Sources:
// developers.hubspot.com docs/api/crm/deals, docs/api/crm/contacts,
// docs/api-reference/crm-notes-v3/guide.
func (c *Client) Create(ctx context.Context, objType string, props map[string]string, assocs ...Association) (Object, error) {
	body := map[string]any{"properties": props}
	if len(assocs) > 0 {
		as := make([]map[string]any, len(assocs))
		for i, a := range assocs {
			as[i] = a.json()
		}
		body["associations"] = as
	}
	var o Object
	if err := c.call(ctx, "POST", "/crm/v3/objects/"+objType, nil, body, &o, false); err != nil {
		return Object{}, err
	}
	if o.ID == "" {
		return Object{}, &Error{Op: "POST /crm/v3/objects/" + objType, Status: 201, Err: fmt.Errorf("no id in the answer")}
	}
	return o, nil
}

// Update sets properties of an object: PATCH /crm/v3/objects/{type}/{id}
// {"properties"}. A missing object is an error matching ErrNotFound.
func (c *Client) Update(ctx context.Context, objType, id string, props map[string]string) error {
	if id == "" {
		return &Error{Op: "PATCH /crm/v3/objects/" + objType, Err: fmt.Errorf("no id"), local: true}
	}
	return c.call(ctx, "PATCH", "/crm/v3/objects/"+objType+"/"+url.PathEscape(id), nil, map[string]any{"properties": props}, nil, false)
}

// Get reads one object with properties: GET /crm/v3/objects/{type}/{id}
// ?properties=…. A missing object is an error matching ErrNotFound.
func (c *Client) Get(ctx context.Context, objType, id string, properties ...string) (Object, error) {
	if id == "" {
		return Object{}, &Error{Op: "GET /crm/v3/objects/" + objType, Err: fmt.Errorf("no id"), local: true}
	}
	q := url.Values{}
	if len(properties) > 0 {
		q.Set("properties", strings.Join(properties, ","))
	}
	var o Object
	err := c.call(ctx, "GET", "/crm/v3/objects/"+objType+"/"+url.PathEscape(id), q, nil, &o, false)
	return o, err
}

// BatchRead reads objects by id with properties, MaxBatchRead a request:
// POST /crm/v3/objects/{type}/batch/read {"properties", "inputs":[{"id"}]}.
// Missing ids are left out (HubSpot answers 207 with "errors" naming
// them). Source: developers.hubspot.com docs/api/crm/deals (batch read;
// the same endpoint for every object type).
func (c *Client) BatchRead(ctx context.Context, objType string, ids []string, properties ...string) ([]Object, error) {
	var out []Object
	for from := 0; from < len(ids); from += MaxBatchRead {
		part := ids[from:min(from+MaxBatchRead, len(ids))]
		inputs := make([]map[string]string, len(part))
		for i, id := range part {
			inputs[i] = map[string]string{"id": id}
		}
		var page struct {
			Results []Object `json:"results"`
		}
		body := map[string]any{"properties": properties, "inputs": inputs}
		if err := c.call(ctx, "POST", "/crm/v3/objects/"+objType+"/batch/read", nil, body, &page, false); err != nil {
			return nil, err
		}
		out = append(out, page.Results...)
	}
	sortByID(out)
	return out, nil
}

// Associated lists the ids of the toType objects associated with an
// object, every page: GET /crm/v4/objects/{type}/{id}/associations/{toType}
// (limit 500, after), which answers {results:[{toObjectId,
// associationTypes}], paging}. Associations are read from the records, not
// the search index: they do not lag. Source: developers.hubspot.com
// docs/api/crm/associations (v4, retrieve associated records).
func (c *Client) Associated(ctx context.Context, objType, id, toType string) ([]string, error) {
	if id == "" {
		return nil, &Error{Op: "GET /crm/v4/objects/" + objType + "/associations", Err: fmt.Errorf("no id"), local: true}
	}
	path := "/crm/v4/objects/" + objType + "/" + url.PathEscape(id) + "/associations/" + toType
	var out []string
	after := ""
	for range maxPages {
		q := url.Values{"limit": {"500"}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Results []struct {
				ToObjectID json.RawMessage `json:"toObjectId"`
			} `json:"results"`
			Paging *paging `json:"paging"`
		}
		if err := c.call(ctx, "GET", path, q, nil, &page, false); err != nil {
			return nil, err
		}
		for _, r := range page.Results {
			if id := strings.Trim(string(r.ToObjectID), `" `); id != "" && id != "null" {
				out = append(out, id)
			}
		}
		after = page.Paging.after()
		if after == "" || len(page.Results) == 0 {
			return out, nil
		}
	}
	return out, nil
}
