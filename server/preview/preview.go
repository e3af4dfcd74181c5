// Package preview answers what proposed settings would change (SPEC §12),
// changing nothing: the proposal is saved in a transaction that is rolled
// back, and routing's own rules are applied before and after the save.
package preview

import (
	"context"
	"errors"

	"github.com/switchboardhq/switchboard/ent"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/routing"
	"github.com/switchboardhq/switchboard/server/settings"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/validate"
)

const (
	defaultChats = 200
	maxChats     = 1000
	defaultNext  = 10
	maxNext      = 100
)

// Service implements SupervisionService's PreviewSettings.
type Service struct{ st *store.Store }

// NewService returns the handler of PreviewSettings.
func NewService(st *store.Store) *Service { return &Service{st: st} }

// Rules are the request checks of PreviewSettings.
func Rules(r validate.Rules) {
	validate.Add(r, func(m *pb.PreviewSettingsRequest, v *errs.Violations) {
		if m.Settings == nil {
			v.Add("settings", "the proposed settings are required")
		}
		validate.PageSize(v, "recent_chats", m.RecentChats, maxChats)
		validate.PageSize(v, "next_clients", m.NextClients, maxNext)
	})
}

// PreviewSettings answers what the proposal would change.
func (s *Service) PreviewSettings(ctx context.Context, req *pb.PreviewSettingsRequest) (*pb.PreviewSettingsResponse, error) {
	n, k := int(req.RecentChats), int(req.NextClients)
	if n == 0 {
		n = defaultChats
	}
	if k == 0 {
		k = defaultNext
	}
	return Preview(ctx, s.st, req.Settings, n, k)
}

// errRollBack ends the preview's transaction without keeping anything.
var errRollBack = errors.New("preview: roll back")

// Preview saves proposed in a transaction it rolls back, and compares what
// the rules say of the n most recent chats and the next k new clients of
// each channel before and after. The proposal is checked as a save checks
// it.
func Preview(ctx context.Context, st *store.Store, proposed *pb.IntegrationSettings, n, k int) (*pb.PreviewSettingsResponse, error) {
	var out *pb.PreviewSettingsResponse
	err := st.Tx(ctx, func(tx *ent.Tx) error {
		c := tx.Client()
		chats, err := routing.RecentChats(ctx, c, n)
		if err != nil {
			return err
		}
		before, err := routing.Look(ctx, c, chats, k)
		if err != nil {
			return err
		}
		doc, err := settings.Load(ctx, c)
		if err != nil {
			return err
		}
		saved, err := settings.SaveIn(ctx, tx, proposed)
		if err != nil {
			return err
		}
		after, err := routing.Look(ctx, c, chats, k)
		if err != nil {
			return err
		}
		names, err := settings.Names(ctx, c)
		if err != nil {
			return err
		}
		out = routing.Compare(before, after)
		out.Changes = settings.AccessChanges(doc, saved, names)
		return errRollBack
	})
	if errors.Is(err, errRollBack) {
		return out, nil
	}
	return nil, err
}
