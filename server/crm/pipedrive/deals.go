package pipedrive

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// Deal statuses. Source: developers.pipedrive.com docs/api/v2/Deals.
const (
	StatusOpen = "open"
	StatusWon  = "won"
	StatusLost = "lost"
)

// Deal is a deal with the parts Switchboard reads.
type Deal struct {
	ID, Title string
	// Status is StatusOpen, StatusWon or StatusLost (or "deleted").
	Status              string
	OwnerID, PersonID   string
	PipelineID, StageID string
}

// dealJSON reads a deal as GET /api/v2/deals/{id} answers it (owner_id,
// person_id) and as the search does (owner {id}, person {id}, stage {id}).
type dealJSON struct {
	ID         ID               `json:"id"`
	Title      string           `json:"title"`
	Status     string           `json:"status"`
	OwnerID    ID               `json:"owner_id"`
	PersonID   ID               `json:"person_id"`
	PipelineID ID               `json:"pipeline_id"`
	StageID    ID               `json:"stage_id"`
	Owner      *struct{ ID ID } `json:"owner"`
	Person     *struct{ ID ID } `json:"person"`
	Stage      *struct{ ID ID } `json:"stage"`
}

func (j dealJSON) deal() Deal {
	d := Deal{ID: string(j.ID), Title: j.Title, Status: j.Status, OwnerID: string(j.OwnerID),
		PersonID: string(j.PersonID), PipelineID: string(j.PipelineID), StageID: string(j.StageID)}
	if d.OwnerID == "" && j.Owner != nil {
		d.OwnerID = string(j.Owner.ID)
	}
	if d.PersonID == "" && j.Person != nil {
		d.PersonID = string(j.Person.ID)
	}
	if d.StageID == "" && j.Stage != nil {
		d.StageID = string(j.Stage.ID)
	}
	return d
}

// NewDeal is a deal to create.
type NewDeal struct {
	Title string
	// PipelineID and StageID place the deal ("" the default pipeline, its
	// first stage).
	PipelineID, StageID string
	// Status is "" (open), StatusWon or StatusLost.
	Status            string
	OwnerID, PersonID string
}

// AddDeal creates a deal (POST /api/v2/deals {title, owner_id, person_id,
// pipeline_id, stage_id, status}) and returns its id. Source:
// developers.pipedrive.com docs/api/v2/Deals#addDeal.
func (c *Client) AddDeal(ctx context.Context, n NewDeal) (string, error) {
	r := request{method: http.MethodPost, path: "/api/v2/deals"}
	body := map[string]any{"title": n.Title}
	for field, v := range map[string]string{"owner_id": n.OwnerID, "person_id": n.PersonID,
		"pipeline_id": n.PipelineID, "stage_id": n.StageID} {
		if v == "" {
			continue
		}
		id, err := num(r.op(), field, v)
		if err != nil {
			return "", err
		}
		body[field] = id
	}
	if n.Status != "" {
		body["status"] = n.Status
	}
	r.body = body
	return c.create(ctx, r)
}

// GetDeal returns one deal (GET /api/v2/deals/{id}). A missing deal is an
// error matching ErrNotFound. Source: developers.pipedrive.com
// docs/api/v2/Deals#getDeal.
func (c *Client) GetDeal(ctx context.Context, id string) (Deal, error) {
	const op = "GET /api/v2/deals/{id}"
	p, err := idPath(op, id)
	if err != nil {
		return Deal{}, err
	}
	a, err := c.call(ctx, request{method: http.MethodGet, path: "/api/v2/deals/" + p})
	if err != nil {
		return Deal{}, err
	}
	var j dealJSON
	if err := decode(op, a.Data, &j); err != nil {
		return Deal{}, err
	}
	return j.deal(), nil
}

// SetDealOwner makes userID the deal's owner (PATCH /api/v2/deals/{id}
// {owner_id}). Source: developers.pipedrive.com docs/api/v2/Deals#updateDeal.
func (c *Client) SetDealOwner(ctx context.Context, dealID, userID string) error {
	return c.setOwner(ctx, "/api/v2/deals/", dealID, userID)
}

// SearchDealsByTitle returns the deals whose title matches term
// (GET /api/v2/deals/search?term=&fields=title&exact_match=false, its
// first searchPages pages): a full-text search, so callers judge each
// title themselves.
// Source: developers.pipedrive.com docs/api/v2/Deals#searchDeals.
func (c *Client) SearchDealsByTitle(ctx context.Context, term string) ([]Deal, error) {
	const op = "GET /api/v2/deals/search"
	if len([]rune(term)) < 2 {
		return nil, &Error{Op: op, Err: jsonError("the search term needs 2 characters at least"), local: true}
	}
	q := url.Values{"term": {term}, "fields": {"title"}, "exact_match": {"false"}}
	var out []Deal
	err := c.listV2(ctx, "/api/v2/deals/search", q, searchPages, func(raw json.RawMessage) error {
		var page searchItems[dealJSON]
		if err := decode(op, raw, &page); err != nil {
			return err
		}
		for _, it := range page.Items {
			if it.Item.ID != "" {
				out = append(out, it.Item.deal())
			}
		}
		return nil
	})
	return out, err
}

// RecentDeals returns the newest deals, at most limit (≤ PageLimit), newest
// first (GET /api/v2/deals?sort_by=id&sort_direction=desc, one page; every
// deal not deleted, whatever its status). Unlike the search it does not
// wait for an index. Source: developers.pipedrive.com
// docs/api/v2/Deals#getDeals.
func (c *Client) RecentDeals(ctx context.Context, limit int) ([]Deal, error) {
	const op = "GET /api/v2/deals"
	limit = min(max(limit, 1), PageLimit)
	q := url.Values{"sort_by": {"id"}, "sort_direction": {"desc"}, "limit": {strconv.Itoa(limit)}}
	a, err := c.call(ctx, request{method: http.MethodGet, path: "/api/v2/deals", query: q})
	if err != nil {
		return nil, err
	}
	var js []dealJSON
	if err := decode(op, a.Data, &js); err != nil {
		return nil, err
	}
	out := make([]Deal, 0, len(js))
	for _, j := range js {
		if j.ID != "" {
			out = append(out, j.deal())
		}
	}
	return out, nil
}
