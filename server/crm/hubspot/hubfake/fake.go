package hubfake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials a fake accepts and signs with unless options say otherwise.
const (
	// DefaultToken is the private app's access token.
	DefaultToken = "pat-na1-00000000-hubfake-token-0001"
	// DefaultClientSecret signs outgoing webhooks.
	DefaultClientSecret = "hubfake-client-secret-0001"
)

// HubSpot's limits for a private app on Free and Starter accounts
// (developers.hubspot.com docs/api/usage-details): DefaultBurst requests
// in any rolling DefaultWindow, and DefaultSearchPerSecond search
// requests a second.
const (
	DefaultBurst           = 100
	DefaultWindow          = 10 * time.Second
	DefaultSearchPerSecond = 5
)

const maxBody = 8 << 20

// Server is a fake HubSpot account. It is an http.Handler; Start also
// serves it on a local port.
type Server struct {
	// URL is the API's base URL when started with Start
	// ("http://127.0.0.1:port").
	URL string

	ts       *httptest.Server
	requests atomic.Int64
	hooks    *http.Client

	mu            sync.Mutex
	token         string
	secret        string
	revoked       bool
	missingScopes bool
	burst         int
	window        time.Duration
	searchPS      int
	daily         int
	dailyUsed     int
	admitted      []time.Time
	searched      []time.Time
	searchLag     time.Duration
	faults        []*Fault
	calls         []string
	portalID      int64
	nextID        int64
	owners        []Owner
	pipelines     []Pipeline
	records       map[string]*record // by type + "/" + id
	links         []Link
	subs          []string
	deliveries    []Delivery
	eventID       int64
}

// record is a stored object.
type record struct {
	Record
	created, updated time.Time
	indexed          time.Time // searchable from
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the private app token the fake accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithClientSecret sets the secret outgoing webhooks are signed with.
func WithClientSecret(secret string) Option { return func(s *Server) { s.secret = secret } }

// WithBurst sets the rolling window: at most n requests in any window
// (190 per 10 s on Professional and Enterprise); n ≤ 0 turns it off.
func WithBurst(n int, window time.Duration) Option {
	return func(s *Server) { s.burst, s.window = n, window }
}

// WithSearchLimit sets the search requests allowed in any second; ≤ 0
// turns the limit off.
func WithSearchLimit(perSecond int) Option { return func(s *Server) { s.searchPS = perSecond } }

// WithDailyLimit makes every request after n answer 429 DAILY (off by
// default; HubSpot's are 250,000 and more).
func WithDailyLimit(n int) Option { return func(s *Server) { s.daily = n } }

// WithSearchLag makes a new record searchable only d after its creation,
// as HubSpot's eventually consistent search index does; reads by id and
// associations see it at once. Off by default.
func WithSearchLag(d time.Duration) Option { return func(s *Server) { s.searchLag = d } }

// WithData replaces the Seed data the fake starts with.
func WithData(d Data) Option { return func(s *Server) { s.load(d) } }

// New returns a fake account holding Seed() data, not yet listening.
func New(opts ...Option) *Server {
	s := &Server{
		token: DefaultToken, secret: DefaultClientSecret,
		burst: DefaultBurst, window: DefaultWindow, searchPS: DefaultSearchPerSecond,
		hooks: &http.Client{Timeout: 10 * time.Second},
	}
	s.load(Seed())
	for _, o := range opts {
		o(s)
	}
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

// Token is the private app token the fake accepts.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// ClientSecret is the secret outgoing webhooks are signed with.
func (s *Server) ClientSecret() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secret
}

// Serve runs a fake account with Seed data on addr (e.g.
// "127.0.0.1:8093") until ctx ends.
func Serve(ctx context.Context, addr string, opts ...Option) error {
	srv := &http.Server{Addr: addr, Handler: New(opts...), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// load replaces the state with d.
func (s *Server) load(d Data) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.portalID = d.PortalID
	if s.portalID == 0 {
		s.portalID = 62515
	}
	s.nextID = 1000
	s.owners = append([]Owner(nil), d.Owners...)
	s.pipelines = nil
	for _, p := range d.Pipelines {
		p.Stages = append([]Stage(nil), p.Stages...)
		s.pipelines = append(s.pipelines, p)
	}
	s.records = map[string]*record{}
	for _, r := range d.Records {
		s.put(r.Type, r.ID, r.Props, time.Time{})
	}
	s.links = append([]Link(nil), d.Links...)
	s.subs, s.deliveries = nil, nil
}

// put stores a record (a copy of props) with the calculated properties.
// Callers hold s.mu.
func (s *Server) put(typ, id string, props map[string]string, now time.Time) *record {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n >= s.nextID {
		s.nextID = n + 1
	}
	r := &record{Record: Record{ID: id, Type: typ, Props: map[string]string{}}, created: now, updated: now, indexed: now}
	if !now.IsZero() {
		r.indexed = now.Add(s.searchLag)
	}
	for k, v := range props {
		r.Props[k] = v
	}
	s.calculate(r)
	s.records[typ+"/"+id] = r
	return r
}

// calculate sets the read-only properties: hs_object_id, createdate,
// lastmodifieddate, and for contacts the searchable digits of phone and
// mobilephone. Callers hold s.mu.
func (s *Server) calculate(r *record) {
	r.Props["hs_object_id"] = r.ID
	if !r.created.IsZero() {
		r.Props["createdate"] = r.created.UTC().Format(time.RFC3339Nano)
		r.Props["lastmodifieddate"] = r.updated.UTC().Format(time.RFC3339Nano)
	}
	if r.Type == "contacts" {
		r.Props["hs_searchable_calculated_phone_number"] = searchableDigits(r.Props["phone"])
		r.Props["hs_searchable_calculated_mobile_number"] = searchableDigits(r.Props["mobilephone"])
	}
}

// searchableDigits is the fake's calculation of the searchable phone
// properties: the number's digits, without the country code when the
// number starts with "+" (one digit for +1 and +7, two for the common
// two-digit codes, else three). The reference names the properties but
// not the rule; this one is the fake's choice.
func searchableDigits(raw string) string {
	var b strings.Builder
	for _, r := range raw {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if !strings.HasPrefix(strings.TrimSpace(raw), "+") || len(d) < 8 {
		return d
	}
	switch {
	case d[0] == '1' || d[0] == '7':
		return d[1:]
	case twoDigitCodes[d[:2]]:
		return d[2:]
	}
	return d[3:]
}

var twoDigitCodes = map[string]bool{}

func init() {
	for _, c := range strings.Fields("20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98") {
		twoDigitCodes[c] = true
	}
}

// newID hands out the next record id. Callers hold s.mu.
func (s *Server) newID() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// apiError is a refusal: an HTTP status and HubSpot's error body.
type apiError struct {
	status   int
	category string
	message  string
	policy   string
	header   http.Header
}

func (e *apiError) Error() string { return e.category + ": " + e.message }

func validation(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, category: "VALIDATION_ERROR", message: msg}
}

func notFound(typ, id string) *apiError {
	return &apiError{status: http.StatusNotFound, category: "OBJECT_NOT_FOUND",
		message: fmt.Sprintf("resource not found: no %s with id %s", strings.TrimSuffix(typ, "s"), id)}
}

func correlationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError sends {"status":"error","message","correlationId",
// "category"} (with "errorType":"RATE_LIMIT" and "policyName" for a
// 429).
func writeError(w http.ResponseWriter, e *apiError) {
	for k, vs := range e.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := map[string]any{"status": "error", "message": e.message, "correlationId": correlationID()}
	if e.category != "" {
		body["category"] = e.category
	}
	if e.policy != "" {
		body["errorType"] = "RATE_LIMIT"
		body["policyName"] = e.policy
	}
	writeJSON(w, e.status, body)
}

// rateLimit is a 429 of policy.
func rateLimit(policy string) *apiError {
	msg := "You have reached your " + strings.ToLower(policy) + " limit."
	return &apiError{status: http.StatusTooManyRequests, category: "RATE_LIMITS", message: msg, policy: policy}
}

// ServeHTTP answers one API request: it counts it, applies an injected
// fault, checks the token, then the limits, then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	op := r.Method + " " + r.URL.Path
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, validation("could not read the request"))
		return
	}
	f := s.takeFault(op)
	if f != nil && f.Delay > 0 {
		// A slow account still does the work: the request is served after
		// the delay even if the client gave up, as a real one would.
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
	if f != nil && f.Status != 0 {
		writeFault(w, f)
		return
	}
	if e := s.authorize(r.Header.Get("Authorization")); e != nil {
		writeError(w, e)
		return
	}
	search := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search")
	if e := s.admit(time.Now(), search, w.Header()); e != nil {
		writeError(w, e)
		return
	}
	status, v, e := s.route(r, body)
	if f != nil && f.DropAfterCommit {
		dropConnection(w)
		return
	}
	if e != nil {
		writeError(w, e)
		return
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

// authorize checks "Authorization: Bearer <token>": a wrong, missing or
// revoked token is 401 INVALID_AUTHENTICATION; with missing scopes every
// call is 403 MISSING_SCOPES.
func (s *Server) authorize(h string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || s.revoked || tok != s.token {
		return &apiError{status: http.StatusUnauthorized, category: "INVALID_AUTHENTICATION",
			message: "Authentication credentials not found. This API supports OAuth 2.0 authentication."}
	}
	if s.missingScopes {
		return &apiError{status: http.StatusForbidden, category: "MISSING_SCOPES",
			message: "This app hasn't been granted all required scopes to make this call."}
	}
	return nil
}

// admit applies the daily limit, the rolling window and, for a search,
// the search limit; an admitted request counts against each. It sets the
// X-HubSpot-RateLimit-* headers of the window (not on searches, whose
// answers carry none).
func (s *Server) admit(now time.Time, search bool, h http.Header) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.daily > 0 && s.dailyUsed >= s.daily {
		return rateLimit("DAILY")
	}
	if s.burst > 0 {
		s.admitted = trim(s.admitted, now.Add(-s.window))
		if len(s.admitted) >= s.burst {
			e := rateLimit("TEN_SECONDLY_ROLLING")
			e.header = http.Header{}
			e.header.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.window.Milliseconds(), 10))
			e.header.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.burst))
			e.header.Set("X-HubSpot-RateLimit-Remaining", "0")
			return e
		}
	}
	if search && s.searchPS > 0 {
		s.searched = trim(s.searched, now.Add(-time.Second))
		if len(s.searched) >= s.searchPS {
			// The search limit's 429 body is not documented; the fake
			// names its policy SECONDLY.
			e := rateLimit("SECONDLY")
			e.header = http.Header{}
			e.header.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "1000")
			return e
		}
		s.searched = append(s.searched, now)
	}
	if s.burst > 0 {
		s.admitted = append(s.admitted, now)
		if !search {
			h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.window.Milliseconds(), 10))
			h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.burst))
			h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(s.burst-len(s.admitted)))
		}
	}
	s.dailyUsed++
	return nil
}

// trim drops the times before from.
func trim(ts []time.Time, from time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(from) {
		i++
	}
	return append(ts[:0], ts[i:]...)
}

// RevokeToken makes every later call answer 401, as when the private
// app's token is rotated or the app deleted.
func (s *Server) RevokeToken() {
	s.mu.Lock()
	s.revoked = true
	s.mu.Unlock()
}

// SetToken makes token the accepted one (and lifts a revocation).
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	s.token, s.revoked = token, false
	s.mu.Unlock()
}

// SetMissingScopes makes every call answer 403 MISSING_SCOPES (on), or
// lifts it.
func (s *Server) SetMissingScopes(on bool) {
	s.mu.Lock()
	s.missingScopes = on
	s.mu.Unlock()
}

// SetBurst changes the rolling window (see WithBurst) and empties it.
func (s *Server) SetBurst(n int, window time.Duration) {
	s.mu.Lock()
	s.burst, s.window, s.admitted = n, window, nil
	s.mu.Unlock()
}

// SetSearchLimit changes the search limit (see WithSearchLimit).
func (s *Server) SetSearchLimit(perSecond int) {
	s.mu.Lock()
	s.searchPS, s.searched = perSecond, nil
	s.mu.Unlock()
}

// RequestCount is how many requests reached the fake, refused ones
// included.
func (s *Server) RequestCount() int64 { return s.requests.Load() }

// Calls lists the requests served so far ("POST /crm/v3/objects/deals"),
// in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
