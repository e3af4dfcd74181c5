package amocrm

import (
	"context"
	"net/http"
	"net/url"
	"sort"
)

// System statuses every pipeline has
// (https://www.amocrm.ru/developers/content/crm_platform/leads_pipelines).
const (
	// StatusWon is the closed-won status id, the same in every pipeline.
	StatusWon int64 = 142
	// StatusLost is the closed-lost status id, the same in every pipeline.
	StatusLost int64 = 143
	// StatusTypeIncoming is the type of a pipeline's "Incoming leads"
	// (unsorted) status; ordinary statuses have type 0.
	StatusTypeIncoming = 1
)

// Pipeline is a sales pipeline with its statuses (stages) ordered by Sort.
type Pipeline struct {
	ID        int64
	Name      string
	Sort      int
	Main      bool
	Archived  bool
	Statuses  []Status
	AccountID int64
}

// Status is one stage of a pipeline.
type Status struct {
	ID         int64
	PipelineID int64
	Name       string
	Sort       int
	// Type is 1 for "Incoming leads", 0 otherwise.
	Type     int
	Color    string
	Editable bool
}

// Won reports whether s is the closed-won status (142).
func (s Status) Won() bool { return s.ID == StatusWon }

// Lost reports whether s is the closed-lost status (143).
func (s Status) Lost() bool { return s.ID == StatusLost }

// Closed reports whether a lead in s is closed (won or lost).
func (s Status) Closed() bool { return s.Won() || s.Lost() }

// Incoming reports whether s is the pipeline's "Incoming leads" status.
func (s Status) Incoming() bool { return s.Type == StatusTypeIncoming }

// FirstWorkingStatus returns the first status by Sort that is neither
// incoming nor closed: where a lead created by Switchboard starts.
func (p Pipeline) FirstWorkingStatus() (Status, bool) {
	for _, s := range p.Statuses {
		if !s.Incoming() && !s.Closed() {
			return s, true
		}
	}
	return Status{}, false
}

type pipelineJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Sort      int    `json:"sort"`
	IsMain    bool   `json:"is_main"`
	IsArchive bool   `json:"is_archive"`
	AccountID int64  `json:"account_id"`
	Embedded  struct {
		Statuses []struct {
			ID         int64  `json:"id"`
			Name       string `json:"name"`
			Sort       int    `json:"sort"`
			IsEditable bool   `json:"is_editable"`
			PipelineID int64  `json:"pipeline_id"`
			Color      string `json:"color"`
			Type       int    `json:"type"`
		} `json:"statuses"`
	} `json:"_embedded"`
}

// ListPipelines returns the account's lead pipelines (at most 50) with
// their statuses, from GET /api/v4/leads/pipelines (one unpaged answer).
// Pipelines and statuses are sorted by Sort.
// Source: https://www.amocrm.ru/developers/content/crm_platform/leads_pipelines
func (c *Client) ListPipelines(ctx context.Context) ([]Pipeline, error) {
	var l halList
	if _, err := c.do(ctx, http.MethodGet, "/api/v4/leads/pipelines", url.Values{}, nil, &l); err != nil {
		return nil, err
	}
	var raw []pipelineJSON
	if b, ok := l.Embedded["pipelines"]; ok {
		if err := jsonUnmarshal(b, &raw); err != nil {
			return nil, &Error{Op: "GET /api/v4/leads/pipelines", Status: 200, Err: err}
		}
	}
	out := make([]Pipeline, 0, len(raw))
	for _, p := range raw {
		pl := Pipeline{ID: p.ID, Name: p.Name, Sort: p.Sort, Main: p.IsMain, Archived: p.IsArchive, AccountID: p.AccountID}
		for _, s := range p.Embedded.Statuses {
			pid := s.PipelineID
			if pid == 0 {
				pid = p.ID
			}
			pl.Statuses = append(pl.Statuses, Status{
				ID: s.ID, PipelineID: pid, Name: s.Name, Sort: s.Sort, Type: s.Type, Color: s.Color, Editable: s.IsEditable,
			})
		}
		sort.SliceStable(pl.Statuses, func(i, j int) bool { return pl.Statuses[i].Sort < pl.Statuses[j].Sort })
		out = append(out, pl)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Sort < out[j].Sort })
	return out, nil
}
