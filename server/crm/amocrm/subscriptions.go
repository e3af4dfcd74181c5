package amocrm

import (
	"context"
	"net/http"
	"net/url"
)

// Webhook events ("settings") Switchboard subscribes to
// (https://www.amocrm.ru/developers/content/crm_platform/webhooks-api).
const (
	EventStatusLead         = "status_lead"
	EventResponsibleLead    = "responsible_lead"
	EventResponsibleContact = "responsible_contact"
	EventUpdateLead         = "update_lead"
	EventUpdateContact      = "update_contact"
	EventAddLead            = "add_lead"
)

// Subscription is a webhook registered on the account: the CRM POSTs a
// form-encoded body (see ParseWebhook) to Destination on every event in
// Settings.
type Subscription struct {
	ID          int64    `json:"id"`
	Destination string   `json:"destination"`
	Settings    []string `json:"settings"`
	Sort        int      `json:"sort"`
	Disabled    bool     `json:"disabled"`
}

// Subscribe registers destination for events (POST /api/v4/webhooks) and
// returns the registration. Admin only; an account holds at most 100
// webhooks. What the CRM does with a destination registered twice is not
// documented: list first (Subscriptions) to keep one.
func (c *Client) Subscribe(ctx context.Context, destination string, events []string) (Subscription, error) {
	var s Subscription
	body := map[string]any{"destination": destination, "settings": events, "sort": 10}
	_, err := c.do(ctx, http.MethodPost, "/api/v4/webhooks", nil, body, &s)
	return s, err
}

// Subscriptions lists the account's webhooks (GET /api/v4/webhooks), all
// of them or, when destination is not empty, that destination's.
func (c *Client) Subscriptions(ctx context.Context, destination string) ([]Subscription, error) {
	q := url.Values{}
	if destination != "" {
		q.Set("filter[destination]", destination)
	}
	var l halList
	status, err := c.do(ctx, http.MethodGet, "/api/v4/webhooks", q, nil, &l)
	if err != nil || status == http.StatusNoContent {
		return nil, err
	}
	var out []Subscription
	if raw, ok := l.Embedded["webhooks"]; ok {
		if err := jsonUnmarshal(raw, &out); err != nil {
			return nil, &Error{Op: "GET /api/v4/webhooks", Status: status, Err: err}
		}
	}
	return out, nil
}

// Unsubscribe removes destination's webhook (DELETE /api/v4/webhooks).
func (c *Client) Unsubscribe(ctx context.Context, destination string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v4/webhooks", nil, map[string]string{"destination": destination}, nil)
	return err
}
