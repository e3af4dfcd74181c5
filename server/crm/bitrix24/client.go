package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// DefaultTimeout bounds one HTTP exchange when no http.Client is given.
const DefaultTimeout = 30 * time.Second

// PageSize is the fixed page of every list method: 50 records, the next
// page asked for with start = 50, 100, … (apidocs.bitrix24.com
// settings/performance/huge-data.html; user.get says the same).
const PageSize = 50

// MaxBatch is how many commands one batch call takes
// (apidocs.bitrix24.com settings/how-to-call-rest-api/batch.html).
const MaxBatch = 50

// maxBody bounds how much of a response the client reads.
const maxBody = 16 << 20

// maxPages stops a list that never ends (a server bug) from looping forever.
const maxPages = 1000

// cloudDomains are the registrable domains of Bitrix24's cloud portals
// ({portal}.bitrix24.{zone}). A self-hosted portal's own domain cannot be
// known in advance: reach one with AllowAnyHost.
var cloudDomains = []string{
	"bitrix24.ru", "bitrix24.by", "bitrix24.kz", "bitrix24.ua", "bitrix24.uz",
	"bitrix24.com", "bitrix24.de", "bitrix24.eu", "bitrix24.es", "bitrix24.fr",
	"bitrix24.it", "bitrix24.pl", "bitrix24.uk", "bitrix24.in", "bitrix24.com.br",
	"bitrix24.com.tr", "bitrix24.jp", "bitrix24.cn", "bitrix24.vn", "bitrix24.id",
	"bitrix24.co", "bitrix24.mx",
}

// credential is the "{user}/{secret}" part of a webhook URL.
var credential = regexp.MustCompile(`^([1-9][0-9]{0,9})/([A-Za-z0-9_-]{4,128})$`)

// Client calls one Bitrix24 portal through an incoming webhook. It is safe
// for concurrent use.
type Client struct {
	base      *url.URL
	cred      string // "{user}/{secret}"
	http      *http.Client
	bucket    Limiter
	extra     Limiter
	drain     float64
	burst     int
	userAgent string
	anyHost   bool
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client used for every request (its Timeout
// bounds each exchange). The default has a DefaultTimeout timeout.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithLimiter adds a limiter every request waits on after the portal's
// bucket: a limiter shared by every replica of the same account keeps the
// account's total under the portal's limit.
func WithLimiter(l Limiter) Option { return func(c *Client) { c.extra = l } }

// WithPortalLimit sets the portal's bucket: perSecond drained, burst held
// (DefaultDrain and DefaultBurst unless set; 5 and 250 on Enterprise
// plans). perSecond ≤ 0 turns the bucket off.
func WithPortalLimit(perSecond float64, burst int) Option {
	return func(c *Client) { c.drain, c.burst = perSecond, burst }
}

// WithUserAgent sets the User-Agent header (default "Switchboard").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// AllowAnyHost lifts the check that the portal is https on a Bitrix24
// cloud domain: for a self-hosted portal, or a fake such as
// http://127.0.0.1:port.
func AllowAnyHost() Option { return func(c *Client) { c.anyHost = true } }

// SplitWebhookURL splits an incoming webhook URL as the portal shows it,
// "https://example.bitrix24.ru/rest/1/abcdef0123456789/" (a trailing
// method such as "profile.json" is allowed), into the portal's base URL
// ("https://example.bitrix24.ru") and the credential ("1/abcdef0123456789")
// that New takes. The error never contains the secret.
func SplitWebhookURL(raw string) (baseURL, cred string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", errors.New("bitrix24: the webhook URL is not an absolute http(s) URL")
	}
	rest, ok := strings.CutPrefix(u.Path, "/rest/")
	if !ok {
		return "", "", errors.New("bitrix24: the webhook URL has no /rest/{user}/{secret}/ path")
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) == 3 { // a method after the credential
		parts = parts[:2]
	}
	if len(parts) != 2 || !credential.MatchString(parts[0]+"/"+parts[1]) {
		return "", "", errors.New("bitrix24: the webhook URL's path is not /rest/{user}/{secret}/")
	}
	return u.Scheme + "://" + u.Host, parts[0] + "/" + parts[1], nil
}

// New returns a client for the portal at baseURL
// ("https://example.bitrix24.ru"; scheme and host only) that calls methods
// as the incoming webhook cred, "{user}/{secret}" (see SplitWebhookURL).
// The webhook acts with the rights of the user who made it, within its
// scopes (crm and user are needed). Source: apidocs.bitrix24.com
// local-integrations/local-webhooks.html.
//
// The credential never appears in an error or a log line.
func New(baseURL, cred string, opts ...Option) (*Client, error) {
	c := &Client{userAgent: "Switchboard", drain: DefaultDrain, burst: DefaultBurst}
	for _, o := range opts {
		o(c)
	}
	cred = strings.Trim(strings.TrimSpace(cred), "/")
	if !credential.MatchString(cred) {
		return nil, errors.New(`bitrix24: the webhook credential is not "{user id}/{secret}"`)
	}
	c.cred = cred
	// The messages name the scheme and host only: a webhook URL pasted as
	// the base URL carries the secret in its path.
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || u.Host == "" {
		return nil, errors.New("bitrix24: the base URL is not an absolute URL")
	}
	shown := u.Scheme + "://" + u.Host
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("bitrix24: base URL %s…: give the scheme and host only (the webhook's /rest/{user}/{secret}/ is the credential)", shown)
	}
	u.Path = ""
	if !c.anyHost {
		if u.Scheme != "https" {
			return nil, fmt.Errorf("bitrix24: base URL %s must use https", shown)
		}
		if !ValidHost(u.Hostname()) {
			return nil, fmt.Errorf("bitrix24: host %q is not a Bitrix24 cloud portal ({portal}.bitrix24.ru, .com, .de, …)", u.Hostname())
		}
		if p := u.Port(); p != "" && p != "443" {
			return nil, fmt.Errorf("bitrix24: base URL %s: the portal answers on the standard port only", shown)
		}
	} else if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("bitrix24: base URL %s must use http or https", shown)
	}
	c.base = u
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.drain > 0 {
		burst := max(c.burst, 1)
		c.bucket = portalBucket(u.Host, c.drain, burst)
	}
	return c, nil
}

// ValidHost reports whether host is "{portal}.bitrix24.{zone}" for one of
// the cloud's zones, with a non-empty portal label.
func ValidHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range cloudDomains {
		sub, ok := strings.CutSuffix(host, "."+d)
		if ok && sub != "" && !strings.ContainsAny(sub, "/@:") && !strings.HasPrefix(sub, ".") && !strings.Contains(sub, ".") {
			return true
		}
	}
	return false
}

// BaseURL returns the portal's base URL, without the credential.
func (c *Client) BaseURL() string { return c.base.String() }

// Timing is the "time" block of an answer; OperatingResetAt is when the
// method's execution-time budget resets (zero when absent).
type Timing struct {
	Operating        float64
	OperatingResetAt time.Time
}

// Answer is a successful answer's envelope: Result holds the method's
// result; Next is the start of the next page (-1 when the list ends, or
// for a method that does not page); Total is the list's size when sent.
type Answer struct {
	Result json.RawMessage
	Next   int
	Total  int
	Time   Timing
}

type timeJSON struct {
	Operating        float64 `json:"operating"`
	OperatingResetAt float64 `json:"operating_reset_at"`
}

func (t *timeJSON) timing() Timing {
	if t == nil {
		return Timing{}
	}
	out := Timing{Operating: t.Operating}
	if t.OperatingResetAt > 0 {
		sec, frac := math.Modf(t.OperatingResetAt)
		out.OperatingResetAt = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	return out
}

// envelope is every answer: {"result", "next", "total", "time"} or
// {"error", "error_description"}.
type envelope struct {
	Result           json.RawMessage `json:"result"`
	Next             *crmhttp.Int    `json:"next"`
	Total            *crmhttp.Int    `json:"total"`
	Time             *timeJSON       `json:"time"`
	Error            *crmhttp.String `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// Call invokes one REST method with params (a JSON object; nil for none),
// POSTed as JSON to {base}/rest/{user}/{secret}/{method}.json. Every error
// is an *Error.
func (c *Client) Call(ctx context.Context, method string, params any) (Answer, error) {
	body := []byte("{}")
	if params != nil {
		b, err := crmhttp.MarshalBody(params)
		if err != nil {
			return Answer{}, &Error{Method: method, Err: err, local: true}
		}
		body = b
	}
	if err := crmhttp.Wait(ctx, c.bucket, c.extra); err != nil {
		return Answer{}, &Error{Method: method, Err: err, local: true}
	}
	u := *c.base
	u.Path = "/rest/" + c.cred + "/" + method + ".json"
	req, err := crmhttp.NewRequest(ctx, http.MethodPost, u.String(), body, "application/json", c.userAgent)
	if err != nil {
		return Answer{}, &Error{Method: method, Err: errors.New("cannot build the request"), local: true}
	}
	// The transport's error loses the URL, whose path holds the secret.
	resp, raw, err := crmhttp.Exchange(c.http, req, maxBody)
	if resp == nil {
		return Answer{}, &Error{Method: method, Err: err}
	}
	if err != nil {
		return Answer{}, &Error{Method: method, Status: resp.StatusCode, Err: fmt.Errorf("read response: %w", err)}
	}
	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Answer{}, parseError(method, resp, raw, time.Now())
	}
	if jsonErr != nil {
		return Answer{}, &Error{Method: method, Status: resp.StatusCode, Err: fmt.Errorf("decode response: %w", jsonErr)}
	}
	if env.Error != nil {
		return Answer{}, parseError(method, resp, raw, time.Now())
	}
	a := Answer{Result: env.Result, Next: -1, Time: env.Time.timing()}
	if env.Next != nil {
		a.Next = int(*env.Next)
	}
	if env.Total != nil {
		a.Total = int(*env.Total)
	}
	return a, nil
}

// list reads every page of a list method: params gets "start" set to 0,
// then to each answer's "next", until an answer has none. decode receives
// each page's result.
func (c *Client) list(ctx context.Context, method string, params map[string]any, decode func(json.RawMessage) (int, error)) error {
	start := 0
	for range maxPages {
		p := make(map[string]any, len(params)+1)
		for k, v := range params {
			p[k] = v
		}
		p["start"] = start
		a, err := c.Call(ctx, method, p)
		if err != nil {
			return err
		}
		n, err := decode(a.Result)
		if err != nil {
			return &Error{Method: method, Status: http.StatusOK, Err: err}
		}
		if a.Next <= start || n == 0 {
			return nil
		}
		start = a.Next
	}
	return &Error{Method: method, Status: http.StatusOK, Err: fmt.Errorf("more than %d pages", maxPages)}
}

// decodeList decodes a list result: an array, or the empty object some
// methods answer for no records.
func decodeList[T any](raw json.RawMessage) ([]T, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" || string(raw) == "false" {
		return nil, nil
	}
	var out []T
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	return out, nil
}

// decodeMap decodes an object result, taking an empty array (PHP's empty
// array) as an empty object.
func decodeMap[T any](raw json.RawMessage) (map[string]T, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "[]" {
		return map[string]T{}, nil
	}
	out := map[string]T{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	return out, nil
}
