package bitrix24

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
)

// Event names of the deal and contact events Switchboard may subscribe to
// (apidocs.bitrix24.com api-reference/crm/deals/events/).
const (
	EventDealAdd       = "ONCRMDEALADD"
	EventDealUpdate    = "ONCRMDEALUPDATE"
	EventDealDelete    = "ONCRMDEALDELETE"
	EventContactAdd    = "ONCRMCONTACTADD"
	EventContactUpdate = "ONCRMCONTACTUPDATE"
)

// Event is one outgoing event the portal POSTed.
type Event struct {
	// Name is the event's name, upper case ("ONCRMDEALUPDATE").
	Name string
	// ID is the record's id (data[FIELDS][ID]); the event carries nothing
	// else about the record: read it with the API.
	ID string
	// Token is auth[application_token], the secret the portal shows for
	// the outgoing webhook (or the application); compare it with the
	// stored one before acting (crm.TokenMatches).
	Token string
	// Domain and MemberID identify the portal (auth[domain],
	// auth[member_id]).
	Domain, MemberID string
	// At is ts, when the event happened (zero when absent).
	At time.Time
}

// ParseEvent reads an outgoing event's form: event=ONCRMDEALUPDATE&
// data[FIELDS][ID]=42&ts=1764489600&auth[domain]=example.bitrix24.ru&
// auth[member_id]=…&auth[application_token]=…. An event without a name,
// or with an id or ts that is not a number, is an error. Source:
// apidocs.bitrix24.com local-integrations/local-webhooks.html (outgoing
// webhooks) and api-reference/events/index.html.
func ParseEvent(form url.Values) (Event, error) {
	e := Event{
		Name:     strings.ToUpper(strings.TrimSpace(form.Get("event"))),
		ID:       strings.TrimSpace(form.Get("data[FIELDS][ID]")),
		Token:    form.Get("auth[application_token]"),
		Domain:   form.Get("auth[domain]"),
		MemberID: form.Get("auth[member_id]"),
	}
	if e.Name == "" {
		return Event{}, errors.New("bitrix24: event: no event name")
	}
	if e.ID != "" {
		if n, err := strconv.ParseInt(e.ID, 10, 64); err != nil || n <= 0 {
			return Event{}, fmt.Errorf("bitrix24: event: data[FIELDS][ID] %q is not an id", e.ID)
		}
	}
	if ts := strings.TrimSpace(form.Get("ts")); ts != "" {
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return Event{}, fmt.Errorf("bitrix24: event: ts %q is not a Unix time", ts)
		}
		e.At = time.Unix(n, 0).UTC()
	}
	return e, nil
}

// ParseEventRequest parses the form of an incoming event request; its
// body is limited to 1 MiB.
func ParseEventRequest(w http.ResponseWriter, r *http.Request) (Event, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return Event{}, fmt.Errorf("bitrix24: event: %w", err)
	}
	return ParseEvent(r.PostForm)
}

// dealEvent reports whether an event announces a deal whose state may
// have changed (its stage or responsible).
func dealEvent(name string) bool { return name == EventDealAdd || name == EventDealUpdate }

// parseWebhook reads one outgoing event: a deal added or updated is one
// crm.Event with the deal's id and the event's application token (which
// the receiver compares with the stored one); other events carry nothing
// Switchboard acts on.
func parseWebhook(r *http.Request) ([]crm.Event, error) {
	e, err := ParseEventRequest(nil, r)
	if err != nil {
		return nil, err
	}
	if !dealEvent(e.Name) {
		return nil, nil
	}
	if e.ID == "" {
		return nil, fmt.Errorf("bitrix24: event: %s without data[FIELDS][ID]", e.Name)
	}
	return []crm.Event{{DealID: e.ID, Token: e.Token}}, nil
}
