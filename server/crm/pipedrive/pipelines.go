package pipedrive

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
)

// Pipeline is a deal pipeline with its stages in order.
type Pipeline struct {
	ID, Name string
	// Order is order_nr: the pipeline with the lowest is the default one.
	Order  int
	Stages []Stage
}

// Stage is a stage of a pipeline.
type Stage struct {
	ID, PipelineID, Name string
	Order                int
}

type pipelineJSON struct {
	ID        ID     `json:"id"`
	Name      string `json:"name"`
	OrderNr   int    `json:"order_nr"`
	IsDeleted bool   `json:"is_deleted"`
}

type stageJSON struct {
	ID         ID     `json:"id"`
	PipelineID ID     `json:"pipeline_id"`
	Name       string `json:"name"`
	OrderNr    int    `json:"order_nr"`
	IsDeleted  bool   `json:"is_deleted"`
}

// ListPipelines returns the pipelines that are not deleted, by order_nr
// then id, each with its stages by order_nr then id: GET /api/v2/pipelines
// and GET /api/v2/stages (every stage in one list, grouped here), both
// paged by cursor. Sources: developers.pipedrive.com
// docs/api/v2/Pipelines#getPipelines and docs/api/v2/Stages#getStages.
func (c *Client) ListPipelines(ctx context.Context) ([]Pipeline, error) {
	var ps []Pipeline
	err := c.listV2(ctx, "/api/v2/pipelines", nil, maxPages, func(raw json.RawMessage) error {
		var page []pipelineJSON
		if err := decode("GET /api/v2/pipelines", raw, &page); err != nil {
			return err
		}
		for _, j := range page {
			if j.ID != "" && !j.IsDeleted {
				ps = append(ps, Pipeline{ID: string(j.ID), Name: j.Name, Order: j.OrderNr})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	stages, err := c.ListStages(ctx, "")
	if err != nil {
		return nil, err
	}
	byPipeline := map[string][]Stage{}
	for _, s := range stages {
		byPipeline[s.PipelineID] = append(byPipeline[s.PipelineID], s)
	}
	for i := range ps {
		ps[i].Stages = byPipeline[ps[i].ID]
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Order != ps[j].Order {
			return ps[i].Order < ps[j].Order
		}
		return less(ps[i].ID, ps[j].ID)
	})
	return ps, nil
}

// ListStages returns the stages that are not deleted, of one pipeline
// (every pipeline when pipelineID is ""), by order_nr then id
// (GET /api/v2/stages?pipeline_id=, paged by cursor).
func (c *Client) ListStages(ctx context.Context, pipelineID string) ([]Stage, error) {
	q := url.Values{}
	if pipelineID != "" {
		id, err := idPath("GET /api/v2/stages", pipelineID)
		if err != nil {
			return nil, err
		}
		q.Set("pipeline_id", id)
	}
	var out []Stage
	err := c.listV2(ctx, "/api/v2/stages", q, maxPages, func(raw json.RawMessage) error {
		var page []stageJSON
		if err := decode("GET /api/v2/stages", raw, &page); err != nil {
			return err
		}
		for _, j := range page {
			if j.ID != "" && !j.IsDeleted {
				out = append(out, Stage{ID: string(j.ID), PipelineID: string(j.PipelineID), Name: j.Name, Order: j.OrderNr})
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return less(out[i].ID, out[j].ID)
	})
	return out, err
}

// less orders numeric ids by value.
func less(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
