package settings

import (
	"context"
	"strconv"
	"strings"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/outbox"
	"github.com/switchboardhq/switchboard/server/store"
)

// Tester sends and removes the integration's test message; routing
// provides it.
type Tester interface {
	SendTestMessage(ctx context.Context, text string) (*pb.SendTestMessageResponse, error)
	RemoveTestClient(ctx context.Context) (bool, error)
}

// Service implements IntegrationService.
type Service struct {
	st     *store.Store
	tester Tester
	crm    CRMOptions
	// saved runs after settings were saved (nil: nothing): someone may
	// have become available for waiting clients (SPEC §11).
	saved func(context.Context)
}

// OnSaved makes the service call f after every successful save (not a
// validate_only one). Call it before serving.
func (s *Service) OnSaved(f func(context.Context)) { s.saved = f }

// NewService returns the IntegrationService handler.
func NewService(st *store.Store, tester Tester, crmOpts CRMOptions) *Service {
	return &Service{st: st, tester: tester, crm: crmOpts}
}

// GetIntegrationSettings returns the current settings.
func (s *Service) GetIntegrationSettings(ctx context.Context, _ *pb.GetIntegrationSettingsRequest) (*pb.GetIntegrationSettingsResponse, error) {
	out, err := Get(ctx, s.st)
	if err != nil {
		return nil, err
	}
	return &pb.GetIntegrationSettingsResponse{Settings: out}, nil
}

// UpdateIntegrationSettings saves the settings as a whole, or with
// validate_only checks them as saving would and keeps nothing.
func (s *Service) UpdateIntegrationSettings(ctx context.Context, req *pb.UpdateIntegrationSettingsRequest) (*pb.UpdateIntegrationSettingsResponse, error) {
	out, err := Save(ctx, s.st, req.Settings, req.ValidateOnly)
	if err != nil {
		return nil, err
	}
	if s.saved != nil && !req.ValidateOnly {
		s.saved(ctx)
	}
	return &pb.UpdateIntegrationSettingsResponse{Settings: out}, nil
}

// DeleteIntegration unlinks the CRM and resets every routing setting.
func (s *Service) DeleteIntegration(ctx context.Context, req *pb.DeleteIntegrationRequest) (*pb.DeleteIntegrationResponse, error) {
	out, err := Delete(ctx, s.st, s.crm, req.Revision)
	if err != nil {
		return nil, err
	}
	return &pb.DeleteIntegrationResponse{Settings: out}, nil
}

// RefreshFromCrm re-reads the directory from the CRM and reports what
// changed, or what the store holds.
func (s *Service) RefreshFromCrm(ctx context.Context, _ *pb.RefreshFromCrmRequest) (*pb.RefreshFromCrmResponse, error) {
	return Refresh(ctx, s.st, s.crm)
}

// ConnectCrm links the account to an external CRM (see the contract).
func (s *Service) ConnectCrm(ctx context.Context, req *pb.ConnectCrmRequest) (*pb.ConnectCrmResponse, error) {
	return Connect(ctx, s.st, s.crm, Connection{
		Kind:          crm.Kind(strings.TrimPrefix(req.CrmKind.String(), "CRM_KIND_")),
		BaseURL:       req.BaseUrl,
		Token:         req.Token,
		WebhookSecret: req.WebhookSecret,
	})
}

// GetCrmSyncState reports the account's writes to its CRM.
func (s *Service) GetCrmSyncState(ctx context.Context, req *pb.GetCrmSyncStateRequest) (*pb.GetCrmSyncStateResponse, error) {
	st, err := SyncState(ctx, s.crm.Outbox, int(req.PageSize))
	if err != nil {
		return nil, err
	}
	out := &pb.GetCrmSyncStateResponse{Pending: syncItems(st.Pending), Failed: syncItems(st.Failed)}
	if !st.LastSuccess.IsZero() {
		out.LastSuccessTime = convert.Time(st.LastSuccess)
	}
	b, err := CRMBudget(ctx, s.st, s.crm.Options)
	if err != nil {
		return nil, err
	}
	if b != nil {
		out.Budget = &pb.CrmBudget{Used: int32(b.Used), Limit: int32(b.Limit), Paused: b.Paused}
		if !b.Resets.IsZero() {
			out.Budget.ResetsTime = convert.Time(b.Resets)
		}
	}
	return out, nil
}

func syncItems(in []outbox.Item) []*pb.CrmSyncItem {
	out := make([]*pb.CrmSyncItem, 0, len(in))
	for _, it := range in {
		out = append(out, &pb.CrmSyncItem{Id: strconv.FormatInt(it.ID, 10), Kind: JobKind(it.Kind), Attempt: int32(it.Attempt),
			Error: it.Error, Time: convert.Time(it.At)})
	}
	return out
}

// RetryCrmSync sends a failed write to the CRM again.
func (s *Service) RetryCrmSync(ctx context.Context, req *pb.RetryCrmSyncRequest) (*pb.RetryCrmSyncResponse, error) {
	if err := RetrySync(ctx, s.crm.Outbox, req.ItemId); err != nil {
		return nil, err
	}
	return &pb.RetryCrmSyncResponse{}, nil
}

// ListClientFeed lists a client's chat log as the CRM's feed holds it.
func (s *Service) ListClientFeed(ctx context.Context, req *pb.ListClientFeedRequest) (*pb.ListClientFeedResponse, error) {
	var before time.Time
	if req.Before != nil {
		before = req.Before.AsTime()
	}
	entries, next, err := ClientFeed(ctx, s.st, FeedPage{ClientID: req.ClientId, Before: before, Size: int(req.PageSize)})
	if err != nil {
		return nil, err
	}
	out := &pb.ListClientFeedResponse{}
	for _, e := range entries {
		out.Entries = append(out.Entries, &pb.FeedEntry{ChatId: ids.Format(e.ChatID), ChannelId: ids.Format(e.ChannelID),
			ChannelName: e.ChannelName, StartTime: convert.Time(e.Start), EndTime: convert.Time(e.End), Text: e.Text,
			MessageCount: int32(e.Count)})
	}
	if !next.IsZero() {
		out.NextBefore = convert.Time(next)
	}
	return out, nil
}

// SendTestMessage routes a message from the built-in test client.
func (s *Service) SendTestMessage(ctx context.Context, req *pb.SendTestMessageRequest) (*pb.SendTestMessageResponse, error) {
	if s.tester == nil {
		return nil, errs.New(errs.ErrUnimplemented, "test messages are not available")
	}
	return s.tester.SendTestMessage(ctx, req.Text)
}

// RemoveTestClient removes the test client and everything it caused.
func (s *Service) RemoveTestClient(ctx context.Context, _ *pb.RemoveTestClientRequest) (*pb.RemoveTestClientResponse, error) {
	if s.tester == nil {
		return nil, errs.New(errs.ErrUnimplemented, "test messages are not available")
	}
	removed, err := s.tester.RemoveTestClient(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.RemoveTestClientResponse{Removed: removed}, nil
}
