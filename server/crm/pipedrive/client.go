package pipedrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// DefaultTimeout bounds one HTTP exchange when no http.Client is given.
const DefaultTimeout = 30 * time.Second

// PageLimit is the page asked of every list: 500, the most the v2 lists
// and searches take (their default is 100). Source: developers.pipedrive.com
// docs/api/v2 (the limit parameter of each list).
const PageLimit = 500

// v1PageLimit is the page asked of the v1 lists (notes).
const v1PageLimit = 100

// maxBody bounds how much of an answer the client reads.
const maxBody = 16 << 20

// maxPages stops a list that never ends (a server bug) from looping forever.
const maxPages = 1000

// Client calls one Pipedrive company account with an API token. It is safe
// for concurrent use.
type Client struct {
	base      *url.URL
	token     string
	http      *http.Client
	extra     Limiter
	pace      *pacer
	perWindow int
	search    int
	userAgent string
	anyHost   bool
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client used for every request (its Timeout
// bounds each exchange). The default has a DefaultTimeout timeout.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithLimiter adds a limiter every request waits on after the token's own
// pacing: one shared by every replica keeps the account's total under
// Pipedrive's limit.
func WithLimiter(l Limiter) Option { return func(c *Client) { c.extra = l } }

// WithWindowLimit sets how many requests the token may send per 2-second
// window (DefaultWindowLimit unless set: the plan's figure may be
// higher). n ≤ 0 turns the spacing off; the rate-limit headers are obeyed
// anyway.
func WithWindowLimit(n int) Option { return func(c *Client) { c.perWindow = n } }

// WithSearchLimit sets how many search requests the token may send per
// 2-second window (DefaultSearchLimit unless set); n ≤ 0 turns it off.
func WithSearchLimit(n int) Option { return func(c *Client) { c.search = n } }

// WithUserAgent sets the User-Agent header (default "Switchboard").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// AllowAnyHost lifts the check that the base URL is
// https://{company}.pipedrive.com: for a fake such as http://127.0.0.1:port.
func AllowAnyHost() Option { return func(c *Client) { c.anyHost = true } }

// ValidHost reports whether host is "{company}.pipedrive.com" with a
// single, non-empty company label.
func ValidHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	sub, ok := strings.CutSuffix(host, ".pipedrive.com")
	if !ok || sub == "" || len(sub) > 63 {
		return false
	}
	for i, r := range sub {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(sub)-1) {
			return false
		}
	}
	return true
}

// New returns a client for the company at baseURL
// ("https://example.pipedrive.com"; scheme and host only) that calls the
// API with token (Settings > Personal preferences > API in Pipedrive; it
// acts with its user's rights, so an admin's token sees every user and
// record). Source: pipedrive.readme.io docs/how-to-find-the-api-token and
// docs/core-api-concepts-authentication.
//
// A base URL that is not https on a *.pipedrive.com host (unless
// AllowAnyHost), or an empty token, is an error; the token never appears
// in one.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	c := &Client{userAgent: "Switchboard", perWindow: DefaultWindowLimit, search: DefaultSearchLimit}
	for _, o := range opts {
		o(c)
	}
	c.token = strings.TrimSpace(token)
	if c.token == "" || strings.ContainsAny(c.token, " \r\n\t") {
		return nil, errors.New("pipedrive: the API token is empty or not one token")
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || u.Host == "" {
		return nil, errors.New("pipedrive: the base URL is not an absolute URL")
	}
	shown := u.Scheme + "://" + u.Host
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("pipedrive: base URL %s…: give the scheme and host only (https://{company}.pipedrive.com)", shown)
	}
	u.Path = ""
	if !c.anyHost {
		if u.Scheme != "https" {
			return nil, fmt.Errorf("pipedrive: base URL %s must use https", shown)
		}
		if !ValidHost(u.Hostname()) {
			return nil, fmt.Errorf("pipedrive: host %q is not a Pipedrive company ({company}.pipedrive.com)", u.Hostname())
		}
		if p := u.Port(); p != "" && p != "443" {
			return nil, fmt.Errorf("pipedrive: base URL %s: Pipedrive answers on the standard port only", shown)
		}
	} else if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("pipedrive: base URL %s must use http or https", shown)
	}
	c.base = u
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	c.pace = tokenPacer(u.Host, c.token, c.perWindow, c.search)
	return c, nil
}

// BaseURL returns the company's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// envelope is every answer: {"success", "data", "additional_data"}.
type envelope struct {
	Success        *bool           `json:"success"`
	Data           json.RawMessage `json:"data"`
	AdditionalData json.RawMessage `json:"additional_data"`
}

// Answer is a successful answer's data and additional_data.
type Answer struct {
	Data, Additional json.RawMessage
}

// request is one call: method, path (with /v1 or /api/v2), query, and a
// JSON body (nil for none).
type request struct {
	method, path string
	query        url.Values
	body         any
}

func (r request) op() string { return r.method + " " + r.path }

// searchPath reports whether a path is one of the search endpoints, which
// have their own limit.
func searchPath(p string) bool { return strings.HasSuffix(p, "/search") }

// call sends one request and decodes the envelope. Every error is an
// *Error.
func (c *Client) call(ctx context.Context, r request) (Answer, error) {
	body, err := crmhttp.MarshalBody(r.body)
	if err != nil {
		return Answer{}, &Error{Op: r.op(), Err: err, local: true}
	}
	if err := c.pace.wait(ctx, searchPath(r.path)); err != nil {
		return Answer{}, &Error{Op: r.op(), Err: err, local: true}
	}
	if err := crmhttp.Wait(ctx, c.extra); err != nil {
		return Answer{}, &Error{Op: r.op(), Err: err, local: true}
	}
	u := *c.base
	u.Path = r.path
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	req, err := crmhttp.NewRequest(ctx, r.method, u.String(), body, "application/json", c.userAgent)
	if err != nil {
		return Answer{}, &Error{Op: r.op(), Err: errors.New("cannot build the request"), local: true}
	}
	req.Header.Set("x-api-token", c.token)
	// The transport's error loses the URL, whose query may hold a phone
	// number.
	resp, raw, err := crmhttp.Exchange(c.http, req, maxBody)
	if resp == nil {
		return Answer{}, &Error{Op: r.op(), Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := parseError(r.op(), resp, raw, time.Now())
		c.pace.observe(resp.StatusCode, resp.Header, e.Daily, e.RetryAfter)
		return Answer{}, e
	}
	c.pace.observe(resp.StatusCode, resp.Header, false, 0)
	if err != nil {
		return Answer{}, &Error{Op: r.op(), Status: resp.StatusCode, Err: fmt.Errorf("read answer: %w", err)}
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Answer{}, &Error{Op: r.op(), Status: resp.StatusCode, Err: fmt.Errorf("decode answer: %w", err)}
	}
	if env.Success != nil && !*env.Success {
		e := parseError(r.op(), resp, raw, time.Now())
		e.Status = http.StatusBadRequest
		return Answer{}, e
	}
	return Answer{Data: env.Data, Additional: env.AdditionalData}, nil
}

// decode decodes an answer's data into out; a failure is an *Error of a
// 2xx (ambiguous for a write: it was applied).
func decode(op string, raw json.RawMessage, out any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &Error{Op: op, Status: http.StatusOK, Err: fmt.Errorf("decode data: %w", err)}
	}
	return nil
}

// cursorPage is the v2 paging block: additional_data.next_cursor, null or
// absent on the last page.
type cursorPage struct {
	NextCursor *string `json:"next_cursor"`
}

// searchPages is how many pages of a search are read: results come by
// relevance, and a term that matches too much is better narrowed than read
// to its end (a search costs more of the budget than a list).
const searchPages = 2

// listV2 reads the pages of a v2 list, at most pages of them: query gets
// limit and, after the first page, the cursor each answer gives. each
// receives each page's data. Past the last page allowed it stops without
// an error.
func (c *Client) listV2(ctx context.Context, path string, query url.Values, pages int, each func(json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", strconv.Itoa(PageLimit))
	r := request{method: http.MethodGet, path: path, query: q}
	for i := range maxPages {
		if i == pages {
			return nil
		}
		a, err := c.call(ctx, r)
		if err != nil {
			return err
		}
		if err := each(a.Data); err != nil {
			return err
		}
		var p cursorPage
		if len(a.Additional) > 0 {
			_ = json.Unmarshal(a.Additional, &p)
		}
		if p.NextCursor == nil || *p.NextCursor == "" || *p.NextCursor == q.Get("cursor") {
			return nil
		}
		q.Set("cursor", *p.NextCursor)
	}
	return &Error{Op: r.op(), Status: http.StatusOK, Err: fmt.Errorf("more than %d pages", maxPages)}
}

// startPage is the v1 paging block: additional_data.pagination.
type startPage struct {
	Pagination struct {
		More      bool `json:"more_items_in_collection"`
		NextStart int  `json:"next_start"`
	} `json:"pagination"`
}

// listV1 reads every page of a v1 list (start, limit; the next start from
// additional_data.pagination while more_items_in_collection).
func (c *Client) listV1(ctx context.Context, path string, query url.Values, each func(json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", strconv.Itoa(v1PageLimit))
	start := 0
	r := request{method: http.MethodGet, path: path, query: q}
	for range maxPages {
		q.Set("start", strconv.Itoa(start))
		a, err := c.call(ctx, r)
		if err != nil {
			return err
		}
		if err := each(a.Data); err != nil {
			return err
		}
		var p startPage
		if len(a.Additional) > 0 {
			_ = json.Unmarshal(a.Additional, &p)
		}
		if !p.Pagination.More || p.Pagination.NextStart <= start {
			return nil
		}
		start = p.Pagination.NextStart
	}
	return &Error{Op: r.op(), Status: http.StatusOK, Err: fmt.Errorf("more than %d pages", maxPages)}
}

// ID is a Pipedrive id: a JSON number (or a string holding one), written
// as its decimal string; null or 0 is "".
type ID string

// UnmarshalJSON reads a number, a numeric string, or null.
func (i *ID) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "null" || s == "" || s == "0" {
		*i = ""
		return nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return fmt.Errorf("id %q is not a number", s)
	}
	*i = ID(s)
	return nil
}

// num turns an id into the JSON number Pipedrive's bodies take; an id that
// is not a number is a local, permanent error.
func num(op, field, id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil || n <= 0 {
		return 0, &Error{Op: op, Err: fmt.Errorf("%s %q is not a Pipedrive id", field, id), local: true}
	}
	return n, nil
}

// idPath checks an id before it goes into a path.
func idPath(op, id string) (string, error) {
	n, err := num(op, "id", id)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(n, 10), nil
}
