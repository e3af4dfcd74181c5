package amocrm

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EventKind is what a webhook event reports: the entity and the action of
// its form keys, "leads[status][0][…]" being LeadStatusChanged.
type EventKind string

// Event kinds Switchboard acts on. Other actions (delete, restore, note)
// parse too, as "entity.action".
const (
	LeadStatusChanged         EventKind = "leads.status"
	LeadResponsibleChanged    EventKind = "leads.responsible"
	LeadUpdated               EventKind = "leads.update"
	LeadAdded                 EventKind = "leads.add"
	ContactResponsibleChanged EventKind = "contacts.responsible"
	ContactUpdated            EventKind = "contacts.update"
	ContactAdded              EventKind = "contacts.add"
)

// Event is one entity in a webhook. Fields the CRM did not send are zero.
type Event struct {
	Kind EventKind
	ID   int64
	// Type is the contact's "type" ("contact" or "company") for contacts
	// events, empty for leads.
	Type                 string
	StatusID             int64
	OldStatusID          int64
	PipelineID           int64
	OldPipelineID        int64
	ResponsibleUserID    int64
	OldResponsibleUserID int64
	ModifiedUserID       int64
	LastModified         time.Time

	index int
}

// Won reports whether a lead event leaves the lead closed-won (142).
func (e Event) Won() bool { return e.lead() && e.StatusID == StatusWon }

// Lost reports whether a lead event leaves the lead closed-lost (143).
func (e Event) Lost() bool { return e.lead() && e.StatusID == StatusLost }

func (e Event) lead() bool { return strings.HasPrefix(string(e.Kind), "leads.") }

// Webhook is one webhook POST: the account it comes from and its events,
// ordered by kind and then by their index in the form.
type Webhook struct {
	AccountID int64
	Subdomain string
	Events    []Event
}

// webhookKey matches "leads[status][0][status_id]" and the like; deeper
// keys (custom_fields, tags) are not read.
var webhookKey = regexp.MustCompile(`^(leads|contacts)\[([a-z_]+)\]\[(\d{1,6})\]\[([a-z_]+)\]$`)

// maxWebhookEvents bounds the events one body may carry.
const maxWebhookEvents = 1000

// ParseWebhook reads a webhook body: application/x-www-form-urlencoded with
// PHP-style keys, e.g.
//
//	leads[status][0][id]=123&leads[status][0][status_id]=142&
//	leads[status][0][old_status_id]=456&leads[status][0][pipeline_id]=7&
//	account[id]=1&account[subdomain]=example
//
// Fields read per event: id, type, status_id, old_status_id, pipeline_id,
// old_pipeline_id, responsible_user_id, old_responsible_user_id,
// modified_user_id, last_modified (Unix seconds). An event without an id,
// or a number that does not parse, is an error; unknown fields are ignored.
// The CRM does not sign webhooks: check the account id, and check the
// entity with the API before trusting a change.
// Source: https://www.amocrm.ru/developers/content/crm_platform/webhooks-format
func ParseWebhook(form url.Values) (Webhook, error) {
	var w Webhook
	if v := form.Get("account[id]"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Webhook{}, fmt.Errorf("amocrm: webhook: account[id] %q is not a number", v)
		}
		w.AccountID = id
	}
	w.Subdomain = form.Get("account[subdomain]")
	type slot struct {
		kind  EventKind
		index int
	}
	events := map[slot]*Event{}
	for key, vals := range form {
		m := webhookKey.FindStringSubmatch(key)
		if m == nil || len(vals) == 0 {
			continue
		}
		idx, _ := strconv.Atoi(m[3])
		s := slot{EventKind(m[1] + "." + m[2]), idx}
		e := events[s]
		if e == nil {
			if len(events) >= maxWebhookEvents {
				return Webhook{}, fmt.Errorf("amocrm: webhook: more than %d events", maxWebhookEvents)
			}
			e = &Event{Kind: s.kind, index: idx}
			events[s] = e
		}
		if err := e.set(m[4], vals[0]); err != nil {
			return Webhook{}, fmt.Errorf("amocrm: webhook: %s: %w", key, err)
		}
	}
	for s, e := range events {
		if e.ID == 0 {
			return Webhook{}, fmt.Errorf("amocrm: webhook: %s[%d] has no id", s.kind, s.index)
		}
		w.Events = append(w.Events, *e)
	}
	sort.Slice(w.Events, func(i, j int) bool {
		a, b := w.Events[i], w.Events[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.index < b.index
	})
	return w, nil
}

// ParseWebhookRequest parses the form of an incoming webhook request; its
// body is limited to 1 MiB.
func ParseWebhookRequest(w http.ResponseWriter, r *http.Request) (Webhook, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return Webhook{}, fmt.Errorf("amocrm: webhook: %w", err)
	}
	return ParseWebhook(r.PostForm)
}

func (e *Event) set(field, v string) error {
	var dst *int64
	switch field {
	case "type":
		e.Type = v
		return nil
	case "id":
		dst = &e.ID
	case "status_id":
		dst = &e.StatusID
	case "old_status_id":
		dst = &e.OldStatusID
	case "pipeline_id":
		dst = &e.PipelineID
	case "old_pipeline_id":
		dst = &e.OldPipelineID
	case "responsible_user_id":
		dst = &e.ResponsibleUserID
	case "old_responsible_user_id":
		dst = &e.OldResponsibleUserID
	case "modified_user_id":
		dst = &e.ModifiedUserID
	case "last_modified":
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a Unix time", v)
		}
		e.LastModified = unix(n)
		return nil
	default:
		return nil
	}
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	*dst = n
	return nil
}
