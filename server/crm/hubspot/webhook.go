package hubspot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
)

// Webhook subscription types Switchboard acts on (developers.hubspot.com
// docs/api/webhooks: "deal.creation", "deal.propertyChange", …; apps on
// the newer developer platform send "object.creation" and
// "object.propertyChange" with objectTypeId "0-3" for deals).
const (
	SubDealCreation       = "deal.creation"
	SubDealPropertyChange = "deal.propertyChange"
	SubObjectCreation     = "object.creation"
	SubObjectProperty     = "object.propertyChange"
	// DealObjectTypeID is the deal's objectTypeId.
	DealObjectTypeID = "0-3"
)

// Headers of a signed webhook request (v3).
const (
	HeaderSignatureV3 = "X-HubSpot-Signature-v3"
	HeaderTimestamp   = "X-HubSpot-Request-Timestamp"
)

// MaxWebhookAge is how old a signed request's timestamp may be; older
// ones are refused (replays). Source: developers.hubspot.com
// docs/api/webhooks/validating-requests (v3: reject after 5 minutes).
const MaxWebhookAge = 5 * time.Minute

// maxWebhookBody bounds a webhook request's body (HubSpot batches at most
// 100 events a request).
const maxWebhookBody = 1 << 20

// WebhookEvent is one event of a webhook request: the request's body is a
// JSON array of them.
type WebhookEvent struct {
	EventID          int64  `json:"eventId"`
	SubscriptionID   int64  `json:"subscriptionId"`
	PortalID         int64  `json:"portalId"`
	AppID            int64  `json:"appId"`
	OccurredAt       int64  `json:"occurredAt"` // Unix milliseconds
	SubscriptionType string `json:"subscriptionType"`
	AttemptNumber    int    `json:"attemptNumber"`
	ObjectID         int64  `json:"objectId"`
	ObjectTypeID     string `json:"objectTypeId,omitempty"`
	PropertyName     string `json:"propertyName,omitempty"`
	PropertyValue    string `json:"propertyValue,omitempty"`
	ChangeSource     string `json:"changeSource,omitempty"`
}

// ParseEvents reads a webhook request's body: a JSON array of events
// (an object alone is taken as one event). Source: developers.hubspot.com
// docs/api/webhooks (the example payload).
func ParseEvents(body []byte) ([]WebhookEvent, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("hubspot: webhook: empty body")
	}
	var evs []WebhookEvent
	if body[0] == '{' {
		var e WebhookEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, fmt.Errorf("hubspot: webhook: %w", err)
		}
		evs = []WebhookEvent{e}
	} else if err := json.Unmarshal(body, &evs); err != nil {
		return nil, fmt.Errorf("hubspot: webhook: %w", err)
	}
	for _, e := range evs {
		if e.SubscriptionType == "" {
			return nil, errors.New("hubspot: webhook: an event without subscriptionType")
		}
	}
	return evs, nil
}

// dealChanged reports whether an event announces a deal whose stage or
// owner may have changed: a deal created, or a change of dealstage,
// pipeline or hubspot_owner_id (or of a property not named).
func dealChanged(e WebhookEvent) bool {
	t := e.SubscriptionType
	if strings.HasPrefix(t, "object.") {
		if e.ObjectTypeID != DealObjectTypeID {
			return false
		}
		t = "deal." + strings.TrimPrefix(t, "object.")
	}
	switch t {
	case SubDealCreation:
		return true
	case SubDealPropertyChange:
		switch e.PropertyName {
		case "", propStage, propPipeline, propOwner:
			return true
		}
	}
	return false
}

// readBody reads r's body and puts it back, so the request can be read
// again (by a signature check after the parser, or before it).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("hubspot: webhook: %w", err)
	}
	if len(b) > maxWebhookBody {
		return nil, errors.New("hubspot: webhook: body too large")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// parseWebhook reads one webhook request: every deal event that may have
// changed the deal's stage or owner is one crm.Event with the deal's id.
// Event.Token stays empty: HubSpot signs each request with an HMAC of its
// own method, URI, body and timestamp, so there is no token that repeats
// from one request to the next for the receiver to compare; the check is
// VerifyWebhook, with the app's client secret. The body is put back for
// it.
func parseWebhook(r *http.Request) ([]crm.Event, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	evs, err := ParseEvents(body)
	if err != nil {
		return nil, err
	}
	var out []crm.Event
	for _, e := range evs {
		if !dealChanged(e) {
			continue
		}
		if e.ObjectID <= 0 {
			return nil, fmt.Errorf("hubspot: webhook: %s without objectId", e.SubscriptionType)
		}
		out = append(out, crm.Event{DealID: strconv.FormatInt(e.ObjectID, 10)})
	}
	return out, nil
}

// Errors of VerifyWebhook.
var (
	ErrNoSignature  = errors.New("hubspot: webhook: no v3 signature")
	ErrStale        = errors.New("hubspot: webhook: timestamp too old or in the future")
	ErrBadSignature = errors.New("hubspot: webhook: signature does not match")
)

// uriDecodes are the percent-escapes HubSpot decodes in the URI before
// signing (developers.hubspot.com docs/api/webhooks/validating-requests,
// v3: the table of characters to decode).
var uriDecodes = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";",
)

// Sign returns the v3 signature of a request: base64 of HMAC-SHA256,
// keyed with the app's client secret, of method + uri + body + timestamp
// (uri with the escapes in uriDecodes decoded; timestamp in Unix
// milliseconds as sent in X-HubSpot-Request-Timestamp).
func Sign(secret, method, uri string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method))
	m.Write([]byte(uriDecodes.Replace(uri)))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a webhook request's v3 signature with the app's
// client secret (the private app's, shown beside its token): publicURL
// is the full URL HubSpot was given and called (scheme, host, path and
// query as HubSpot sent them; behind a proxy r.URL does not have them),
// now the time to judge the timestamp by (at most MaxWebhookAge old, and
// no more than MaxWebhookAge ahead). The body is read and put back. The
// errors are ErrNoSignature, ErrStale and ErrBadSignature; none holds the
// secret or the signature.
func VerifyWebhook(r *http.Request, publicURL, secret string, now time.Time) error {
	sig := strings.TrimSpace(r.Header.Get(HeaderSignatureV3))
	ts := strings.TrimSpace(r.Header.Get(HeaderTimestamp))
	if sig == "" || ts == "" || secret == "" {
		return ErrNoSignature
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrStale
	}
	at := time.UnixMilli(ms)
	if now.Sub(at) > MaxWebhookAge || at.Sub(now) > MaxWebhookAge {
		return ErrStale
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	want := Sign(secret, r.Method, publicURL, body, ts)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return ErrBadSignature
	}
	return nil
}
