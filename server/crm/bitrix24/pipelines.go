package bitrix24

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// DealEntityTypeID is the deal's entityTypeId in the universal CRM methods.
const DealEntityTypeID = 2

// Stage semantics (SEMANTICS of crm.status.list, STAGE_SEMANTIC_ID of a
// deal): success, failure, or in progress (sent empty or "P").
const (
	SemanticsWon  = "S"
	SemanticsLost = "F"
)

// Category is a deal pipeline ("deal category"). The default one has id 0.
type Category struct {
	ID      int64
	Name    string
	Sort    int64
	Default bool
	Stages  []Stage
}

// Stage is one stage of a category.
type Stage struct {
	// StatusID is the stage's id in deals' STAGE_ID: "NEW", "WON" in the
	// default category, "C{n}:NEW" in category n.
	StatusID string
	Name     string
	Sort     int64
	// Semantics is SemanticsWon, SemanticsLost, or "" for a working stage.
	Semantics string
}

// StageEntityID is the ENTITY_ID of a category's stages in crm.status.list:
// "DEAL_STAGE" for the default category, "DEAL_STAGE_{id}" for the others.
// Source: apidocs.bitrix24.com
// api-reference/crm/status/crm-status-entity-types.html.
func StageEntityID(categoryID int64) string {
	if categoryID == 0 {
		return "DEAL_STAGE"
	}
	return "DEAL_STAGE_" + strconv.FormatInt(categoryID, 10)
}

type categoryJSON struct {
	ID        crmhttp.Int    `json:"id"`
	Name      string         `json:"name"`
	Sort      crmhttp.Int    `json:"sort"`
	IsDefault crmhttp.String `json:"isDefault"`
}

type stageJSON struct {
	StatusID  string         `json:"STATUS_ID"`
	Name      string         `json:"NAME"`
	Sort      crmhttp.Int    `json:"SORT"`
	Semantics crmhttp.String `json:"SEMANTICS"`
}

// DefaultCategoryName names the default pipeline when the portal's list
// leaves it out.
const DefaultCategoryName = "General"

// ListCategories returns the deal pipelines sorted by sort then id, each
// with its stages sorted by SORT: crm.category.list {entityTypeId: 2}
// (result.categories[]), then crm.status.list {filter: {ENTITY_ID}} for
// every category in batches of up to 50 commands. The default pipeline,
// id 0, is always there, even when the list leaves it out. Sources:
// apidocs.bitrix24.com api-reference/crm/universal/category/
// crm-category-list.html and api-reference/crm/status/crm-status-list.html.
func (c *Client) ListCategories(ctx context.Context) ([]Category, error) {
	var cats []Category
	err := c.list(ctx, "crm.category.list", map[string]any{"entityTypeId": DealEntityTypeID}, func(raw json.RawMessage) (int, error) {
		var page struct {
			Categories []categoryJSON `json:"categories"`
		}
		if string(raw) != "[]" {
			if err := json.Unmarshal(raw, &page); err != nil {
				return 0, fmt.Errorf("decode result: %w", err)
			}
		}
		for _, x := range page.Categories {
			cats = append(cats, Category{ID: int64(x.ID), Name: x.Name, Sort: int64(x.Sort), Default: x.IsDefault == "Y"})
		}
		return len(page.Categories), nil
	})
	if err != nil {
		return nil, err
	}
	hasDefault, hasZero := false, false
	for _, x := range cats {
		hasDefault = hasDefault || x.Default
		hasZero = hasZero || x.ID == 0
	}
	if !hasZero {
		cats = append(cats, Category{ID: 0, Name: DefaultCategoryName, Default: !hasDefault})
	}
	if !hasDefault {
		for i := range cats {
			cats[i].Default = cats[i].ID == 0
		}
	}
	sort.SliceStable(cats, func(i, j int) bool {
		if cats[i].Sort != cats[j].Sort {
			return cats[i].Sort < cats[j].Sort
		}
		return cats[i].ID < cats[j].ID
	})
	for from := 0; from < len(cats); from += MaxBatch {
		to := min(from+MaxBatch, len(cats))
		if err := c.readStages(ctx, cats[from:to]); err != nil {
			return nil, err
		}
	}
	return cats, nil
}

// readStages fills the stages of up to MaxBatch categories with one batch,
// and reads on with single calls the categories with more than a page.
func (c *Client) readStages(ctx context.Context, cats []Category) error {
	cmds := make([]Command, len(cats))
	for i, x := range cats {
		cmds[i] = Command{Key: fmt.Sprintf("s%d", i), Method: "crm.status.list",
			Params: map[string]any{"filter": map[string]any{"ENTITY_ID": StageEntityID(x.ID)}, "order": map[string]any{"SORT": "ASC"}}}
	}
	b, err := c.Batch(ctx, false, cmds)
	if err != nil {
		return err
	}
	if err := b.Err(cmds); err != nil {
		return err
	}
	for i := range cats {
		key := cmds[i].Key
		page, err := decodeList[stageJSON](b.Results[key])
		if err != nil {
			return &Error{Method: "crm.status.list", Command: key, Err: err}
		}
		stages := page
		if next, ok := b.Next[key]; ok && next > 0 {
			params := map[string]any{"filter": map[string]any{"ENTITY_ID": StageEntityID(cats[i].ID)}, "order": map[string]any{"SORT": "ASC"}}
			start := next
			for range maxPages {
				p := map[string]any{"start": start}
				for k, v := range params {
					p[k] = v
				}
				a, err := c.Call(ctx, "crm.status.list", p)
				if err != nil {
					return err
				}
				more, err := decodeList[stageJSON](a.Result)
				if err != nil {
					return &Error{Method: "crm.status.list", Status: 200, Err: err}
				}
				stages = append(stages, more...)
				if a.Next <= start || len(more) == 0 {
					break
				}
				start = a.Next
			}
		}
		sort.SliceStable(stages, func(a, b int) bool { return stages[a].Sort < stages[b].Sort })
		for _, s := range stages {
			sem := string(s.Semantics)
			if sem != SemanticsWon && sem != SemanticsLost {
				sem = ""
			}
			cats[i].Stages = append(cats[i].Stages, Stage{StatusID: s.StatusID, Name: s.Name, Sort: int64(s.Sort), Semantics: sem})
		}
	}
	return nil
}
