package pdfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Subscription is a webhook (v2) the account POSTs to: events of Entity
// ("deal", "*") and Action ("change", "create", "*"), with HTTP Basic
// credentials User and Password when set. Source: pipedrive.readme.io
// docs/guide-for-webhooks-v2 (POST /v1/webhooks with http_auth_user and
// http_auth_password, version "2.0").
type Subscription struct {
	ID             int64
	URL            string
	Action, Entity string
	User, Password string
}

// Delivery is one webhook POST and how the destination answered.
type Delivery struct {
	URL    string
	Body   []byte
	User   string
	Status int // 0 when no answer came
	Err    error

	password string
}

// Subscribe makes the account POST webhooks to sub.URL (empty Action or
// Entity: "*") and returns the subscription's id.
func (s *Server) Subscribe(sub Subscription) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub.ID = s.id()
	if sub.Action == "" {
		sub.Action = "*"
	}
	if sub.Entity == "" {
		sub.Entity = "*"
	}
	s.subs = append(s.subs, sub)
	return sub.ID
}

// Unsubscribe removes every webhook.
func (s *Server) Unsubscribe() {
	s.mu.Lock()
	s.subs = nil
	s.mu.Unlock()
}

// payloads are the deliveries of action on deal d, with previous the
// fields that changed. Callers hold s.mu.
func (s *Server) payloads(action string, d *Deal, previous map[string]any) []Delivery {
	var out []Delivery
	for _, sub := range s.subs {
		if sub.Action != "*" && sub.Action != action || sub.Entity != "*" && sub.Entity != "deal" {
			continue
		}
		body, _ := json.Marshal(map[string]any{
			"meta": map[string]any{
				"action": action, "entity": "deal", "entity_id": strconv.FormatInt(d.ID, 10),
				"id": fmt.Sprintf("%016x", s.id()), "company_id": "13370001", "user_id": "1",
				"correlation_id": fmt.Sprintf("fake-%d", s.nextID), "is_bulk_edit": false,
				"timestamp": time.Now().UTC().Format(time.RFC3339), "type": "general",
				"version": "2.0", "webhook_id": strconv.FormatInt(sub.ID, 10),
				"webhook_owner_id": "1", "change_source": "app", "attempt": 1,
				"host": s.company + ".pipedrive.com",
			},
			"data": map[string]any{"id": d.ID, "title": d.Title, "status": d.Status, "owner_id": d.OwnerID,
				"person_id": d.PersonID, "pipeline_id": d.PipelineID, "stage_id": d.StageID},
			"previous": previous,
		})
		out = append(out, Delivery{URL: sub.URL, Body: body, User: sub.User, password: sub.Password})
	}
	return out
}

// deliver POSTs each payload and records the outcome. A failed delivery is
// not retried.
func (s *Server) deliver(ctx context.Context, ds []Delivery) error {
	var errs []error
	for i := range ds {
		d := &ds[i]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "Pipedrive Webhooks")
			if d.User != "" || d.password != "" {
				req.SetBasicAuth(d.User, d.password)
			}
			var resp *http.Response
			if resp, err = s.hooks.Do(req); err == nil {
				resp.Body.Close()
				d.Status = resp.StatusCode
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					err = fmt.Errorf("answered %d", resp.StatusCode)
				}
			}
		}
		if err != nil {
			d.Err = err
			errs = append(errs, fmt.Errorf("pdfake: webhook to %s: %w", d.URL, err))
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, ds...)
	s.mu.Unlock()
	return errors.Join(errs...)
}

// CloseDeal sets a deal's status to won (or lost) as a user would in the
// app, then POSTs change.deal to the webhooks; it returns the delivery
// failures, if any, after applying the change.
func (s *Server) CloseDeal(ctx context.Context, dealID int64, won bool) error {
	status := StatusLost
	if won {
		status = StatusWon
	}
	return s.SetDealStatus(ctx, dealID, status)
}

// SetDealStatus sets a deal's status (open, won, lost) as a user would,
// then POSTs change.deal.
func (s *Server) SetDealStatus(ctx context.Context, dealID int64, status string) error {
	if status != StatusOpen && status != StatusWon && status != StatusLost {
		return fmt.Errorf("pdfake: status %q is not open, won or lost", status)
	}
	s.mu.Lock()
	d := s.deals[dealID]
	if d == nil {
		s.mu.Unlock()
		return fmt.Errorf("pdfake: no deal %d", dealID)
	}
	prev := map[string]any{"status": d.Status}
	d.Status = status
	ds := s.payloads("change", d, prev)
	s.mu.Unlock()
	return s.deliver(ctx, ds)
}

// ChangeDealOwner makes userID the deal's owner as a user would, then
// POSTs change.deal.
func (s *Server) ChangeDealOwner(ctx context.Context, dealID, userID int64) error {
	s.mu.Lock()
	d := s.deals[dealID]
	if _, ok := s.user(userID); d == nil || !ok {
		s.mu.Unlock()
		return fmt.Errorf("pdfake: no deal %d or no user %d", dealID, userID)
	}
	prev := map[string]any{"owner_id": d.OwnerID}
	d.OwnerID = userID
	ds := s.payloads("change", d, prev)
	s.mu.Unlock()
	return s.deliver(ctx, ds)
}

// Deliveries returns every webhook POST made so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}
