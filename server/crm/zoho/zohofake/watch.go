package zohofake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Channel is a notification channel opened with POST /crm/v7/actions/
// watch.
type Channel struct {
	ID        string
	Events    []string
	NotifyURL string
	Token     string
}

// watches reports whether ch has an event for module and operation
// ("create", "edit", "delete"; "all" takes every one).
func (ch Channel) watches(module, op string) bool {
	for _, e := range ch.Events {
		m, o, _ := strings.Cut(e, ".")
		if m == module && (o == "all" || o == op) {
			return true
		}
	}
	return false
}

// watch answers POST /crm/v7/actions/watch {"watch":[{channel_id, events,
// notify_url, token, channel_expiry}]}: one status per channel under
// "watch".
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Watch []struct {
			ChannelID json.RawMessage `json:"channel_id"`
			Events    []string        `json:"events"`
			NotifyURL string          `json:"notify_url"`
			Token     string          `json:"token"`
		} `json:"watch"`
	}
	if json.NewDecoder(r.Body).Decode(&b) != nil || len(b.Watch) == 0 {
		writeStatus(w, http.StatusBadRequest, "INVALID_DATA", "body", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, x := range b.Watch {
		id := strings.Trim(string(x.ChannelID), `"`)
		switch {
		case id == "" || x.NotifyURL == "" || len(x.Events) == 0:
			out = append(out, recordStatus("MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": "channel_id"}))
			continue
		case len(x.Token) > 50:
			out = append(out, recordStatus("INVALID_DATA", "invalid data", map[string]any{"api_name": "token"}))
			continue
		}
		ch := Channel{ID: id, Events: x.Events, NotifyURL: x.NotifyURL, Token: x.Token}
		kept := s.channels[:0]
		for _, c := range s.channels {
			if c.ID != id {
				kept = append(kept, c)
			}
		}
		s.channels = append(kept, ch)
		out = append(out, map[string]any{"code": "SUCCESS", "status": "success",
			"message": "Successfully subscribed for actions-watch of the given module",
			"details": map[string]any{"events": []any{map[string]any{"channel_id": id,
				"channel_expiry": time.Now().Add(time.Hour).Format(time.RFC3339)}}}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"watch": out})
}

// Channels returns the open notification channels.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Channel(nil), s.channels...)
}

// Notify POSTs a notification of operation ("create", "edit", "delete")
// on the records ids of module to every channel watching it, as the CRM
// does after a change, and returns the first delivery's error.
func (s *Server) Notify(ctx context.Context, module, operation string, ids ...string) error {
	s.mu.Lock()
	var targets []Channel
	for _, ch := range s.channels {
		if ch.watches(module, operation) {
			targets = append(targets, ch)
		}
	}
	base := s.URL
	s.mu.Unlock()
	op := map[string]string{"create": "insert", "edit": "update", "delete": "delete"}[operation]
	var first error
	for _, ch := range targets {
		body, _ := json.Marshal(map[string]any{"server_time": time.Now().UnixMilli(), "query_params": map[string]any{},
			"module": module, "resource_uri": base + "/crm/v7/" + module, "ids": ids, "affected_fields": []any{},
			"operation": op, "channel_id": ch.ID, "token": ch.Token})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.NotifyURL, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			var resp *http.Response
			if resp, err = http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					err = fmt.Errorf("zohofake: notify %s: %s", ch.NotifyURL, resp.Status)
				}
			}
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// OpenChannel opens (or replaces) a notification channel, as POST
// /crm/v7/actions/watch does.
func (s *Server) OpenChannel(ch Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.channels[:0]
	for _, c := range s.channels {
		if c.ID != ch.ID {
			kept = append(kept, c)
		}
	}
	s.channels = append(kept, ch)
}

// CloseChannels closes every notification channel, as their expiry does.
func (s *Server) CloseChannels() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = nil
}

// unwatch answers DELETE /crm/v7/actions/watch?channel_ids=1,2 (disable
// notifications): each channel named is closed; one status per channel
// under "watch".
func (s *Server) unwatch(w http.ResponseWriter, r *http.Request) {
	ids := strings.Split(r.URL.Query().Get("channel_ids"), ",")
	if len(ids) == 0 || ids[0] == "" {
		writeStatus(w, http.StatusBadRequest, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", map[string]any{"param_name": "channel_ids"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, id := range ids {
		kept := s.channels[:0]
		for _, c := range s.channels {
			if c.ID != id {
				kept = append(kept, c)
			}
		}
		s.channels = kept
		out = append(out, map[string]any{"code": "SUCCESS", "status": "success",
			"message": "Successfully unsubscribed from actions-watch", "details": map[string]any{"channel_id": id}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"watch": out})
}

// org answers GET /crm/v7/org: the org's details, {"org":[{id, …}]}.
func (s *Server) org(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id := s.orgID
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"org": []any{map[string]any{"id": id, "company_name": "Fake Org",
		"zgid": "7" + id[len(id)-8:], "time_zone": "Europe/Moscow", "currency": "Russian Ruble"}}})
}
