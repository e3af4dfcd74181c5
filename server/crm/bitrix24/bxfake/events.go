package bxfake

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Outgoing events the fake sends.
const (
	EventDealAdd       = "ONCRMDEALADD"
	EventDealUpdate    = "ONCRMDEALUPDATE"
	EventContactUpdate = "ONCRMCONTACTUPDATE"
)

type handler struct {
	id    int64
	event string
	url   string
}

// Delivery is one outgoing event POST and how the destination answered.
type Delivery struct {
	URL    string
	Form   url.Values
	Status int // 0 when no answer came
	Err    error
}

// BindEvent makes the portal POST event (e.g. "ONCRMDEALUPDATE") to
// destination, as an outgoing webhook set up in the portal does, and
// returns the handler's id.
func (s *Server) BindEvent(event, destination string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := handler{id: s.id(), event: strings.ToUpper(event), url: destination}
	s.handlers = append(s.handlers, h)
	return h.id
}

// UnbindEvents removes every outgoing handler.
func (s *Server) UnbindEvents() {
	s.mu.Lock()
	s.handlers = nil
	s.mu.Unlock()
}

// form is an event's body: event, event_handler_id, data[FIELDS][ID], ts
// and auth[…] with the application token. Callers hold s.mu.
func (s *Server) form(h handler, event string, id int64) url.Values {
	base := s.URL
	if base == "" {
		base = "https://" + s.domain
	}
	return url.Values{
		"event":                   {event},
		"event_handler_id":        {strconv.FormatInt(h.id, 10)},
		"data[FIELDS][ID]":        {strconv.FormatInt(id, 10)},
		"ts":                      {strconv.FormatInt(time.Now().Unix(), 10)},
		"auth[domain]":            {s.domain},
		"auth[client_endpoint]":   {base + "/rest/"},
		"auth[server_endpoint]":   {"https://oauth.bitrix.info/rest/"},
		"auth[member_id]":         {s.memberID},
		"auth[application_token]": {s.appToken},
	}
}

// payloads are the deliveries of event for record id. Callers hold s.mu.
func (s *Server) payloads(event string, id int64) []Delivery {
	var out []Delivery
	for _, h := range s.handlers {
		if h.event == event {
			out = append(out, Delivery{URL: h.url, Form: s.form(h, event, id)})
		}
	}
	return out
}

// deliver POSTs each payload form-encoded and records the outcome. A
// failed delivery is not retried (what the portal does then is not
// documented).
func (s *Server) deliver(ctx context.Context, ds []Delivery) error {
	var errs []error
	for i := range ds {
		d := &ds[i]
		err := post(ctx, s, d)
		if err != nil {
			d.Err = err
			errs = append(errs, fmt.Errorf("bxfake: event to %s: %w", d.URL, err))
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, ds...)
	s.mu.Unlock()
	return errors.Join(errs...)
}

func post(ctx context.Context, s *Server, d *Delivery) error {
	req, err := newFormRequest(ctx, d.URL, d.Form)
	if err != nil {
		return err
	}
	resp, err := s.hooks.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	d.Status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}

// echo sends, in the background, the event of a change made through the
// API, when WithAPIEvents is on. Callers hold s.mu.
func (s *Server) echo(event string, id int64) {
	if !s.apiEvents {
		return
	}
	if ds := s.payloads(event, id); len(ds) > 0 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.deliver(ctx, ds)
		}()
	}
}

// SendEvent POSTs event for record id to its handlers now.
func (s *Server) SendEvent(ctx context.Context, event string, id int64) error {
	s.mu.Lock()
	ds := s.payloads(strings.ToUpper(event), id)
	s.mu.Unlock()
	return s.deliver(ctx, ds)
}

// MoveDeal moves a deal to stageID of its pipeline as a portal user
// would, then POSTs ONCRMDEALUPDATE to its handlers; it returns the
// delivery failures, if any, after applying the change.
func (s *Server) MoveDeal(ctx context.Context, dealID int64, stageID string) error {
	s.mu.Lock()
	d := s.deals[dealID]
	if d == nil {
		s.mu.Unlock()
		return fmt.Errorf("bxfake: no deal %d", dealID)
	}
	if _, ok := s.stage(d.CategoryID, stageID); !ok {
		s.mu.Unlock()
		return fmt.Errorf("bxfake: deal %d cannot move to stage %q", dealID, stageID)
	}
	d.StageID = stageID
	ds := s.payloads(EventDealUpdate, dealID)
	s.mu.Unlock()
	return s.deliver(ctx, ds)
}

// CloseDeal moves a deal to its pipeline's first won (or lost) stage, as
// MoveDeal does.
func (s *Server) CloseDeal(ctx context.Context, dealID int64, won bool) error {
	s.mu.Lock()
	d := s.deals[dealID]
	stage := ""
	if d != nil {
		c, _ := s.category(d.CategoryID)
		want := "F"
		if won {
			want = "S"
		}
		for _, st := range c.Stages {
			if st.Semantics == want && stage == "" {
				stage = st.StatusID
			}
		}
	}
	s.mu.Unlock()
	if stage == "" {
		return fmt.Errorf("bxfake: no deal %d, or its pipeline has no closing stage", dealID)
	}
	return s.MoveDeal(ctx, dealID, stage)
}

// ChangeDealResponsible makes userID the deal's responsible as a portal
// user would, then POSTs ONCRMDEALUPDATE.
func (s *Server) ChangeDealResponsible(ctx context.Context, dealID, userID int64) error {
	s.mu.Lock()
	d := s.deals[dealID]
	if d == nil || !s.userExists(userID) {
		s.mu.Unlock()
		return fmt.Errorf("bxfake: no deal %d or no user %d", dealID, userID)
	}
	d.AssignedBy = userID
	ds := s.payloads(EventDealUpdate, dealID)
	s.mu.Unlock()
	return s.deliver(ctx, ds)
}
