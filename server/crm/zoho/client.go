package zoho

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// DefaultTimeout bounds one HTTP exchange when no http.Client is given.
const DefaultTimeout = 30 * time.Second

// APIPath is the prefix of every CRM call.
const APIPath = "/crm/v7"

// maxBody bounds how much of a response the client reads.
const maxBody = 16 << 20

// PageSize is the largest page of the list and search calls (per_page).
const PageSize = 200

// maxPages stops a list that never ends (a server bug) from looping.
const maxPages = 200

// dataCentres maps a data centre's domain to its accounts server's host.
// The API host is always www.zohoapis.{dc}. Source: Zoho CRM
// api/v7/multi-dc.html; Canada's accounts server is on zohocloud.ca.
var dataCentres = map[string]string{
	"com":    "accounts.zoho.com",
	"eu":     "accounts.zoho.eu",
	"in":     "accounts.zoho.in",
	"com.au": "accounts.zoho.com.au",
	"jp":     "accounts.zoho.jp",
	"ca":     "accounts.zohocloud.ca",
	"com.cn": "accounts.zoho.com.cn",
	"sa":     "accounts.zoho.sa",
	"uk":     "accounts.zoho.uk",
}

// DataCentre returns the API base ("https://www.zohoapis.eu") and the
// accounts server ("https://accounts.zoho.eu") of an org's data centre,
// given as its domain ("eu", ".com.au") or as a URL or host of it:
// www.zohoapis.{dc}, zohoapis.{dc}, accounts.zoho.{dc}, crm.zoho.{dc}
// (https only, standard port). Anything else is an error.
func DataCentre(s string) (apiBase, accounts string, err error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", "", errors.New("zoho: no data centre")
	}
	host := s
	if strings.Contains(s, "://") {
		u, err := url.Parse(strings.TrimRight(s, "/"))
		if err != nil || u.Host == "" {
			return "", "", errors.New("zoho: the base URL is not an absolute URL")
		}
		if u.Scheme != "https" {
			return "", "", fmt.Errorf("zoho: base URL %s://%s must use https", u.Scheme, u.Host)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
			return "", "", fmt.Errorf("zoho: base URL %s://%s: give the scheme and host only", u.Scheme, u.Host)
		}
		if p := u.Port(); p != "" && p != "443" {
			return "", "", fmt.Errorf("zoho: base URL %s: the CRM answers on the standard port only", u.Host)
		}
		host = u.Hostname()
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "."), ".")
	dc := host
	for _, p := range []string{"www.zohoapis.", "zohoapis.", "accounts.zohocloud.", "accounts.zoho.", "crm.zohocloud.", "crm.zoho.", "zohocloud.", "zoho."} {
		if d, ok := strings.CutPrefix(host, p); ok {
			dc = d
			break
		}
	}
	acc, ok := dataCentres[dc]
	if !ok {
		return "", "", fmt.Errorf("zoho: %q is not a Zoho data centre (com, eu, in, com.au, jp, ca, com.cn, sa, uk)", host)
	}
	return "https://www.zohoapis." + dc, "https://" + acc, nil
}

// Limiter paces requests. Wait blocks until a request may be sent, or
// returns the context's error.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Client calls one org's Zoho CRM. It is safe for concurrent use.
type Client struct {
	api          *url.URL
	tokenURL     string
	http         *http.Client
	limiter      Limiter
	userAgent    string
	anyHost      bool
	accountsURL  string
	dailyCredits int
	concurrency  int
	reserve      float64
	reserveSet   bool
	now          func() time.Time
	org          *org
	// meter, when set, counts the org's credits for every replica
	// together; the budget then keeps only what the CRM said.
	meter crm.Meter
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client used for every request (its Timeout
// bounds each exchange). The default has a DefaultTimeout timeout.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithLimiter sets a limiter every CRM request waits on before it is sent
// (none by default: Zoho limits credits and concurrency, not a rate).
func WithLimiter(l Limiter) Option { return func(c *Client) { c.limiter = l } }

// WithUserAgent sets the User-Agent header (default "Switchboard").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// AllowAnyHost lifts the check that the base URL is a Zoho data centre,
// for fakes such as http://127.0.0.1:port, which then also serves the
// token endpoint unless WithAccountsURL says otherwise.
func AllowAnyHost() Option { return func(c *Client) { c.anyHost = true } }

// WithAccountsURL sets the accounts server (with AllowAnyHost only).
func WithAccountsURL(u string) Option { return func(c *Client) { c.accountsURL = u } }

// WithDailyCredits sets the org's API credits per 24 hours, overriding
// the credential's daily_credits (DefaultDailyCredits when neither).
func WithDailyCredits(n int) Option { return func(c *Client) { c.dailyCredits = n } }

// WithConcurrency sets how many calls of the org may be in flight at once
// from this process, overriding the credential's concurrency
// (DefaultConcurrency when neither).
func WithConcurrency(n int) Option { return func(c *Client) { c.concurrency = n } }

// DefaultConcurrency is the calls in flight at once when nothing says
// otherwise: the Free edition's limit per org and app (Standard allows
// 10, Professional 15, Enterprise 20, Ultimate 25); above it the CRM
// answers 429 TOO_MANY_REQUESTS. Source: api/v7/api-limits.html.
const DefaultConcurrency = 5

// WithCreditReserve sets the share of the daily credits left unspent, in
// [0, 1), overriding the credential's credit_reserve (DefaultCreditReserve,
// stopping at 90 %, when neither).
func WithCreditReserve(f float64) Option {
	return func(c *Client) { c.reserve, c.reserveSet = f, true }
}

// WithMeter makes the client count its credits with m, shared by every
// server replica (the store's outbox_meter), instead of in its process.
func WithMeter(m crm.Meter) Option { return func(c *Client) { c.meter = m } }

// WithClock sets the clock used for token expiry and the credit window.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client for the org in the data centre baseURL names (see
// DataCentre) that authenticates with credential (see Credential). The
// access token and the credit count are shared by every client of the
// same org and credential in this process; the budget's limit and reserve
// are the first client's.
//
// Neither the credential nor any token appears in an error or a log line.
func New(baseURL, credential string, opts ...Option) (*Client, error) {
	c := &Client{userAgent: "Switchboard", reserve: DefaultCreditReserve, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	cred, err := ParseCredential(credential)
	if err != nil {
		return nil, err
	}
	var apiBase, accounts string
	if c.anyHost {
		u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, errors.New("zoho: the base URL is not an absolute http(s) URL")
		}
		apiBase = u.Scheme + "://" + u.Host
		accounts = apiBase
		if c.accountsURL != "" {
			accounts = strings.TrimRight(c.accountsURL, "/")
		} else if cred.AccountsURL != "" {
			accounts = strings.TrimRight(cred.AccountsURL, "/")
		}
	} else {
		if apiBase, accounts, err = DataCentre(baseURL); err != nil {
			return nil, err
		}
	}
	c.api, _ = url.Parse(apiBase)
	c.tokenURL = accounts + "/oauth/v2/token"
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	credits := cred.DailyCredits
	if c.dailyCredits > 0 {
		credits = c.dailyCredits
	}
	if !c.reserveSet && cred.CreditReserve > 0 {
		c.reserve = cred.CreditReserve
	}
	slots := cred.Concurrency
	if c.concurrency > 0 {
		slots = c.concurrency
	}
	if slots <= 0 {
		slots = DefaultConcurrency
	}
	c.org = orgFor(apiBase, c.tokenURL, cred, c.meter, func() *org {
		return &org{
			slots:  make(chan struct{}, slots),
			tokens: &tokens{cred: cred, tokenURL: c.tokenURL, http: c.http, ua: c.userAgent, now: c.now, sem: make(chan struct{}, 1)},
			budget: newBudget(credits, c.reserve),
		}
	})
	return c, nil
}

// BaseURL returns the API base, without any credential.
func (c *Client) BaseURL() string { return c.api.String() }

// Refreshes is how many times this org's access token was fetched.
func (c *Client) Refreshes() int64 { return c.org.tokens.refreshes.Load() }

// Budget returns the org's credits spent in the rolling window (by every
// replica, with a meter), its daily limit, when spent credits start to
// come back (zero when none are spent), and whether calls are refused
// until then.
func (c *Client) Budget(ctx context.Context) (crm.Budget, error) {
	now := c.now()
	if c.meter == nil {
		used, limit, resets := c.org.budget.state(now)
		return crm.Budget{Used: used, Limit: limit, Resets: resets, Paused: c.org.budget.paused(now)}, nil
	}
	used, frees, err := c.meter.Spent(ctx, now)
	if err != nil {
		return crm.Budget{}, err
	}
	used, limit, resets, paused := c.org.budget.sharedState(now, used, frees)
	return crm.Budget{Used: used, Limit: limit, Resets: resets, Paused: paused}, nil
}

// spend takes a call's credits before it is sent, or refuses it at the
// reserve (a *Error with the wait until credits come back).
func (c *Client) spend(ctx context.Context, op string, cost int) error {
	refuse := func(wait time.Duration) error {
		return &Error{Op: op, Code: CodeReserve, Message: "the org's API credits are spent down to the reserve", RetryAfter: wait, local: true}
	}
	now := c.now()
	if c.meter == nil {
		if wait, ok := c.org.budget.take(now, cost); !ok {
			return refuse(wait)
		}
		return nil
	}
	stop, wait, ok := c.org.budget.precheck(now, cost)
	if !ok {
		return refuse(wait)
	}
	_, ok, err := c.meter.Spend(ctx, now, cost, stop)
	if err != nil {
		return &Error{Op: op, Err: fmt.Errorf("count the credits: %w", err), local: true}
	}
	if !ok {
		_, frees, err := c.meter.Spent(ctx, now)
		if err != nil || !frees.After(now) {
			frees = now.Add(creditBucket)
		}
		return refuse(frees.Sub(now))
	}
	c.org.budget.took(cost)
	return nil
}

// giveBack returns the credits of a call that was not sent.
func (c *Client) giveBack(cost int) {
	if c.meter == nil {
		c.org.budget.refund(c.now(), cost)
		return
	}
	// Best effort, past the call's own context: a credit not given back
	// is counted a day longer, never spent twice.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, _ = c.meter.Spend(ctx, c.now(), -cost, 0)
}

// request is one CRM call.
type request struct {
	method, path string
	query        url.Values
	body         any
	// cost is the call's API credits (1 when 0). Source:
	// api/v7/api-limits.html: every call listed here costs 1 credit, a
	// write of up to 100 records included.
	cost int
}

func (r request) op() string { return r.method + " " + r.path }

// do sends one CRM call and decodes a 2xx JSON body into out (when not
// nil); 204 is a success with no body. It spends the call's credits
// first (or refuses it at the reserve without sending it), and after a
// 401 INVALID_TOKEN refreshes the access token once and sends the call
// once more. Every error is an *Error.
func (c *Client) do(ctx context.Context, r request, out any) (int, error) {
	op := r.op()
	body, err := crmhttp.MarshalBody(r.body)
	if err != nil {
		return 0, &Error{Op: op, Err: err, local: true}
	}
	cost := max(r.cost, 1)
	if err := c.spend(ctx, op, cost); err != nil {
		return 0, err
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			c.giveBack(cost)
			return 0, &Error{Op: op, Err: err, local: true}
		}
	}
	select {
	case c.org.slots <- struct{}{}:
	case <-ctx.Done():
		c.giveBack(cost)
		return 0, &Error{Op: op, Err: ctx.Err(), local: true}
	}
	defer func() { <-c.org.slots }()
	tok, err := c.org.tokens.get(ctx, "")
	if err != nil {
		c.giveBack(cost)
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		status, e := c.send(ctx, r, op, body, tok, out)
		if e == nil || attempt > 0 || e.Status != http.StatusUnauthorized || e.Code != CodeInvalidToken {
			if e == nil {
				return status, nil
			}
			return status, e
		}
		c.org.tokens.forget(tok)
		if tok, err = c.org.tokens.get(ctx, tok); err != nil {
			return 0, err
		}
	}
}

// send makes one HTTP exchange.
func (c *Client) send(ctx context.Context, r request, op string, body []byte, tok string, out any) (int, *Error) {
	u := *c.api
	u.Path = r.path
	u.RawQuery = r.query.Encode()
	req, err := crmhttp.NewRequest(ctx, r.method, u.String(), body, "application/json", c.userAgent)
	if err != nil {
		return 0, &Error{Op: op, Err: errors.New("cannot build the request"), local: true}
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+tok)
	// The transport's error loses the URL, whose query may hold a client's
	// phone number.
	resp, raw, err := crmhttp.Exchange(c.http, req, maxBody)
	if resp == nil {
		return 0, &Error{Op: op, Err: err}
	}
	c.org.budget.observe(resp.Header, c.now())
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
	}
	e := parseError(op, resp.StatusCode, raw)
	switch {
	case e.creditsSpent():
		e.RetryAfter = c.org.budget.exhausted(c.now())
	case e.Code == CodeTooManyRequests || e.Status == http.StatusTooManyRequests:
		e.RetryAfter = TooManyRequestsWait
	}
	return resp.StatusCode, e
}

// status is one {"code","details","message","status"} object: a top-level
// error or one record's outcome inside "data".
type status struct {
	Code    string         `json:"code"`
	Details map[string]any `json:"details"`
	Message string         `json:"message"`
	Status  string         `json:"status"`
}

func (s status) field() string {
	if v, ok := s.Details["api_name"].(string); ok {
		return v
	}
	return ""
}

// parseError builds the *Error of a non-2xx answer: a top-level status
// object, or the first record's inside "data". It never fails: a body
// that is not JSON keeps a short excerpt as Message.
func parseError(op string, code int, raw []byte) *Error {
	e := &Error{Op: op, Status: code}
	var top struct {
		status
		Data []status `json:"data"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		e.Message = crmhttp.Excerpt(raw, 200)
		return e
	}
	s := top.status
	if s.Code == "" && len(top.Data) > 0 {
		s = top.Data[0]
	}
	e.Code, e.Message, e.Field = s.Code, s.Message, s.field()
	return e
}

// writeAnswer is the answer of an insert or update: one status per record.
type writeAnswer struct {
	Data []status `json:"data"`
}

// recordID reads the one record's outcome of a write answered 2xx: its id
// on success, or an *Error (Record set) when its status is "error".
func recordID(op string, httpStatus int, a writeAnswer) (string, error) {
	if len(a.Data) == 0 {
		return "", &Error{Op: op, Status: httpStatus, Err: errors.New("no record status in the answer")}
	}
	s := a.Data[0]
	if !strings.EqualFold(s.Status, "success") {
		return "", &Error{Op: op, Status: httpStatus, Record: true, Code: s.Code, Message: s.Message, Field: s.field()}
	}
	id := flexID(s.Details["id"])
	if id == "" {
		return "", &Error{Op: op, Status: httpStatus, Err: errors.New("no id in the record's status")}
	}
	return id, nil
}

// flexID reads an id sent as a string or a number.
func flexID(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprintf("%.0f", x)
	case json.Number:
		return x.String()
	}
	return ""
}

// pageInfo is the "info" of a list or search answer.
type pageInfo struct {
	MoreRecords bool `json:"more_records"`
}

// pages reads every page of a list or search call (per_page PageSize,
// page from 1), passing each page's raw "data" (or the named key) to
// add. A 204 ends the list: the CRM answers an empty result with no
// content.
func (c *Client) pages(ctx context.Context, r request, key string, add func(json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	for page := 1; page <= maxPages; page++ {
		q.Set("page", fmt.Sprint(page))
		q.Set("per_page", fmt.Sprint(PageSize))
		r.query = q
		var m map[string]json.RawMessage
		st, err := c.do(ctx, r, &m)
		if err != nil {
			return err
		}
		if st == http.StatusNoContent || m == nil {
			return nil
		}
		if raw, ok := m[key]; ok {
			if err := add(raw); err != nil {
				return &Error{Op: r.op(), Status: st, Err: err}
			}
		}
		var info pageInfo
		if raw, ok := m["info"]; ok {
			_ = json.Unmarshal(raw, &info)
		}
		if !info.MoreRecords {
			return nil
		}
	}
	return &Error{Op: r.op(), Status: http.StatusOK, Err: fmt.Errorf("more than %d pages", maxPages)}
}
