package zoho

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard/server/crm"
)

// Notification is one instant notification Zoho CRM POSTs to the
// notify_url of a channel opened with POST /crm/v7/actions/watch: a JSON
// body {"server_time", "module", "resource_uri", "ids":[…], "operation":
// "insert"|"update"|"delete", "channel_id", "token", "query_params",
// "affected_fields"}. Token is the one set when the channel was opened
// (at most 50 characters); compare it with the stored one
// (crm.TokenMatches) before acting. Source:
// api/v7/notifications/overview.html and notifications/enable.html.
type Notification struct {
	Module    string
	Operation string
	IDs       []string
	ChannelID string
	Token     string
}

// maxNotification bounds a notification's body.
const maxNotification = 1 << 20

// flexIDs reads a list of ids sent as strings or numbers.
type flexIDs []string

func (f *flexIDs) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, r := range raw {
		if id := flexRaw(r); id != "" {
			*f = append(*f, id)
		}
	}
	return nil
}

// flexRaw reads a JSON string or number as a string ("" otherwise).
func flexRaw(r json.RawMessage) string {
	var s string
	if json.Unmarshal(r, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(r))
	d.UseNumber()
	if d.Decode(&n) == nil {
		return n.String()
	}
	return ""
}

// ParseNotification reads a notification's JSON body. A body that is not
// such an object, or without a module or an operation, is an error.
func ParseNotification(body []byte) (Notification, error) {
	var x struct {
		Module    string          `json:"module"`
		Operation string          `json:"operation"`
		IDs       flexIDs         `json:"ids"`
		ChannelID json.RawMessage `json:"channel_id"`
		Token     json.RawMessage `json:"token"`
	}
	if err := json.Unmarshal(body, &x); err != nil {
		return Notification{}, errors.New("zoho: notification: the body is not a JSON object of the expected shape")
	}
	n := Notification{Module: strings.TrimSpace(x.Module), Operation: strings.ToLower(strings.TrimSpace(x.Operation)),
		IDs: x.IDs, ChannelID: flexRaw(x.ChannelID), Token: flexRaw(x.Token)}
	if n.Module == "" || n.Operation == "" {
		return Notification{}, errors.New("zoho: notification: no module or operation")
	}
	for _, id := range n.IDs {
		if strings.ContainsAny(id, "/?#") {
			return Notification{}, fmt.Errorf("zoho: notification: id %q is not a record id", id)
		}
	}
	return n, nil
}

// parseWebhook reads one notification: every deal inserted or updated is
// a crm.Event carrying the channel's token; other modules and deletions
// carry nothing Switchboard acts on.
func parseWebhook(r *http.Request) ([]crm.Event, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotification+1))
	if err != nil {
		return nil, fmt.Errorf("zoho: notification: %w", err)
	}
	if len(body) > maxNotification {
		return nil, errors.New("zoho: notification: the body is too large")
	}
	n, err := ParseNotification(body)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(n.Module, "Deals") || (n.Operation != "update" && n.Operation != "insert") {
		return nil, nil
	}
	out := make([]crm.Event, 0, len(n.IDs))
	for _, id := range n.IDs {
		out = append(out, crm.Event{DealID: id, Token: n.Token})
	}
	return out, nil
}
