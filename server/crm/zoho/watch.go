package zoho

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Channel is an instant-notification channel to open on a module.
type Channel struct {
	// ID is the channel's number, sent back in every notification.
	ID int64
	// Events are "{module}.{operation}": "Deals.all", "Deals.edit",
	// "Deals.create", "Deals.delete".
	Events []string
	// NotifyURL receives the notifications (POST, JSON).
	NotifyURL string
	// Token, at most 50 characters, is sent back in every notification:
	// the receiver compares it with the stored one.
	Token string
	// Expiry ends the channel (zero: the CRM's default); the CRM caps how
	// far ahead it may be, so a channel is renewed before it lapses.
	Expiry time.Time
}

// Watch opens (or replaces) a notification channel: POST /crm/v7/
// actions/watch {"watch":[{channel_id, events, notify_url, token,
// channel_expiry}]}, answered with one status per channel under "watch".
// Source: api/v7/notifications/enable.html.
func (c *Client) Watch(ctx context.Context, ch Channel) error {
	if ch.ID <= 0 || ch.NotifyURL == "" || len(ch.Events) == 0 {
		return &Error{Op: "POST /crm/v7/actions/watch", Err: errors.New("a channel needs an id, events and a notify URL"), local: true}
	}
	if len(ch.Token) > 50 {
		return &Error{Op: "POST /crm/v7/actions/watch", Err: errors.New("the channel token is longer than 50 characters"), local: true}
	}
	w := map[string]any{"channel_id": strconv.FormatInt(ch.ID, 10), "events": ch.Events, "notify_url": ch.NotifyURL}
	if ch.Token != "" {
		w["token"] = ch.Token
	}
	if !ch.Expiry.IsZero() {
		w["channel_expiry"] = ch.Expiry.Format(time.RFC3339)
	}
	r := request{method: http.MethodPost, path: APIPath + "/actions/watch", body: map[string]any{"watch": []any{w}}}
	var a struct {
		Watch []status `json:"watch"`
	}
	st, err := c.do(ctx, r, &a)
	if err != nil {
		return err
	}
	if len(a.Watch) > 0 && a.Watch[0].Status != "success" {
		s := a.Watch[0]
		return &Error{Op: r.op(), Status: st, Record: true, Code: s.Code, Message: s.Message, Field: s.field()}
	}
	return nil
}

// Unwatch closes notification channels (DELETE /actions/watch?channel_ids=
// …: disable notifications). Source: api/v7/notifications/disable.html.
func (c *Client) Unwatch(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	var s []string
	for _, id := range ids {
		s = append(s, strconv.FormatInt(id, 10))
	}
	r := request{method: http.MethodDelete, path: APIPath + "/actions/watch", query: url.Values{"channel_ids": {strings.Join(s, ",")}}}
	_, err := c.do(ctx, r, nil)
	return err
}

// OrgID reads the org's id (GET /org: {"org":[{"id", …}]}): what tells
// two orgs of one data centre apart. Source: api/v7/get-org-data.html.
func (c *Client) OrgID(ctx context.Context) (string, error) {
	r := request{method: http.MethodGet, path: APIPath + "/org"}
	var a struct {
		Org []struct {
			ID json.RawMessage `json:"id"`
		} `json:"org"`
	}
	if _, err := c.do(ctx, r, &a); err != nil {
		return "", err
	}
	if len(a.Org) == 0 {
		return "", &Error{Op: r.op(), Status: http.StatusOK, Err: errors.New("no org in the answer")}
	}
	return strings.Trim(string(a.Org[0].ID), `"`), nil
}
