package bitrix24

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// Deal is a CRM deal with the parts Switchboard reads.
type Deal struct {
	ID         string
	Title      string
	CategoryID string
	StageID    string
	// StageSemantic is SemanticsWon, SemanticsLost, or "P" (in progress).
	StageSemantic string
	AssignedBy    string
	// ContactID is the deal's main contact ("" none).
	ContactID string
}

// Won reports whether the deal is in a success stage.
func (d Deal) Won() bool { return d.StageSemantic == SemanticsWon }

// Lost reports whether the deal is in a failure stage.
func (d Deal) Lost() bool { return d.StageSemantic == SemanticsLost }

type dealJSON struct {
	ID            crmhttp.String `json:"ID"`
	Title         string         `json:"TITLE"`
	CategoryID    crmhttp.String `json:"CATEGORY_ID"`
	StageID       string         `json:"STAGE_ID"`
	StageSemantic string         `json:"STAGE_SEMANTIC_ID"`
	AssignedBy    crmhttp.String `json:"ASSIGNED_BY_ID"`
	ContactID     crmhttp.String `json:"CONTACT_ID"`
}

func (j dealJSON) deal() Deal {
	d := Deal{ID: string(j.ID), Title: j.Title, CategoryID: string(j.CategoryID), StageID: j.StageID,
		StageSemantic: j.StageSemantic, AssignedBy: string(j.AssignedBy), ContactID: string(j.ContactID)}
	if d.ContactID == "0" {
		d.ContactID = ""
	}
	return d
}

// GetDeal returns one deal (crm.deal.get {id}). A missing deal is an
// error matching ErrNotFound. Source: apidocs.bitrix24.com
// api-reference/crm/deals/crm-deal-get.html.
func (c *Client) GetDeal(ctx context.Context, id string) (Deal, error) {
	a, err := c.Call(ctx, "crm.deal.get", map[string]any{"id": id})
	if err != nil {
		return Deal{}, err
	}
	var j dealJSON
	if err := json.Unmarshal(a.Result, &j); err != nil {
		return Deal{}, &Error{Method: "crm.deal.get", Status: http.StatusOK, Err: fmt.Errorf("decode result: %w", err)}
	}
	return j.deal(), nil
}

// NewDeal is a deal to create.
type NewDeal struct {
	Title string
	// CategoryID is the pipeline ("" or "0": the default one); StageID
	// a stage of it ("" its first stage).
	CategoryID, StageID string
	AssignedBy          string
	// ContactIDs link contacts (a batch may pass a "$result[key]"
	// reference).
	ContactIDs []string
}

func (n NewDeal) fields() map[string]any {
	f := map[string]any{"TITLE": n.Title}
	if n.CategoryID != "" {
		f["CATEGORY_ID"] = n.CategoryID
	}
	if n.StageID != "" {
		f["STAGE_ID"] = n.StageID
	}
	if n.AssignedBy != "" {
		f["ASSIGNED_BY_ID"] = n.AssignedBy
	}
	if len(n.ContactIDs) > 0 {
		ids := make([]any, len(n.ContactIDs))
		for i, id := range n.ContactIDs {
			ids[i] = id
		}
		f["CONTACT_IDS"] = ids
	}
	return f
}

// AddDeal creates a deal (crm.deal.add {fields}) and returns its id.
// Source: apidocs.bitrix24.com api-reference/crm/deals/crm-deal-add.html.
func (c *Client) AddDeal(ctx context.Context, n NewDeal) (string, error) {
	a, err := c.Call(ctx, "crm.deal.add", map[string]any{"fields": n.fields()})
	if err != nil {
		return "", err
	}
	return idResult("crm.deal.add", a.Result)
}

// AddContactWithDeal creates a contact and a deal linked to it in one
// halting batch (crm.contact.add, then crm.deal.add with CONTACT_IDS
// ["$result[contact]"]) and returns both ids. When the deal fails after
// the contact was made, the error is the deal's and contactID is set.
func (c *Client) AddContactWithDeal(ctx context.Context, ct NewContact, d NewDeal) (contactID, dealID string, err error) {
	d.ContactIDs = []string{"$result[contact]"}
	cmds := []Command{
		{Key: "contact", Method: "crm.contact.add", Params: map[string]any{"fields": ct.fields()}},
		{Key: "deal", Method: "crm.deal.add", Params: map[string]any{"fields": d.fields()}},
	}
	b, err := c.Batch(ctx, true, cmds)
	if err != nil {
		return "", "", err
	}
	if raw, ok := b.Results["contact"]; ok {
		contactID, _ = idResult("crm.contact.add", raw)
	}
	if err := b.Err(cmds); err != nil {
		return contactID, "", err
	}
	if contactID == "" {
		return "", "", &Error{Method: "crm.contact.add", Command: "contact", Status: http.StatusOK, Err: fmt.Errorf("no id in the answer")}
	}
	dealID, err = idResult("crm.deal.add", b.Results["deal"])
	return contactID, dealID, err
}

// FindDeals returns the deals whose TITLE contains text (crm.deal.list
// {filter: {"%TITLE": text}}, every page), ascending by ID, with ID,
// TITLE, CONTACT_ID, CATEGORY_ID, STAGE_ID, STAGE_SEMANTIC_ID and
// ASSIGNED_BY_ID. Source: apidocs.bitrix24.com
// api-reference/crm/deals/crm-deal-list.html.
func (c *Client) FindDeals(ctx context.Context, text string) ([]Deal, error) {
	if text == "" {
		return nil, &Error{Method: "crm.deal.list", Err: fmt.Errorf("empty text"), local: true}
	}
	params := map[string]any{
		"filter": map[string]any{"%TITLE": text},
		"select": []string{"ID", "TITLE", "CONTACT_ID", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "ASSIGNED_BY_ID"},
		"order":  map[string]any{"ID": "ASC"},
	}
	var out []Deal
	err := c.list(ctx, "crm.deal.list", params, func(raw json.RawMessage) (int, error) {
		page, err := decodeList[dealJSON](raw)
		for _, j := range page {
			out = append(out, j.deal())
		}
		return len(page), err
	})
	return out, err
}

// SetDealAssigned makes userID the deal's responsible
// (crm.deal.update {id, fields: {ASSIGNED_BY_ID}}).
func (c *Client) SetDealAssigned(ctx context.Context, dealID, userID string) error {
	_, err := c.Call(ctx, "crm.deal.update", updateAssigned(dealID, userID))
	return err
}
