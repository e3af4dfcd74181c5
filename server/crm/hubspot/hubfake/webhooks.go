package hubfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Event is one webhook event as HubSpot sends it (a request's body is a
// JSON array of them). Source: developers.hubspot.com docs/api/webhooks.
type Event struct {
	EventID          int64  `json:"eventId"`
	SubscriptionID   int64  `json:"subscriptionId"`
	PortalID         int64  `json:"portalId"`
	AppID            int64  `json:"appId"`
	OccurredAt       int64  `json:"occurredAt"`
	SubscriptionType string `json:"subscriptionType"`
	AttemptNumber    int    `json:"attemptNumber"`
	ObjectID         int64  `json:"objectId"`
	PropertyName     string `json:"propertyName,omitempty"`
	PropertyValue    string `json:"propertyValue,omitempty"`
	ChangeSource     string `json:"changeSource"`
	ChangeFlag       string `json:"changeFlag,omitempty"`
	SourceID         string `json:"sourceId,omitempty"`
}

// Delivery is one webhook POST and how the destination answered.
type Delivery struct {
	URL    string
	Body   []byte
	Header http.Header
	Events []Event
	Status int // 0 when no answer came
	Err    error
}

// appID is the private app's id in events.
const appID = 54321

// Subscribe makes the account POST its events to destination (the app's
// target URL).
func (s *Server) Subscribe(destination string) {
	s.mu.Lock()
	s.subs = append(s.subs, destination)
	s.mu.Unlock()
}

// Unsubscribe removes every target URL.
func (s *Server) Unsubscribe() {
	s.mu.Lock()
	s.subs = nil
	s.mu.Unlock()
}

// uriDecodes are the escapes HubSpot decodes in the URI before signing
// (docs/api/webhooks/validating-requests, v3).
var uriDecodes = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";",
)

// SignV3 is the X-HubSpot-Signature-v3 of a request: base64 of
// HMAC-SHA256(secret, method + uri + body + timestamp), the timestamp in
// Unix milliseconds as sent in X-HubSpot-Request-Timestamp.
func SignV3(secret, method, uri string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + uriDecodes.Replace(uri)))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signV1 is the older X-HubSpot-Signature (version v1): hex SHA-256 of
// secret + body, still sent beside v3.
func signV1(secret string, body []byte) string {
	h := sha256.Sum256(append([]byte(secret), body...))
	return hex.EncodeToString(h[:])
}

// events builds the events for record changes. Callers hold s.mu.
func (s *Server) events(typ string, objectID int64, changes map[string]string, creation bool) []Event {
	now := time.Now().UnixMilli()
	obj := strings.TrimSuffix(typ, "s")
	var out []Event
	add := func(e Event) {
		s.eventID++
		e.EventID, e.SubscriptionID, e.PortalID, e.AppID = s.eventID, 1000+int64(len(out)), s.portalID, appID
		e.OccurredAt, e.ObjectID, e.ChangeSource = now, objectID, "CRM_UI"
		out = append(out, e)
	}
	if creation {
		add(Event{SubscriptionType: obj + ".creation", ChangeFlag: "CREATED"})
	}
	for _, k := range keys(changes) {
		add(Event{SubscriptionType: obj + ".propertyChange", PropertyName: k, PropertyValue: changes[k]})
	}
	return out
}

// deliver POSTs events to every target as one signed request each and
// records the outcome. A failed delivery is not retried here (HubSpot
// retries up to 10 times over 24 hours).
func (s *Server) deliver(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	body, err := json.Marshal(evs)
	if err != nil {
		return err
	}
	s.mu.Lock()
	subs, secret := append([]string(nil), s.subs...), s.secret
	s.mu.Unlock()
	var errs []error
	var ds []Delivery
	for _, dest := range subs {
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		d := Delivery{URL: dest, Body: body, Events: evs, Header: http.Header{}}
		d.Header.Set("Content-Type", "application/json")
		d.Header.Set("X-HubSpot-Signature-v3", SignV3(secret, http.MethodPost, dest, body, ts))
		d.Header.Set("X-HubSpot-Request-Timestamp", ts)
		d.Header.Set("X-HubSpot-Signature-Version", "v1")
		d.Header.Set("X-HubSpot-Signature", signV1(secret, body))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest, bytes.NewReader(body))
		if err == nil {
			req.Header = d.Header.Clone()
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
			errs = append(errs, fmt.Errorf("hubfake: webhook to %s: %w", dest, err))
		}
		ds = append(ds, d)
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, ds...)
	s.mu.Unlock()
	return errors.Join(errs...)
}

// Deliveries returns every webhook POST made so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// ChangeDeal sets a deal's properties as a CRM user would and POSTs the
// deal.propertyChange events (one per property) to the subscribers.
func (s *Server) ChangeDeal(ctx context.Context, dealID string, props map[string]string) error {
	s.mu.Lock()
	rec := s.records["deals/"+dealID]
	if rec == nil {
		s.mu.Unlock()
		return fmt.Errorf("hubfake: no deal %s", dealID)
	}
	if e := s.checkProps("deals", props, rec); e != nil {
		s.mu.Unlock()
		return e
	}
	for k, v := range props {
		rec.Props[k] = v
	}
	rec.updated = time.Now()
	s.calculate(rec)
	id, _ := strconv.ParseInt(dealID, 10, 64)
	evs := s.events("deals", id, props, false)
	s.mu.Unlock()
	return s.deliver(ctx, evs)
}

// CloseDeal moves a deal to its pipeline's closed stage of probability
// 1.0 (won) or 0.0 (lost), as a CRM user would, and POSTs the event.
func (s *Server) CloseDeal(ctx context.Context, dealID string, won bool) error {
	s.mu.Lock()
	rec := s.records["deals/"+dealID]
	stage := ""
	if rec != nil {
		want := 0.0
		if won {
			want = 1
		}
		for _, p := range s.pipelines {
			if p.ID != rec.Props["pipeline"] {
				continue
			}
			for _, st := range p.Stages {
				if x, err := strconv.ParseFloat(st.Probability, 64); err == nil && st.Closed && x == want {
					stage = st.ID
					break
				}
			}
		}
	}
	s.mu.Unlock()
	if stage == "" {
		return fmt.Errorf("hubfake: deal %s has no closed stage to move to", dealID)
	}
	return s.ChangeDeal(ctx, dealID, map[string]string{"dealstage": stage})
}

// SendDealCreation POSTs a deal.creation event for dealID.
func (s *Server) SendDealCreation(ctx context.Context, dealID string) error {
	id, _ := strconv.ParseInt(dealID, 10, 64)
	s.mu.Lock()
	evs := s.events("deals", id, nil, true)
	s.mu.Unlock()
	return s.deliver(ctx, evs)
}
