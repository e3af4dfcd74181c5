package zoho

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// Credentials is what the org's connection stores (sealed by settings):
// a Zoho API console client (a self client or a server-based app) and a
// refresh token it was granted, with the ZohoCRM.modules.ALL,
// ZohoCRM.settings.ALL, ZohoCRM.users.READ and ZohoCRM.notifications.ALL
// scopes (and ZohoCRM.org.READ, which tells the org apart from another of
// its data centre: without it the org id is left unknown).
type Credentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
	// DailyCredits is the org's API credits per 24 hours, by edition and
	// licences (0: DefaultDailyCredits). Source: api/v7/api-limits.html.
	DailyCredits int `json:"daily_credits,omitempty"`
	// CreditReserve is the share of DailyCredits left unspent, in [0, 1)
	// (0: DefaultCreditReserve; see WithCreditReserve).
	CreditReserve float64 `json:"credit_reserve,omitempty"`
	// Concurrency is how many calls the org's edition lets be in flight
	// at once (0: DefaultConcurrency). Source: api/v7/api-limits.html.
	Concurrency int `json:"concurrency,omitempty"`
	// AccountsURL overrides the accounts server the data centre gives; it
	// is honoured only with AllowAnyHost (a fake).
	AccountsURL string `json:"accounts_url,omitempty"`
}

// Credential builds the string stored as crm.Config.Token for an org:
// {"client_id":…,"client_secret":…,"refresh_token":…} (with
// "daily_credits" when dailyCredits > 0). ParseCredential reads it back,
// and also takes "client_id:client_secret:refresh_token".
func Credential(clientID, clientSecret, refreshToken string, dailyCredits int) string {
	b, _ := json.Marshal(Credentials{ClientID: strings.TrimSpace(clientID), ClientSecret: strings.TrimSpace(clientSecret),
		RefreshToken: strings.TrimSpace(refreshToken), DailyCredits: max(dailyCredits, 0)})
	return string(b)
}

// ParseCredential reads a stored credential: the JSON Credential makes,
// or "client_id:client_secret:refresh_token". The error never contains
// the secret or the token.
func ParseCredential(s string) (Credentials, error) {
	s = strings.TrimSpace(s)
	var c Credentials
	if strings.HasPrefix(s, "{") {
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return Credentials{}, errors.New("zoho: the credential is not the JSON {client_id, client_secret, refresh_token}")
		}
	} else {
		parts := strings.Split(s, ":")
		if len(parts) != 3 {
			return Credentials{}, errors.New(`zoho: the credential is neither JSON nor "client_id:client_secret:refresh_token"`)
		}
		c = Credentials{ClientID: parts[0], ClientSecret: parts[1], RefreshToken: parts[2]}
	}
	c.ClientID, c.ClientSecret, c.RefreshToken = strings.TrimSpace(c.ClientID), strings.TrimSpace(c.ClientSecret), strings.TrimSpace(c.RefreshToken)
	if c.ClientID == "" || c.ClientSecret == "" || c.RefreshToken == "" {
		return Credentials{}, errors.New("zoho: the credential needs a client id, a client secret and a refresh token")
	}
	if c.DailyCredits < 0 || c.Concurrency < 0 {
		return Credentials{}, errors.New("zoho: daily_credits and concurrency cannot be negative")
	}
	if c.DailyCredits > MaxDailyCredits {
		return Credentials{}, fmt.Errorf("zoho: daily_credits is at most %d", MaxDailyCredits)
	}
	if c.CreditReserve < 0 || c.CreditReserve >= 1 {
		return Credentials{}, errors.New("zoho: credit_reserve is a share in [0, 1)")
	}
	return c, nil
}

// MaxDailyCredits is the most daily_credits a credential may give: the
// budget is reported in 32 bits.
const MaxDailyCredits = math.MaxInt32

// AccessTokenTTL is an access token's life when the accounts server does
// not say (it sends expires_in: 3600). RefreshMargin is how long before
// expiry a token is renewed, so a call never leaves with one about to
// lapse.
const (
	AccessTokenTTL = time.Hour
	RefreshMargin  = 5 * time.Minute
)

// RefreshRetryWait is the wait after the accounts server refused a
// refresh for another reason than the credential (it limits how often
// tokens are asked for).
const RefreshRetryWait = time.Minute

// tokens holds an org's access token: one refresh at a time, shared by
// every call (and every client of the org in this process).
type tokens struct {
	cred     Credentials
	tokenURL string
	http     *http.Client
	ua       string
	now      func() time.Time

	sem       chan struct{} // held while a refresh is under way
	mu        sync.Mutex
	access    string
	expires   time.Time
	refreshes atomic.Int64
}

// get returns a valid access token. stale, when not empty, is a token the
// CRM has just refused: a different current one is returned as is,
// otherwise a new one is fetched. Concurrent callers wait for one refresh.
func (t *tokens) get(ctx context.Context, stale string) (string, error) {
	if tok, ok := t.current(stale); ok {
		return tok, nil
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return "", &Error{Op: "POST /oauth/v2/token", Err: ctx.Err(), local: true}
	}
	defer func() { <-t.sem }()
	if tok, ok := t.current(stale); ok {
		return tok, nil
	}
	return t.refresh(ctx)
}

func (t *tokens) current(stale string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access == "" || t.access == stale || !t.now().Before(t.expires.Add(-RefreshMargin)) {
		return "", false
	}
	return t.access, true
}

// forget drops the current token if it is tok (a refused one).
func (t *tokens) forget(tok string) {
	t.mu.Lock()
	if t.access == tok {
		t.access = ""
	}
	t.mu.Unlock()
}

// tokenAnswer is the accounts server's answer: {access_token, expires_in
// (seconds), api_domain, token_type} or {"error": code}.
type tokenAnswer struct {
	AccessToken      string          `json:"access_token"`
	ExpiresIn        json.Number     `json:"expires_in"`
	APIDomain        string          `json:"api_domain"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// refresh uses the refresh-token grant: POST {accounts}/oauth/v2/token
// with grant_type=refresh_token, client_id, client_secret and
// refresh_token as form data. A refused grant comes back as
// {"error":"invalid_code"} (a revoked or wrong refresh token) or
// "invalid_client" — with HTTP 200 as often as 400. Source: Zoho CRM
// api/v7/oauth-overview.html (refresh access tokens).
func (t *tokens) refresh(ctx context.Context) (string, error) {
	const op = "POST /oauth/v2/token"
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {t.cred.ClientID},
		"client_secret": {t.cred.ClientSecret},
		"refresh_token": {t.cred.RefreshToken},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &Error{Op: op, Err: errors.New("cannot build the request"), local: true}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", t.ua)
	t.refreshes.Add(1)
	resp, raw, err := crmhttp.Exchange(t.http, req, 1<<20)
	if resp == nil {
		return "", &Error{Op: op, Err: err}
	}
	if err != nil {
		return "", &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("read response: %w", err)}
	}
	var a tokenAnswer
	jsonErr := json.Unmarshal(raw, &a)
	if len(a.Error) > 0 && string(a.Error) != "null" {
		e := &Error{Op: op, Status: resp.StatusCode, Message: crmhttp.Excerpt([]byte(a.ErrorDescription), 200), refresh: true}
		var code string
		if json.Unmarshal(a.Error, &code) == nil {
			e.Code = code
		} else {
			e.Code = "error"
		}
		if e.Status < 400 {
			e.Status = http.StatusBadRequest
		}
		if !e.Unauthorized() {
			// Anything but a refused grant or client ("Access Denied" with
			// "too many requests" when tokens are asked for too often) is
			// retried later.
			e.RetryAfter = RefreshRetryWait
		}
		return "", e
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Op: op, Status: resp.StatusCode, refresh: true}
		if jsonErr != nil {
			e.Message = crmhttp.Excerpt(raw, 200)
		}
		if !e.Unauthorized() {
			e.RetryAfter = RefreshRetryWait
		}
		return "", e
	}
	if jsonErr != nil || a.AccessToken == "" {
		return "", &Error{Op: op, Status: resp.StatusCode, Err: errors.New("no access token in the answer")}
	}
	ttl := AccessTokenTTL
	if n, err := a.ExpiresIn.Int64(); err == nil && n > 0 {
		ttl = time.Duration(n) * time.Second
	}
	t.mu.Lock()
	t.access, t.expires = a.AccessToken, t.now().Add(ttl)
	t.mu.Unlock()
	return a.AccessToken, nil
}

// org is what every client of one org in this process shares: its access
// token and its credit budget.
type org struct {
	tokens *tokens
	budget *budget
	// slots bounds the calls in flight (Zoho's concurrency limit).
	slots chan struct{}
}

var (
	orgsMu sync.Mutex
	orgs   = map[orgKey]*org{}
)

// orgFor returns the shared state of the org that cred reaches through
// tokenURL and apiBase, making it on first use with mk. Clients counting
// with a meter share it with the clients of the same meter only: one
// server instance's (its store's); a process runs one, a test several.
func orgFor(apiBase, tokenURL string, cred Credentials, meter crm.Meter, mk func() *org) *org {
	h := sha256.Sum256([]byte(apiBase + "\x00" + tokenURL + "\x00" + cred.ClientID + "\x00" + cred.ClientSecret + "\x00" + cred.RefreshToken))
	key := orgKey{hash: hex.EncodeToString(h[:])}
	if meter != nil && reflect.TypeOf(meter).Comparable() {
		key.meter = meter
	}
	orgsMu.Lock()
	defer orgsMu.Unlock()
	o := orgs[key]
	if o == nil {
		o = mk()
		orgs[key] = o
	}
	return o
}

type orgKey struct {
	hash  string
	meter crm.Meter
}
