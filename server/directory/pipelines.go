package directory

import (
	"context"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/leadstatus"
	"github.com/switchboardhq/switchboard/ent/pipeline"
	"github.com/switchboardhq/switchboard/ent/stage"
	"github.com/switchboardhq/switchboard/server/store"
)

// Catalog is what a new client can get: pipelines with their stages (in
// Edges.Stages), and lead statuses, each in order.
type Catalog struct {
	Pipelines    []*ent.Pipeline
	LeadStatuses []*ent.LeadStatus
}

// Pipelines reads the account's catalog.
func Pipelines(ctx context.Context, st *store.Store) (Catalog, error) {
	ps, err := st.Ent.Pipeline.Query().
		Order(ent.Asc(pipeline.FieldPosition), ent.Asc(pipeline.FieldID)).
		WithStages(func(q *ent.StageQuery) { q.Order(ent.Asc(stage.FieldPosition), ent.Asc(stage.FieldID)) }).
		All(ctx)
	if err != nil {
		return Catalog{}, err
	}
	ls, err := st.Ent.LeadStatus.Query().Order(ent.Asc(leadstatus.FieldPosition), ent.Asc(leadstatus.FieldID)).All(ctx)
	if err != nil {
		return Catalog{}, err
	}
	return Catalog{Pipelines: ps, LeadStatuses: ls}, nil
}

// CreatePipeline adds a pipeline with its stages, after the existing ones,
// and returns it with its stages.
func CreatePipeline(ctx context.Context, st *store.Store, name string, stageNames []string) (*ent.Pipeline, []*ent.Stage, error) {
	if err := editable(ctx, st, "pipelines"); err != nil {
		return nil, nil, err
	}
	var p *ent.Pipeline
	var stages []*ent.Stage
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.Pipeline.Query().Count(ctx)
		if err != nil {
			return err
		}
		p, err = tx.Pipeline.Create().SetName(name).SetPosition(n).Save(ctx)
		if err != nil {
			return err
		}
		builders := make([]*ent.StageCreate, len(stageNames))
		for i, s := range stageNames {
			builders[i] = tx.Stage.Create().SetPipelineID(p.ID).SetName(s).SetPosition(i)
		}
		stages, err = tx.Stage.CreateBulk(builders...).Save(ctx)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return p, stages, nil
}

// CreateLeadStatus adds a lead status after the existing ones.
func CreateLeadStatus(ctx context.Context, st *store.Store, name string) (*ent.LeadStatus, error) {
	if err := editable(ctx, st, "lead statuses"); err != nil {
		return nil, err
	}
	var l *ent.LeadStatus
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.LeadStatus.Query().Count(ctx)
		if err != nil {
			return err
		}
		l, err = tx.LeadStatus.Create().SetName(name).SetPosition(n).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}
