package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// DefaultBaseURL is HubSpot's API host.
const DefaultBaseURL = "https://api.hubapi.com"

// DefaultTimeout bounds one HTTP exchange when no http.Client is given.
const DefaultTimeout = 30 * time.Second

// maxBody bounds how much of a response the client reads.
const maxBody = 16 << 20

// maxPages stops a list that never ends (a server bug) from looping forever.
const maxPages = 1000

// Client calls HubSpot's CRM API as one private app of one account. It is
// safe for concurrent use.
type Client struct {
	base     *url.URL
	token    string
	http     *http.Client
	acct     *account
	extra    Limiter
	burstN   int
	window   time.Duration
	searchPS float64
	// extraSearch is the search limiter shared across replicas.
	extraSearch Limiter
	loc         *time.Location
	userAgent   string
	anyHost     bool
	now         func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client used for every request (its Timeout
// bounds each exchange). The default has a DefaultTimeout timeout.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithLimiter adds a limiter every request waits on after the account's
// own: one shared by every replica keeps the account's total under
// HubSpot's limit.
func WithLimiter(l Limiter) Option { return func(c *Client) { c.extra = l } }

// WithBurstLimit sets the account's burst limit: at most n requests in
// any window w (DefaultBurst per DefaultWindow unless set; 190 per 10 s on
// Professional and Enterprise). n ≤ 0 turns the pacing off.
func WithBurstLimit(n int, w time.Duration) Option {
	return func(c *Client) { c.burstN, c.window = n, w }
}

// WithSearchLimiter adds a limiter every search waits on after the
// account's own search limit: one shared by every replica keeps the
// account's searches under HubSpot's limit.
func WithSearchLimiter(l Limiter) Option { return func(c *Client) { c.extraSearch = l } }

// WithSearchLimit sets the search endpoints' limit, perSecond requests a
// second (DefaultSearchPerSecond unless set); ≤ 0 turns it off.
func WithSearchLimit(perSecond float64) Option { return func(c *Client) { c.searchPS = perSecond } }

// WithTimeZone sets the account's time zone, where the daily limit resets
// at midnight (the account's settings show it); without it a DAILY 429
// asks to wait until the next full hour.
func WithTimeZone(loc *time.Location) Option { return func(c *Client) { c.loc = loc } }

// WithUserAgent sets the User-Agent header (default "Switchboard").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// AllowAnyHost lifts the check that the base URL is DefaultBaseURL: for a
// fake such as http://127.0.0.1:port.
func AllowAnyHost() Option { return func(c *Client) { c.anyHost = true } }

// ErrBadBaseURL: the base URL is not HubSpot's API host (see AllowAnyHost).
var ErrBadBaseURL = errors.New("hubspot: the base URL is not https://api.hubapi.com")

// New returns a client for baseURL ("" for DefaultBaseURL; scheme and host
// only) that calls as a private app with its access token. The private
// app needs the scopes crm.objects.owners.read, crm.objects.contacts.read
// and .write, crm.objects.deals.read and .write (notes ride on the
// objects' scopes). Source: developers.hubspot.com
// docs/api/private-apps.
//
// The token never appears in an error or a log line.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	c := &Client{userAgent: "Switchboard", burstN: DefaultBurst, window: DefaultWindow,
		searchPS: DefaultSearchPerSecond, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	c.token = strings.TrimSpace(token)
	if c.token == "" || strings.ContainsAny(c.token, " \t\r\n") {
		return nil, errors.New("hubspot: the access token is empty or not one word")
	}
	raw := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%w: not an absolute http(s) URL", ErrBadBaseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w: give the scheme and host only", ErrBadBaseURL)
	}
	u.Path = ""
	if !c.anyHost && (u.Scheme != "https" || !strings.EqualFold(u.Hostname(), "api.hubapi.com") || (u.Port() != "" && u.Port() != "443")) {
		return nil, fmt.Errorf("%w: %s://%s", ErrBadBaseURL, u.Scheme, u.Host)
	}
	c.base = u
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	c.acct = accountOf(c.token, c.burstN, c.window, c.searchPS)
	return c, nil
}

// BaseURL returns the API's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// call sends one request: body (nil for none) as JSON, the answer decoded
// into out (nil to drop it). search says the request counts against the
// search limit. Every error is an *Error.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any, search bool) error {
	op := method + " " + path
	b, err := crmhttp.MarshalBody(body)
	if err != nil {
		return &Error{Op: op, Err: err, local: true}
	}
	if err := c.pace(ctx, search); err != nil {
		return &Error{Op: op, Err: err, local: true}
	}
	u := *c.base
	u.Path = path
	u.RawQuery = query.Encode()
	req, err := crmhttp.NewRequest(ctx, method, u.String(), b, "application/json", c.userAgent)
	if err != nil {
		return &Error{Op: op, Err: errors.New("cannot build the request"), local: true}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, raw, err := crmhttp.Exchange(c.http, req, maxBody)
	if resp == nil {
		return &Error{Op: op, Err: err}
	}
	if err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("read response: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := parseError(op, resp, raw, rateLimitClock{now: c.now(), window: c.window, loc: c.loc})
		if e.RateLimited() && e.PolicyName != PolicyDaily {
			// A search's 429 holds only the searches, unless it names the
			// burst window.
			c.acct.hold(e.RetryAfter, search && e.PolicyName != PolicySecondly)
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("decode response: %w", err)}
	}
	return nil
}

// pace waits until a request may be sent: while the account is held
// after a 429, then on the burst limiter, the search limiter (searches
// only) and the shared limiter.
func (c *Client) pace(ctx context.Context, search bool) error {
	if err := c.acct.wait(ctx, search); err != nil {
		return err
	}
	if c.acct.burst != nil {
		if err := c.acct.burst.Wait(ctx); err != nil {
			return err
		}
	}
	if search && c.acct.search != nil {
		if err := c.acct.search.Wait(ctx); err != nil {
			return err
		}
	}
	if search && c.extraSearch != nil {
		if err := c.extraSearch.Wait(ctx); err != nil {
			return err
		}
	}
	if c.extra != nil {
		return c.extra.Wait(ctx)
	}
	return nil
}

// paging is a list's {"paging":{"next":{"after":"…"}}}.
type paging struct {
	Next *struct {
		After string `json:"after"`
	} `json:"next"`
}

func (p *paging) after() string {
	if p == nil || p.Next == nil {
		return ""
	}
	return p.Next.After
}
