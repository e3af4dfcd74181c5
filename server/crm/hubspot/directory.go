package hubspot

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// Owner is a HubSpot owner (a user who can own records): an employee on
// Switchboard's side. ID is the owner id records carry in
// hubspot_owner_id (not the user id).
type Owner struct {
	ID, Email, FirstName, LastName string
	// Archived is true for a deactivated or removed user.
	Archived bool
}

// FullName is "FirstName LastName", or the email when both are empty.
func (o Owner) FullName() string {
	if n := strings.TrimSpace(o.FirstName + " " + o.LastName); n != "" {
		return n
	}
	return o.Email
}

// ownersPageSize is the page asked of the owners list (at most 500).
const ownersPageSize = 100

// ListOwners returns the account's owners, active ones then archived
// ones (the list answers one kind a call: archived=false, then
// archived=true), each kind every page (limit, after from
// paging.next.after). Source: developers.hubspot.com
// docs/api/crm/owners (GET /crm/v3/owners).
func (c *Client) ListOwners(ctx context.Context) ([]Owner, error) {
	var out []Owner
	for _, archived := range []bool{false, true} {
		after := ""
		for range maxPages {
			q := url.Values{"limit": {strconv.Itoa(ownersPageSize)}, "archived": {strconv.FormatBool(archived)}}
			if after != "" {
				q.Set("after", after)
			}
			var page struct {
				Results []struct {
					ID        json.RawMessage `json:"id"`
					Email     string          `json:"email"`
					FirstName string          `json:"firstName"`
					LastName  string          `json:"lastName"`
					Archived  bool            `json:"archived"`
				} `json:"results"`
				Paging *paging `json:"paging"`
			}
			if err := c.call(ctx, "GET", "/crm/v3/owners", q, nil, &page, false); err != nil {
				return nil, err
			}
			for _, o := range page.Results {
				id := strings.Trim(string(o.ID), `" `)
				if id == "" || id == "null" {
					continue
				}
				out = append(out, Owner{ID: id, Email: o.Email, FirstName: o.FirstName, LastName: o.LastName, Archived: archived || o.Archived})
			}
			after = page.Paging.after()
			if after == "" || len(page.Results) == 0 {
				break
			}
		}
	}
	// An owner listed both ways (archived meanwhile) counts as archived.
	seen := map[string]int{}
	var uniq []Owner
	for _, o := range out {
		if i, ok := seen[o.ID]; ok {
			uniq[i].Archived = uniq[i].Archived || o.Archived
			continue
		}
		seen[o.ID] = len(uniq)
		uniq = append(uniq, o)
	}
	return uniq, nil
}

// DefaultPipelineID is the id of every account's first deal pipeline,
// "Sales Pipeline" unless renamed.
const DefaultPipelineID = "default"

// Pipeline is a deal pipeline with its stages in display order.
type Pipeline struct {
	ID, Label    string
	DisplayOrder int
	Stages       []Stage
}

// Stage is a deal stage. A closed stage is won when its probability is 1
// and lost when it is 0 (HubSpot sends both as strings: isClosed "true",
// probability "1.0" or "0.0").
type Stage struct {
	ID, Label    string
	DisplayOrder int
	Closed       bool
	Probability  float64
}

// Won reports whether a deal in the stage is closed won.
func (s Stage) Won() bool { return s.Closed && s.Probability >= 1 }

// Lost reports whether a deal in the stage is closed lost.
func (s Stage) Lost() bool { return s.Closed && s.Probability < 1 }

// ListPipelines returns the deal pipelines that are not archived, in
// display order, each with its stages that are not archived in display
// order: GET /crm/v3/pipelines/deals, which answers {results:[{id, label,
// displayOrder, archived, stages:[{id, label, displayOrder, archived,
// metadata:{isClosed, probability}}]}]}. Source: developers.hubspot.com
// docs/api/crm/pipelines.
func (c *Client) ListPipelines(ctx context.Context) ([]Pipeline, error) {
	var page struct {
		Results []struct {
			ID           string `json:"id"`
			Label        string `json:"label"`
			DisplayOrder int    `json:"displayOrder"`
			Archived     bool   `json:"archived"`
			Stages       []struct {
				ID           string `json:"id"`
				Label        string `json:"label"`
				DisplayOrder int    `json:"displayOrder"`
				Archived     bool   `json:"archived"`
				Metadata     struct {
					IsClosed    crmhttp.String `json:"isClosed"`
					Probability crmhttp.String `json:"probability"`
				} `json:"metadata"`
			} `json:"stages"`
		} `json:"results"`
	}
	if err := c.call(ctx, "GET", "/crm/v3/pipelines/deals", nil, nil, &page, false); err != nil {
		return nil, err
	}
	var out []Pipeline
	for _, p := range page.Results {
		if p.Archived || p.ID == "" {
			continue
		}
		pl := Pipeline{ID: p.ID, Label: p.Label, DisplayOrder: p.DisplayOrder}
		for _, s := range p.Stages {
			if s.Archived || s.ID == "" {
				continue
			}
			prob, _ := strconv.ParseFloat(strings.TrimSpace(string(s.Metadata.Probability)), 64)
			pl.Stages = append(pl.Stages, Stage{ID: s.ID, Label: s.Label, DisplayOrder: s.DisplayOrder,
				Closed: strings.EqualFold(string(s.Metadata.IsClosed), "true"), Probability: prob})
		}
		sort.SliceStable(pl.Stages, func(i, j int) bool { return pl.Stages[i].DisplayOrder < pl.Stages[j].DisplayOrder })
		out = append(out, pl)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DisplayOrder < out[j].DisplayOrder })
	return out, nil
}

// PortalID reads the account's portal id (GET /account-info/v3/details):
// api.hubapi.com serves every portal, so the id is what tells two apart.
// Source: developers.hubspot.com docs/api-reference/latest/account/
// account-information/get-account-details.
func (c *Client) PortalID(ctx context.Context) (string, error) {
	var out struct {
		PortalID json.Number `json:"portalId"`
	}
	if err := c.call(ctx, "GET", "/account-info/v3/details", nil, nil, &out, false); err != nil {
		return "", err
	}
	return out.PortalID.String(), nil
}
