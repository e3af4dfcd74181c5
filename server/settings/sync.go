package settings

import (
	"context"
	"strconv"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/convert"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/outbox"
)

// kinds names the outbox's CRM jobs as the API does.
var kinds = map[string]string{
	"crm_new_client":  "new client",
	"crm_responsible": "responsible",
	"crm_chat_flush":  "chat messages",
	"crm_chat_log":    "chat log",
}

// GetCrmSyncState reports the account's writes to its CRM.
func (s *Service) GetCrmSyncState(ctx context.Context, req *pb.GetCrmSyncStateRequest) (*pb.GetCrmSyncStateResponse, error) {
	if s.crm.Outbox == nil {
		return nil, errs.New(errs.ErrUnavailable, "this server delivers no CRM writes")
	}
	size := int(req.PageSize)
	if size == 0 {
		size = 100
	}
	st, err := s.crm.Outbox.Sync(ctx, size)
	if err != nil {
		return nil, err
	}
	out := &pb.GetCrmSyncStateResponse{Pending: syncItems(st.Pending), Failed: syncItems(st.Failed)}
	if !st.LastSuccess.IsZero() {
		out.LastSuccessTime = convert.Time(st.LastSuccess)
	}
	return out, nil
}

func syncItems(in []outbox.Item) []*pb.CrmSyncItem {
	out := make([]*pb.CrmSyncItem, 0, len(in))
	for _, it := range in {
		kind := kinds[it.Kind]
		if kind == "" {
			kind = it.Kind
		}
		out = append(out, &pb.CrmSyncItem{Id: strconv.FormatInt(it.ID, 10), Kind: kind, Attempt: int32(it.Attempt),
			Error: it.Error, Time: convert.Time(it.At)})
	}
	return out
}

// RetryCrmSync sends a failed write to the CRM again.
func (s *Service) RetryCrmSync(ctx context.Context, req *pb.RetryCrmSyncRequest) (*pb.RetryCrmSyncResponse, error) {
	if s.crm.Outbox == nil {
		return nil, errs.New(errs.ErrUnavailable, "this server delivers no CRM writes")
	}
	if err := s.crm.Outbox.Retry(ctx, ids.Value(req.ItemId)); err != nil {
		return nil, err
	}
	return &pb.RetryCrmSyncResponse{}, nil
}

// ListClientFeed lists a client's chat log as the CRM's feed holds it.
func (s *Service) ListClientFeed(ctx context.Context, req *pb.ListClientFeedRequest) (*pb.ListClientFeedResponse, error) {
	size := int(req.PageSize)
	if size == 0 {
		size = 50
	}
	var before time.Time
	if req.Before != nil {
		before = req.Before.AsTime()
	}
	entries, next, err := crmsync.Feed(ctx, s.st.Ent, ids.Value(req.ClientId), before, size)
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
