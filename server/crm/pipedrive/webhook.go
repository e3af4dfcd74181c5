package pipedrive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard/server/crm"
)

// maxWebhookBody bounds a webhook's body.
const maxWebhookBody = 1 << 20

// Webhook is one notification Pipedrive POSTed.
type Webhook struct {
	// Action is meta.action: "create", "change" or "delete" (v1 webhooks:
	// "added", "updated", "deleted", "merged").
	Action string
	// Entity is meta.entity ("deal", "person", …; v1: meta.object).
	Entity string
	// EntityID is meta.entity_id (v1: meta.id), else data.id (v1:
	// current.id).
	EntityID string
	// User and Password are the request's HTTP Basic credentials: those
	// chosen when the webhook was created (http_auth_user,
	// http_auth_password), "" when none were.
	User, Password string
}

// webhookJSON is a v2 body {"meta": {action, entity, entity_id, version,
// …}, "data": {…}, "previous": {…}}, or a v1 body {"meta": {action, object,
// id}, "current": {…}, "previous": {…}}.
type webhookJSON struct {
	Meta struct {
		Action   string `json:"action"`
		Entity   string `json:"entity"`
		EntityID anyID  `json:"entity_id"`
		Object   string `json:"object"`
		ID       anyID  `json:"id"`
	} `json:"meta"`
	Data    *struct{ ID anyID } `json:"data"`
	Current *struct{ ID anyID } `json:"current"`
}

// anyID is an id of any entity: a number, or a string (a lead's is a
// UUID); null is "".
type anyID string

func (i *anyID) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "null" {
		s = ""
	}
	*i = anyID(s)
	return nil
}

// ParseWebhookRequest reads a webhook request: a POST with a JSON body (at
// most 1 MiB) in the v2 shape (v1's is read too). Sources:
// pipedrive.readme.io docs/guide-for-webhooks-v2 and
// docs/webhooks-v2-migration-guide.
func ParseWebhookRequest(r *http.Request) (Webhook, error) {
	if r.Method != http.MethodPost {
		return Webhook{}, fmt.Errorf("pipedrive: webhook: method %s, want POST", r.Method)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		return Webhook{}, fmt.Errorf("pipedrive: webhook: %w", err)
	}
	if len(b) > maxWebhookBody {
		return Webhook{}, errors.New("pipedrive: webhook: body over 1 MiB")
	}
	var j webhookJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Webhook{}, fmt.Errorf("pipedrive: webhook: %w", err)
	}
	w := Webhook{Action: strings.ToLower(j.Meta.Action), Entity: strings.ToLower(j.Meta.Entity), EntityID: string(j.Meta.EntityID)}
	if w.Entity == "" {
		w.Entity = strings.ToLower(j.Meta.Object)
	}
	if w.EntityID == "" {
		w.EntityID = string(j.Meta.ID)
	}
	if w.EntityID == "" && j.Data != nil {
		w.EntityID = string(j.Data.ID)
	}
	if w.EntityID == "" && j.Current != nil {
		w.EntityID = string(j.Current.ID)
	}
	if w.Action == "" || w.Entity == "" {
		return Webhook{}, errors.New("pipedrive: webhook: no meta.action or meta.entity")
	}
	if user, pass, ok := r.BasicAuth(); ok {
		w.User, w.Password = user, pass
	}
	return w, nil
}

// dealChanged reports whether a webhook announces a deal whose status or
// owner may have changed.
func dealChanged(w Webhook) bool {
	if w.Entity != "deal" {
		return false
	}
	switch w.Action {
	case "create", "change", "added", "updated":
		return true
	}
	return false
}

// parseWebhook reads one webhook: a deal created or changed is one
// crm.Event with the deal's id and, as Token, the Basic auth password the
// webhook was created with (the receiver compares it with the stored one,
// crm.TokenMatches); other notifications carry nothing Switchboard acts on.
func parseWebhook(r *http.Request) ([]crm.Event, error) {
	w, err := ParseWebhookRequest(r)
	if err != nil {
		return nil, err
	}
	if !dealChanged(w) {
		return nil, nil
	}
	if _, err := num("webhook", "deal id", w.EntityID); err != nil {
		return nil, fmt.Errorf("pipedrive: webhook: %s.%s: deal id %q is not a number", w.Action, w.Entity, w.EntityID)
	}
	return []crm.Event{{DealID: w.EntityID, Token: w.Password}}, nil
}
