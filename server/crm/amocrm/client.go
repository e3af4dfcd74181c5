package amocrm

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

// DefaultTimeout bounds one HTTP exchange when no http.Client is given.
const DefaultTimeout = 30 * time.Second

// maxBody bounds how much of a response the client reads; a v4 page of 250
// entities is far below it.
const maxBody = 16 << 20

// pageLimit is the largest page the v4 list endpoints serve.
const pageLimit = 250

// maxPages stops a list that never ends (a server bug) from looping forever.
const maxPages = 400

// allowedHosts are the suffixes an account's host may have: the CRM only
// serves the API on the account's own subdomain
// (https://developers.kommo.com/docs/limitations).
var allowedHosts = []string{".amocrm.ru", ".amocrm.com", ".kommo.com"}

// Client calls one amoCRM / Kommo account. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     string
	http      *http.Client
	limiter   Limiter
	userAgent string
	anyHost   bool
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client used for every request (its Timeout
// bounds each exchange). The default has a DefaultTimeout timeout.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithLimiter sets the limiter every request waits on before it is sent.
// The default is NewLimiter(DefaultRate). Pass a limiter shared by every
// client (and replica) of the same account to keep the account's total
// under the CRM's limit.
func WithLimiter(l Limiter) Option { return func(c *Client) { c.limiter = l } }

// WithUserAgent sets the User-Agent header (default "Switchboard").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// AllowAnyHost lifts the check that the base URL is https on an amoCRM or
// Kommo host, for fakes such as http://127.0.0.1:port.
func AllowAnyHost() Option { return func(c *Client) { c.anyHost = true } }

// New returns a client for the account at baseURL ("https://example.amocrm.ru"
// or "https://example.kommo.com"; a trailing slash or path is not allowed)
// that authenticates with token, a long-lived token or an OAuth access
// token sent as "Authorization: Bearer".
//
// The token never appears in an error or a log line.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	c := &Client{token: token, userAgent: "Switchboard"}
	for _, o := range opts {
		o(c)
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("amocrm: empty token")
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("amocrm: base URL %q is not an absolute URL", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("amocrm: base URL %q must be scheme and host only", baseURL)
	}
	u.Path = ""
	if !c.anyHost {
		if u.Scheme != "https" {
			return nil, fmt.Errorf("amocrm: base URL %q must use https", baseURL)
		}
		if !validHost(u.Hostname()) {
			return nil, fmt.Errorf("amocrm: host %q is not an account subdomain of amocrm.ru, amocrm.com or kommo.com", u.Hostname())
		}
		if p := u.Port(); p != "" && p != "443" {
			return nil, fmt.Errorf("amocrm: base URL %q: the CRM answers on the standard port only", baseURL)
		}
	} else if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("amocrm: base URL %q must use http or https", baseURL)
	}
	c.base = u
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.limiter == nil {
		c.limiter = NewLimiter(DefaultRate)
	}
	return c, nil
}

// validHost reports whether host is "{sub}.amocrm.ru" and the like, with a
// non-empty subdomain label.
func validHost(host string) bool {
	host = strings.ToLower(host)
	for _, suffix := range allowedHosts {
		sub, ok := strings.CutSuffix(host, suffix)
		if ok && sub != "" && !strings.ContainsAny(sub, "/@:") && !strings.HasPrefix(sub, ".") {
			return true
		}
	}
	return false
}

// BaseURL returns the account's base URL, without the token.
func (c *Client) BaseURL() string { return c.base.String() }

// do sends one request. in, when not nil, is sent as JSON; out, when not
// nil, receives a 2xx JSON body. It returns the HTTP status (204 is a
// success with no body, out untouched). Every error is an *Error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) (int, error) {
	op := method + " " + path
	body, err := crmhttp.MarshalBody(in)
	if err != nil {
		return 0, &Error{Op: op, Err: err, local: true}
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return 0, &Error{Op: op, Err: err, local: true}
	}
	u := *c.base
	u.Path = path
	u.RawQuery = query.Encode()
	req, err := crmhttp.NewRequest(ctx, method, u.String(), body, "application/hal+json, application/problem+json, application/json", c.userAgent)
	if err != nil {
		return 0, &Error{Op: op, Err: err, local: true}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	// The transport's error loses the URL, whose query may hold a client's
	// phone number.
	resp, raw, err := crmhttp.Exchange(c.http, req, maxBody)
	if resp == nil {
		return 0, &Error{Op: op, Err: err}
	}
	if err != nil {
		return resp.StatusCode, &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("read response: %w", err)}
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return resp.StatusCode, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if err := crmhttp.DecodeJSON(raw, out); err != nil {
			return resp.StatusCode, &Error{Op: op, Status: resp.StatusCode, Err: err}
		}
		return resp.StatusCode, nil
	default:
		return resp.StatusCode, parseError(op, resp, raw, time.Now())
	}
}

// halLinks is the "_links" object of a v4 answer.
type halLinks struct {
	Next *struct {
		Href string `json:"href"`
	} `json:"next"`
}

// halList is one page of a v4 collection: "_embedded" holds the entities
// under a key named after them ("users", "contacts", …).
type halList struct {
	Links    halLinks                   `json:"_links"`
	Embedded map[string]json.RawMessage `json:"_embedded"`
}

// collect reads every page of a collection (limit 250, pages from 1) and
// decodes the entities under "_embedded"[key]. A 204 ends the list: the
// CRM answers an empty page (or an empty search) with no content.
func collect[T any](ctx context.Context, c *Client, path string, query url.Values, key string) ([]T, error) {
	var all []T
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for page := 1; page <= maxPages; page++ {
		q.Set("page", fmt.Sprint(page))
		q.Set("limit", fmt.Sprint(pageLimit))
		var l halList
		status, err := c.do(ctx, http.MethodGet, path, q, nil, &l)
		if err != nil {
			return nil, err
		}
		if status == http.StatusNoContent {
			break
		}
		var items []T
		if raw, ok := l.Embedded[key]; ok {
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, &Error{Op: "GET " + path, Status: status, Err: fmt.Errorf("decode %s: %w", key, err)}
			}
		}
		all = append(all, items...)
		if l.Links.Next == nil || len(items) < pageLimit {
			break
		}
	}
	return all, nil
}

// jsonUnmarshal decodes a fragment of an answer, naming what failed.
func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}
