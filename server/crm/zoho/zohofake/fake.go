package zohofake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// The credential a fake accepts unless WithClient says otherwise.
const (
	DefaultClientID     = "1000.ZOHOFAKECLIENT"
	DefaultClientSecret = "zohofake-client-secret"
	DefaultRefreshToken = "1000.zohofake.refresh"
)

// DefaultTokenTTL is an access token's life: an hour, as the accounts
// server's expires_in says.
const DefaultTokenTTL = time.Hour

// DefaultCredits is the fake org's credits per 24 hours: an Enterprise
// org's baseline, far above what a test spends.
const DefaultCredits = 50000

// User is a CRM user. Status is "active", "disabled" or "deleted".
type User struct {
	ID, FullName, Email, Status string
}

// Stage is a pipeline stage. ForecastType is "Open", "Closed Won" or
// "Closed Lost".
type Stage struct {
	ID, Value, ForecastType, ForecastCategory string
}

// Pipeline is a Deals pipeline of the fake's one layout.
type Pipeline struct {
	ID, Value string
	Default   bool
	Stages    []Stage
}

// Contact is a contact.
type Contact struct {
	ID, FirstName, LastName, Phone, Mobile, Description, OwnerID string
}

// Deal is a deal. Stage holds the stage's value, PipelineID its
// pipeline's id.
type Deal struct {
	ID, Name, Stage, PipelineID, OwnerID, ContactID string
}

// Note is a note of a record of Module ("Deals", "Contacts").
type Note struct {
	ID, Module, ParentID, Title, Content string
}

// Server is a fake Zoho CRM org that also serves the accounts server's
// token endpoint. It is an http.Handler; Start also serves it on a local
// port.
type Server struct {
	// URL is the base URL when started with Start ("http://127.0.0.1:port"),
	// for both the API and the accounts server.
	URL string

	ts        *httptest.Server
	mux       *http.ServeMux
	requests  atomic.Int64
	refreshes atomic.Int64
	refused   atomic.Int64 // 401 answers to API calls

	mu           sync.Mutex
	clientID     string
	clientSecret string
	refreshToken string
	revoked      bool
	ttl          time.Duration
	access       map[string]time.Time
	limiter      *rate.Limiter
	credits      int
	creditsUsed  int
	headers      bool
	faults       []*Fault
	nextID       int64
	layoutID     string
	users        []User
	pipelines    []Pipeline
	contacts     map[string]*Contact
	deals        map[string]*Deal
	notes        []*Note
	channels     []Channel
	orgID        string
}

// Option configures a Server.
type Option func(*Server)

// WithClient sets the client id, secret and refresh token the accounts
// server accepts.
func WithClient(id, secret, refreshToken string) Option {
	return func(s *Server) { s.clientID, s.clientSecret, s.refreshToken = id, secret, refreshToken }
}

// DefaultOrgID is the fake org's id (GET /crm/v7/org).
const DefaultOrgID = "5725767000000021001"

// WithOrgID sets the org's id, so two fakes at one address can stand for
// two orgs.
func WithOrgID(id string) Option { return func(s *Server) { s.orgID = id } }

// WithTokenTTL sets the access tokens' life.
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.ttl = d } }

// WithCredits sets the org's credits per 24 hours (0: unlimited).
func WithCredits(n int) Option { return func(s *Server) { s.credits = n } }

// WithCreditHeaders makes every API answer carry X-RATELIMIT-LIMIT,
// X-RATELIMIT-REMAINING and X-RATELIMIT-RESET (Unix milliseconds). The v7
// reference documents no credit headers, so they are off by default.
func WithCreditHeaders() Option { return func(s *Server) { s.headers = true } }

// WithRateLimit makes the fake answer 429 TOO_MANY_REQUESTS above
// perSecond API calls a second (burst the same); 0, the default, turns it
// off.
func WithRateLimit(perSecond int) Option { return func(s *Server) { s.setRate(perSecond) } }

func (s *Server) setRate(perSecond int) {
	if perSecond <= 0 {
		s.limiter = nil
		return
	}
	s.limiter = rate.NewLimiter(rate.Limit(perSecond), perSecond)
}

// New returns a fake org holding the seed data, not yet listening.
func New(opts ...Option) *Server {
	s := &Server{
		clientID: DefaultClientID, clientSecret: DefaultClientSecret, refreshToken: DefaultRefreshToken,
		ttl: DefaultTokenTTL, access: map[string]time.Time{}, credits: DefaultCredits, orgID: DefaultOrgID,
	}
	s.seed()
	for _, o := range opts {
		o(s)
	}
	s.routes()
	return s
}

// Start returns a fake served on a local port (see URL); Close stops it.
func Start(opts ...Option) *Server {
	s := New(opts...)
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

// Close stops a started fake.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// Credential is the stored credential of the fake's client, in the JSON
// form zoho.Credential builds.
func (s *Server) Credential() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(map[string]string{"client_id": s.clientID, "client_secret": s.clientSecret, "refresh_token": s.refreshToken})
	return string(b)
}

// Seed ids: users, pipelines, and the seeded contact and deal.
const (
	UserAdmin    = "5725767000000411001"
	UserActive   = "5725767000000411003"
	UserOther    = "5725767000000411004"
	UserDisabled = "5725767000000411006"

	LayoutStandard   = "5725767000000091055"
	PipelineStandard = "5725767000000091061"
	PipelinePartners = "5725767000000091071"

	SeedContact      = "5725767000000500001"
	SeedContactPhone = "+79035550102"
	SeedDeal         = "5725767000000600001"
)

func (s *Server) seed() {
	s.nextID = 5725767000001000000
	s.layoutID = LayoutStandard
	s.users = []User{
		{UserAdmin, "Olga Admin", "olga@example.com", "active"},
		{"5725767000000411002", "Ivan Petrov", "ivan@example.com", "active"},
		{UserActive, "Anna Smirnova", "anna@example.com", "active"},
		{UserOther, "Boris Orlov", "boris@example.com", "active"},
		{"5725767000000411005", "Daria Volkova", "daria@example.com", "active"},
		{UserDisabled, "Egor Left", "egor@example.com", "disabled"},
	}
	st := func(id, v, ft, fc string) Stage {
		return Stage{ID: id, Value: v, ForecastType: ft, ForecastCategory: fc}
	}
	s.pipelines = []Pipeline{
		{ID: PipelineStandard, Value: "Standard", Default: true, Stages: []Stage{
			st("5725767000000006801", "Qualification", "Open", "Pipeline"),
			st("5725767000000006803", "Needs Analysis", "Open", "Pipeline"),
			st("5725767000000006805", "Negotiation/Review", "Open", "Pipeline"),
			st("5725767000000006807", "Closed Won", "Closed Won", "Closed"),
			st("5725767000000006809", "Closed Lost", "Closed Lost", "Omitted"),
		}},
		{ID: PipelinePartners, Value: "Partners", Stages: []Stage{
			st("5725767000000006901", "New Partner", "Open", "Pipeline"),
			st("5725767000000006903", "Contract Signed", "Closed Won", "Closed"),
			st("5725767000000006905", "Partner Declined", "Closed Lost", "Omitted"),
		}},
	}
	s.contacts = map[string]*Contact{
		SeedContact: {ID: SeedContact, FirstName: "Maria", LastName: "Ivanova", Phone: "8 (903) 555-01-02", OwnerID: UserAdmin},
	}
	s.deals = map[string]*Deal{
		SeedDeal: {ID: SeedDeal, Name: "Maria Ivanova, Telegram", Stage: "Qualification", PipelineID: PipelineStandard, OwnerID: UserActive, ContactID: SeedContact},
	}
}

// id hands out the next record id, a string of digits. Callers hold s.mu.
func (s *Server) id() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// ServeHTTP answers one request: the token endpoint, or an API call, to
// which it applies, in order, an injected fault, the rate limit, the
// access token check and the credit count.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	f := s.takeFault(r)
	if f != nil && f.Delay > 0 {
		// A slow CRM still does the work, even when the client gave up.
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if f != nil && f.Drop {
		dropConnection(w)
		return
	}
	if f != nil && f.Status != 0 && f.RecordError == "" {
		writeFault(w, r, f)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/oauth/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	if !s.allow() {
		writeStatus(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "too many requests", nil)
		return
	}
	if code := s.authorize(r); code != "" {
		s.refused.Add(1)
		msg := "invalid oauth token"
		if code == "AUTHENTICATION_FAILURE" {
			msg = "Authentication failed"
		}
		writeStatus(w, http.StatusUnauthorized, code, msg, nil)
		return
	}
	if !s.spend(w) {
		// The status of LIMIT_REACHED is not stated in the reference: the
		// fake answers 400, so only the code tells it from a refusal.
		writeStatus(w, http.StatusBadRequest, "LIMIT_REACHED", "API credits limit reached for the day", nil)
		return
	}
	if f != nil && f.RecordError != "" {
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, map[string]any{"data": []any{recordStatus(f.RecordError, "record refused", map[string]any{"api_name": "Owner"})}})
		return
	}
	if f != nil && f.DropAfterCommit {
		s.mux.ServeHTTP(httptest.NewRecorder(), r)
		dropConnection(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func (s *Server) allow() bool {
	s.mu.Lock()
	l := s.limiter
	s.mu.Unlock()
	return l == nil || l.Allow()
}

// authorize checks "Authorization: Zoho-oauthtoken {token}" and returns
// the refusal's code, "" when the token is good.
func (s *Server) authorize(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Zoho-oauthtoken ")
	if !ok || tok == "" {
		return "AUTHENTICATION_FAILURE"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[tok]
	if !ok || s.revoked || !time.Now().Before(exp) {
		return "INVALID_TOKEN"
	}
	return ""
}

// spend counts an API call's credit (every call here costs one), and
// reports false once the credits are spent.
func (s *Server) spend(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.credits > 0 && s.creditsUsed >= s.credits {
		return false
	}
	s.creditsUsed++
	if s.headers && s.credits > 0 {
		w.Header().Set("X-RATELIMIT-LIMIT", strconv.Itoa(s.credits))
		w.Header().Set("X-RATELIMIT-REMAINING", strconv.Itoa(s.credits-s.creditsUsed))
		w.Header().Set("X-RATELIMIT-RESET", strconv.FormatInt(time.Now().Add(24*time.Hour).UnixMilli(), 10))
	}
	return true
}

// token answers POST /oauth/v2/token: the refresh-token grant, its
// parameters in the form body or the query. A wrong or revoked refresh
// token is {"error":"invalid_code"}, a wrong client {"error":
// "invalid_client"}, both with HTTP 200, as the accounts server answers.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.refreshes.Add(1)
	if r.Form.Get("grant_type") != "refresh_token" {
		writeJSON(w, http.StatusOK, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Form.Get("client_id") != s.clientID || r.Form.Get("client_secret") != s.clientSecret {
		writeJSON(w, http.StatusOK, map[string]string{"error": "invalid_client"})
		return
	}
	if s.revoked || r.Form.Get("refresh_token") != s.refreshToken {
		writeJSON(w, http.StatusOK, map[string]string{"error": "invalid_code"})
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "1000." + hex.EncodeToString(b)
	s.access[tok] = time.Now().Add(s.ttl)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "expires_in": int(s.ttl / time.Second), "api_domain": s.URL, "token_type": "Bearer",
		"scope": "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.users.READ ZohoCRM.notifications.ALL ZohoCRM.org.READ",
	})
}

// RevokeCredentials revokes the refresh token and every access token: the
// API answers 401 INVALID_TOKEN and the token endpoint invalid_code.
func (s *Server) RevokeCredentials() {
	s.mu.Lock()
	s.revoked = true
	s.mu.Unlock()
}

// RestoreCredentials lifts a revocation.
func (s *Server) RestoreCredentials() {
	s.mu.Lock()
	s.revoked = false
	s.mu.Unlock()
}

// ExpireAccessTokens makes every access token issued so far expire now.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	clear(s.access)
	s.mu.Unlock()
}

// SetRateLimit changes the API call rate above which the fake answers 429
// (burst the same; 0 turns it off).
func (s *Server) SetRateLimit(perSecond int) {
	s.mu.Lock()
	s.setRate(perSecond)
	s.mu.Unlock()
}

// SetCredits sets the daily credits and the credits already spent.
func (s *Server) SetCredits(limit, used int) {
	s.mu.Lock()
	s.credits, s.creditsUsed = limit, used
	s.mu.Unlock()
}

// CreditsUsed is the credits spent so far.
func (s *Server) CreditsUsed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creditsUsed
}

// RequestCount is how many requests reached the fake, token requests and
// refused ones included.
func (s *Server) RequestCount() int64 { return s.requests.Load() }

// RefreshCount is how many token requests reached the token endpoint.
func (s *Server) RefreshCount() int64 { return s.refreshes.Load() }

// RefusedCount is how many API calls were answered 401.
func (s *Server) RefusedCount() int64 { return s.refused.Load() }

// writeJSON answers a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStatus answers a top-level error: {"code","details","message",
// "status":"error"}.
func writeStatus(w http.ResponseWriter, status int, code, message string, details map[string]any) {
	if details == nil {
		details = map[string]any{}
	}
	writeJSON(w, status, map[string]any{"code": code, "details": details, "message": message, "status": "error"})
}

// recordStatus is one record's error inside "data".
func recordStatus(code, message string, details map[string]any) map[string]any {
	if details == nil {
		details = map[string]any{}
	}
	return map[string]any{"code": code, "details": details, "message": message, "status": "error"}
}

func recordSuccess(message string, id string) map[string]any {
	now := time.Now().Format(time.RFC3339)
	return map[string]any{"code": "SUCCESS", "message": message, "status": "success",
		"details": map[string]any{"id": id, "Modified_Time": now, "Created_Time": now,
			"Modified_By": map[string]string{"id": UserAdmin, "name": "Olga Admin"}}}
}

// String describes the fake for logs.
func (s *Server) String() string { return fmt.Sprintf("zohofake at %s", s.URL) }

// SetOrgID makes the fake answer for another org from now on, as the
// same address reached with another org's credential would.
func (s *Server) SetOrgID(id string) {
	s.mu.Lock()
	s.orgID = id
	s.mu.Unlock()
}
