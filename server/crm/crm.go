package crm

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Kind names a CRM as the API does ("AMOCRM", "KOMMO", …).
type Kind string

// The kinds with a connector are registered by their packages.
const (
	AmoCRM    Kind = "AMOCRM"
	Kommo     Kind = "KOMMO"
	Bitrix24  Kind = "BITRIX24"
	Zoho      Kind = "ZOHO"
	HubSpot   Kind = "HUBSPOT"
	Pipedrive Kind = "PIPEDRIVE"
	// Native is the built-in CRM: Switchboard's own store (crm/native).
	Native Kind = "NATIVE"
)

// User is a CRM user: an employee on Switchboard's side.
type User struct {
	ID, Name, Email string
	// Active: an inactive (or vanished) user is a deactivated employee.
	Active bool
}

// StageKind says what a deal in a stage is.
type StageKind int

// Stage kinds.
const (
	// Working: an open deal's stage.
	Working StageKind = iota
	// Incoming: the CRM's inbox of unsorted leads; a new client's deal
	// never starts there.
	Incoming
	// Won and Lost: a deal moved here is closed.
	Won
	Lost
)

// Stage is one stage (status) of a pipeline, in the pipeline's order.
type Stage struct {
	ID, Name string
	Kind     StageKind
}

// Pipeline is a deal pipeline with its stages in order; Main is the CRM's
// main pipeline.
type Pipeline struct {
	ID, Name string
	Main     bool
	Stages   []Stage
}

// Directory is what a refresh reads from the CRM.
type Directory struct {
	Users     []User
	Pipelines []Pipeline
}

// Event is a CRM webhook's news that a deal changed. It carries only the
// deal: what changed is read from the CRM (Connector.Deal), so webhooks
// replayed, reordered or stamped with a wrong clock never bring back an
// older state.
type Event struct {
	DealID string
	// Token is the shared secret the CRM sent with the event (Bitrix24's
	// auth[application_token]), "" when the CRM sends none (amoCRM). When
	// the connection has one stored, the receiver accepts the event only
	// if TokenMatches(e.Token, stored).
	Token string
}

// TokenMatches reports whether a webhook's token equals the stored one,
// in constant time; an empty stored or received token never matches.
func TokenMatches(got, stored string) bool {
	if got == "" || stored == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(stored)) == 1
}

// Connector talks to one account's CRM.
type Connector interface {
	// Directory reads the CRM's users and pipelines.
	Directory(ctx context.Context) (Directory, error)
	// FindContact finds the contact with a phone number: the CRM's search
	// is full-text, so every phone it returns is judged by same (the
	// caller's normalization, SPEC §8); nil when none matches.
	FindContact(ctx context.Context, phone string, same func(raw string) bool) (*Contact, error)
	// CreateClient creates a new client's deal in the CRM, with a new
	// contact, or with the existing one when rec.ContactID is set.
	CreateClient(ctx context.Context, rec ClientRecord) (ClientRef, error)
	// FindCreated looks for what CreateClient made for rec before, by its
	// marker (after a call whose outcome is unknown); nil when nothing.
	FindCreated(ctx context.Context, rec ClientRecord) (*ClientRef, error)
	// SetResponsible makes userID responsible for the deal and its contact.
	SetResponsible(ctx context.Context, ref ClientRef, userID string) error
	// Deal reads a deal's current stage and responsible, which a webhook
	// only announces.
	Deal(ctx context.Context, dealID string) (DealState, error)
	// AddNote writes text with marker to the deal's feed (else the
	// contact's). When maybeWritten (an earlier call's outcome is unknown),
	// a note carrying marker already there is not written again.
	AddNote(ctx context.Context, ref ClientRef, text, marker string, maybeWritten bool) error
}

// Contact is a CRM contact found by phone.
type Contact struct {
	ID, Name, ResponsibleID string
}

// ClientRecord is a new client as Switchboard decided it, to create in the
// CRM.
type ClientRecord struct {
	// Marker is unique to this client's first deal (e.g. "#sb-1-42"): it
	// is written with the deal, so a retry after an unknown outcome finds
	// it instead of creating a second one.
	Marker string
	Name   string
	// Phone in E.164; empty for a client known by a messenger handle.
	Phone string
	// DealName names the deal; the marker is added to it.
	DealName string
	// PipelineID and StageID place the deal (empty: the CRM's default).
	PipelineID, StageID string
	// ResponsibleID is the CRM user responsible ("" none).
	ResponsibleID string
	// ContactID links an existing contact instead of creating one.
	ContactID string
}

// DealState is a deal as the CRM has it now.
type DealState struct {
	Won, Lost     bool
	ResponsibleID string
}

// ClientRef is a client's contact and deal in the CRM.
type ClientRef struct {
	ContactID, DealID string
}

// WebhookParser reads the events of one webhook request a CRM sent; it
// needs no credentials.
type WebhookParser func(r *http.Request) ([]Event, error)

// Config says how to reach a CRM.
type Config struct {
	Kind    Kind
	BaseURL string
	Token   string
	// AllowAnyHost accepts a base URL outside the vendor's domains (a fake
	// CRM on this machine, for demos and tests).
	AllowAnyHost bool
	// HTTP is the client to use (nil: the connector's default).
	HTTP *http.Client
	// Limiter, when set, paces every request (the account's share of the
	// CRM's rate limit, across replicas).
	Limiter interface{ Wait(context.Context) error }
	// Limiters, when set, gives the connector a further limiter by name,
	// shared like Limiter by every replica, for a limit of the CRM that
	// only some requests count against (HubSpot's searches).
	Limiters func(name string, r Rate) interface{ Wait(context.Context) error }
	// Meter, when set, counts the account's share of a budget the CRM
	// meters per day (Zoho's API credits) for every replica together;
	// without it a connector counts in its own process.
	Meter Meter
}

// Errors a connector reports, matched with errors.Is.
var (
	// ErrUnsupported: no connector for this kind yet.
	ErrUnsupported = errors.New("crm: no connector for this CRM yet")
	// ErrBadAddress: the base URL is not one of the CRM's.
	ErrBadAddress = errors.New("crm: not an address of this CRM")
	// ErrUnauthorized: the CRM refused the token (wrong, expired, revoked,
	// or without the rights needed).
	ErrUnauthorized = errors.New("crm: the CRM refused the token")
	// ErrUnreachable: the CRM did not answer, or answered with a server
	// error.
	ErrUnreachable = errors.New("crm: the CRM could not be reached")
)

// HasMarker reports whether s holds marker as a whole word: not followed
// by a letter or a digit, so "#sb1" is not found in "… #sb12".
func HasMarker(s, marker string) bool {
	if marker == "" {
		return false
	}
	for from := 0; ; {
		i := strings.Index(s[from:], marker)
		if i < 0 {
			return false
		}
		end := from + i + len(marker)
		if end == len(s) || !isWordByte(s[end]) {
			return true
		}
		from += i + 1
	}
}

func isWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// Permanent reports whether err is a refusal a retry cannot change (the
// CRM's validation of the request): it is parked with the CRM's message.
func Permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// Ambiguous reports whether a write that failed with err may still take
// effect: the request left and no clear answer came back (a timeout, a
// dropped connection, a cancelled call, a 5xx). Such a write may land
// later, so its retry must wait a while before looking for it.
func Ambiguous(err error) bool {
	var a interface{ Ambiguous() bool }
	if errors.As(err, &a) {
		return a.Ambiguous()
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// RetryAfter is the wait the CRM asked for with err (a rate limit), 0 when
// none.
func RetryAfter(err error) time.Duration {
	var r interface{ RetryAfterHint() time.Duration }
	if errors.As(err, &r) {
		return r.RetryAfterHint()
	}
	return 0
}

// Budgeted is a connector whose CRM meters calls against a budget per
// window (Zoho CRM's API credits per rolling 24 hours). A connector near
// its limit refuses calls itself with a retryable error whose RetryAfter
// points at Budget.Resets, so the outbox waits and the sync state can
// show the budget.
type Budgeted interface {
	Budget(ctx context.Context) (Budget, error)
}

// Budget is what a Budgeted connector has spent of its CRM's budget, for
// every replica together when its Config had a Meter.
type Budget struct {
	// Used and Limit are in the CRM's units (credits).
	Used, Limit int
	// Resets is when spent units start to come back (zero when nothing is
	// spent).
	Resets time.Time
	// Paused: the connector refuses calls until Resets (the budget is
	// spent down to its reserve, or the CRM said it is).
	Paused bool
}

// Meter counts what one account spends of its CRM's budget over a
// rolling day, for every replica together (the store's outbox_meter).
type Meter interface {
	// Spend adds n units at at when the day's count plus n stays within
	// limit, and reports the count after it (before it, when refused)
	// and whether it was spent; n ≤ 0 gives units back and always goes.
	Spend(ctx context.Context, at time.Time, n, limit int) (used int, ok bool, err error)
	// Spent is the day's count at at, and when its oldest units come back.
	Spent(ctx context.Context, at time.Time) (used int, frees time.Time, err error)
}

// Subscriber is a connector whose CRM sends its changes only to an address
// subscribed through its API, for a while (Zoho's notification channels):
// Subscribe opens or renews the subscription of deals' changes to
// notifyURL, whose notifications carry token, and says until when it
// holds.
type Subscriber interface {
	Subscribe(ctx context.Context, notifyURL, token string) (until time.Time, err error)
	// Unsubscribe closes the subscription Subscribe opened with token, so
	// the CRM stops sending to a connection that was replaced.
	Unsubscribe(ctx context.Context, token string) error
}

// Identified is a connector whose address does not name the CRM account
// it reaches (HubSpot's API host serves every portal; Zoho's is a data
// centre's): Account reads the account's own id, so that reconnecting to
// another account at the same address is told apart.
type Identified interface {
	Account(ctx context.Context) (string, error)
}

// AccountOf reads the CRM account's id of conn, "" when its address names
// the account already.
func AccountOf(ctx context.Context, conn Connector) (string, error) {
	if id, ok := conn.(Identified); ok {
		return id.Account(ctx)
	}
	return "", nil
}

// Opener makes a connector from a config.
type Opener func(Config) (Connector, error)

// Vendor is what a connector package registers for a kind.
type Vendor struct {
	Open         Opener
	ParseWebhook WebhookParser
	// Rate is the CRM's documented request ceiling for one account; the
	// outbox paces each account's calls within it, across replicas.
	Rate Rate
	// Address says what a CRM account's address looks like, for the
	// error that refuses another ("https://{subdomain}.amocrm.ru").
	Address string
	// VerifyWebhook, when set, checks a webhook request's signature made
	// with secret (the key the admin gave for it), publicURL being the
	// full URL the CRM called; the body is put back. nil: the CRM signs
	// nothing, or with a repeating token (Event.Token).
	VerifyWebhook func(r *http.Request, publicURL, secret string, now time.Time) error
	// Credentials, when set, reads what an admin pasted into the address
	// and the secret to store (a Bitrix24 webhook URL holds both); by
	// default both are kept as given, trimmed.
	Credentials func(baseURL, token string) (string, string, error)
	// Local marks a CRM that is Switchboard's own store (crm/native): the
	// account's directory is edited here and nothing is read from or
	// written to elsewhere, so it has no Open and no ParseWebhook.
	Local bool
}

var (
	mu      sync.RWMutex
	vendors = map[Kind]Vendor{}
)

// Register makes Open and ParseWebhook use v for kind k.
func Register(k Kind, v Vendor) {
	mu.Lock()
	defer mu.Unlock()
	vendors[k] = v
}

func vendor(k Kind) (Vendor, error) {
	mu.RLock()
	defer mu.RUnlock()
	v, ok := vendors[k]
	if !ok {
		return Vendor{}, fmt.Errorf("%w: %s", ErrUnsupported, k)
	}
	return v, nil
}

// Rate is a request ceiling: PerSecond on average, Burst back to back
// after a quiet spell (0 or 1: evenly spaced).
type Rate struct {
	PerSecond float64
	Burst     int
}

// RateOf returns the request ceiling kind k's vendor registered.
func RateOf(k Kind) (Rate, bool) {
	v, err := vendor(k)
	if err != nil || v.Rate.PerSecond <= 0 {
		return Rate{}, false
	}
	return v.Rate, true
}

// Kinds lists the kinds that have a connector, sorted.
func Kinds() []Kind {
	mu.RLock()
	defer mu.RUnlock()
	var out []Kind
	for k, v := range vendors {
		if v.Open != nil {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Credentials reads what an admin pasted for kind k into the address to
// store in clear and the secret to store sealed. Errors wrap ErrBadAddress
// and never hold the secret.
func Credentials(k Kind, baseURL, token string) (string, string, error) {
	v, err := vendor(k)
	if err != nil {
		return "", "", err
	}
	if v.Credentials != nil {
		return v.Credentials(baseURL, token)
	}
	return strings.TrimRight(strings.TrimSpace(baseURL), "/"), strings.TrimSpace(token), nil
}

// VerifyWebhook checks a webhook of a CRM of kind k with secret; nil for
// a CRM that has no signature of this kind.
func VerifyWebhook(k Kind, r *http.Request, publicURL, secret string, now time.Time) error {
	v, err := vendor(k)
	if err != nil || v.VerifyWebhook == nil {
		return err
	}
	return v.VerifyWebhook(r, publicURL, secret, now)
}

// Signs reports whether webhooks of kind k carry a signature that a
// secret given at connect time can check.
func Signs(k Kind) bool {
	v, err := vendor(k)
	return err == nil && v.VerifyWebhook != nil
}

// AddressHint says what an address of kind k looks like ("" unknown).
func AddressHint(k Kind) string {
	v, _ := vendor(k)
	return v.Address
}

// Open returns a connector for cfg.Kind.
func Open(cfg Config) (Connector, error) {
	v, err := vendor(cfg.Kind)
	if err == nil && v.Open == nil {
		err = fmt.Errorf("%w: %s", ErrUnsupported, cfg.Kind)
	}
	if err != nil {
		return nil, err
	}
	return v.Open(cfg)
}

// ParseWebhook reads a webhook request of a CRM of kind k.
func ParseWebhook(k Kind, r *http.Request) ([]Event, error) {
	v, err := vendor(k)
	if err == nil && v.ParseWebhook == nil {
		err = fmt.Errorf("%w: %s", ErrUnsupported, k)
	}
	if err != nil {
		return nil, err
	}
	return v.ParseWebhook(r)
}

// Supported reports whether kind k has a connector: an external CRM that
// can be connected.
func Supported(k Kind) bool {
	v, err := vendor(k)
	return err == nil && v.Open != nil
}

// OwnsDirectory reports whether a CRM of kind k owns the account's
// directory: its users are the employees and its pipelines, stages and
// statuses the account's, so they are changed in the CRM and read from it
// (a refresh), never edited here. Every CRM does but a local one —
// including kinds that can be chosen before they have a connector.
func OwnsDirectory(k Kind) bool {
	v, err := vendor(k)
	return err != nil || !v.Local
}
