package bxfake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The webhook a fake accepts unless WithWebhook says otherwise: the
// credential "{user}/{secret}" of https://{portal}/rest/1/bxfakesecret0001/.
const (
	DefaultUserID = 1
	DefaultSecret = "bxfakesecret0001"
	// DefaultCredential is DefaultUserID/DefaultSecret.
	DefaultCredential = "1/bxfakesecret0001"
	// DefaultApplicationToken is what outgoing events carry in
	// auth[application_token] unless WithApplicationToken says otherwise.
	DefaultApplicationToken = "bxfake-application-token-1"
)

// The portal's leaky bucket on most plans: 2 requests a second drained,
// 50 held (apidocs.bitrix24.com settings/performance/limits.html).
const (
	DefaultDrain = 2
	DefaultBurst = 50
)

// pageSize is every list method's fixed page.
const pageSize = 50

const maxBody = 8 << 20

// Server is a fake Bitrix24 portal. It is an http.Handler; Start also
// serves it on a local port.
type Server struct {
	// URL is the portal's base URL when started with Start
	// ("http://127.0.0.1:port").
	URL string

	ts       *httptest.Server
	requests atomic.Int64
	hooks    *http.Client

	mu          sync.Mutex
	userID      int64
	secret      string
	revoked     bool
	appToken    string
	apiEvents   bool
	hideDefault bool
	drain       float64
	burst       float64
	level       float64
	levelAt     time.Time
	faults      []*Fault
	calls       []string
	domain      string
	memberID    string
	nextID      int64
	users       []User
	categories  []Category
	contacts    map[int64]*Contact
	deals       map[int64]*Deal
	comments    []*Comment
	handlers    []handler
	deliveries  []Delivery
}

// Option configures a Server.
type Option func(*Server)

// WithWebhook sets the incoming webhook's user id and secret.
func WithWebhook(userID int64, secret string) Option {
	return func(s *Server) { s.userID, s.secret = userID, secret }
}

// WithApplicationToken sets the token outgoing events carry.
func WithApplicationToken(token string) Option { return func(s *Server) { s.appToken = token } }

// WithBucket sets the leaky bucket: drained perSecond, holding burst
// (5 and 250 on Enterprise plans); perSecond ≤ 0 turns it off.
func WithBucket(perSecond float64, burst int) Option {
	return func(s *Server) { s.drain, s.burst = perSecond, float64(burst) }
}

// WithHiddenDefaultCategory makes crm.category.list leave out the default
// pipeline (id 0), which the portal still has: deals land in it and
// crm.status.list DEAL_STAGE lists its stages. Whether a portal lists it
// is not pinned down by the reference; clients must cope with both.
func WithHiddenDefaultCategory() Option { return func(s *Server) { s.hideDefault = true } }

// WithAPIEvents makes changes made through the REST API send their
// outgoing events too (in the background), as the portal does; off by
// default, so tests see only the events of MoveDeal and the like.
func WithAPIEvents() Option { return func(s *Server) { s.apiEvents = true } }

// WithData replaces the Seed data the fake starts with.
func WithData(d Data) Option { return func(s *Server) { s.load(d) } }

// New returns a fake portal holding Seed() data, not yet listening.
func New(opts ...Option) *Server {
	s := &Server{
		userID: DefaultUserID, secret: DefaultSecret, appToken: DefaultApplicationToken,
		drain: DefaultDrain, burst: DefaultBurst,
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

// WebhookURL is the incoming webhook's URL, as the portal shows it.
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%s/rest/%d/%s/", s.URL, s.userID, s.secret)
}

// Credential is the webhook's "{user}/{secret}".
func (s *Server) Credential() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%d/%s", s.userID, s.secret)
}

// Serve runs a fake portal with Seed data on addr (e.g. "127.0.0.1:8092")
// until ctx ends.
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

// load replaces the state with d; category 0 is added when d lacks it.
func (s *Server) load(d Data) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domain, s.memberID = d.Domain, d.MemberID
	if s.domain == "" {
		s.domain = "switchboard-demo.bitrix24.ru"
	}
	if s.memberID == "" {
		s.memberID = "a223c6b3710f85df22e9377d6c4f7553"
	}
	s.nextID = 100
	s.users = append([]User(nil), d.Users...)
	s.categories = nil
	hasZero := false
	for _, c := range d.Categories {
		c.Stages = append([]Stage(nil), c.Stages...)
		s.categories = append(s.categories, c)
		hasZero = hasZero || c.ID == 0
		s.bump(c.ID)
	}
	if !hasZero {
		s.categories = append([]Category{Seed().Categories[0]}, s.categories...)
	}
	s.contacts = map[int64]*Contact{}
	for _, c := range d.Contacts {
		c.Phones = append([]Phone(nil), c.Phones...)
		for i := range c.Phones {
			if c.Phones[i].ID == 0 {
				c.Phones[i].ID = s.id()
			}
			if c.Phones[i].ValueType == "" {
				c.Phones[i].ValueType = "WORK"
			}
		}
		s.contacts[c.ID] = &c
		s.bump(c.ID)
	}
	s.deals = map[int64]*Deal{}
	for _, dl := range d.Deals {
		dl.ContactIDs = append([]int64(nil), dl.ContactIDs...)
		s.deals[dl.ID] = &dl
		s.bump(dl.ID)
	}
	s.comments, s.handlers, s.deliveries = nil, nil, nil
}

func (s *Server) bump(id int64) {
	if id >= s.nextID {
		s.nextID = id + 1
	}
}

// id hands out the next record id. Callers hold s.mu.
func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// apiError is a refusal: an HTTP status and the portal's error body.
type apiError struct {
	status      int
	code, descr string
}

func (e *apiError) Error() string { return e.code + ": " + e.descr }

// methodError is a method's own refusal: HTTP 400, often with an empty
// code.
func methodError(code, descr string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, descr: descr}
}

var errNotFound = methodError("", "Not found")

// answer is a method's success: the result and, for lists, paging.
type answer struct {
	result any
	next   int // 0: none
	total  int // -1: none
}

func one(v any) answer { return answer{result: v, total: -1} }

// ServeHTTP answers one REST call, POST or GET to
// /rest/{user}/{secret}/{method}[.json]: it counts it, applies an
// injected fault, then the leaky bucket, then the webhook check, then
// serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	started := time.Now()
	user, secret, method, ok := splitPath(r.URL.Path)
	if !ok {
		writeError(w, &apiError{http.StatusNotFound, "ERROR_METHOD_NOT_FOUND", "Method not found!"}, started)
		return
	}
	p, raw, err := readParams(r)
	if err != nil {
		writeError(w, methodError("INVALID_REQUEST", "Could not read the request: "+err.Error()), started)
		return
	}
	f := s.takeFault(method, batchMethods(method, p))
	if f != nil && f.Delay > 0 {
		// A slow portal still does the work: the request is served after
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
		writeFault(w, f, started)
		return
	}
	if !s.admit(time.Now()) {
		writeError(w, &apiError{http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED", "Too many requests"}, started)
		return
	}
	if e := s.authorize(user, secret); e != nil {
		writeError(w, e, started)
		return
	}
	var a answer
	var aerr *apiError
	if method == "batch" {
		a, aerr = s.batch(p, cmdOrder(raw))
	} else {
		a, aerr = s.call(method, p)
	}
	if f != nil && f.DropAfterCommit {
		dropConnection(w)
		return
	}
	if aerr != nil {
		writeError(w, aerr, started)
		return
	}
	writeAnswer(w, a, started)
}

// splitPath reads /rest/{user}/{secret}/{method}[.json].
func splitPath(path string) (user, secret, method string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/rest/")
	if !ok {
		return "", "", "", false
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) != 3 || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], strings.ToLower(strings.TrimSuffix(parts[2], ".json")), true
}

// readParams reads a JSON body, a form body or the query string, and
// returns the JSON body too (for the order of a batch's commands).
func readParams(r *http.Request) (params, []byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, nil, err
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		p, err := parseJSON(b)
		return p, b, err
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		q, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, nil, err
		}
		p, err := parseQuery(q)
		return p, nil, err
	}
	p, err := parseQuery(r.URL.Query())
	return p, nil, err
}

// admit runs the leaky bucket: the level drains by s.drain a second and
// each request adds one; a request that would pass the burst is refused.
func (s *Server) admit(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drain <= 0 {
		return true
	}
	if !s.levelAt.IsZero() {
		s.level = max(0, s.level-now.Sub(s.levelAt).Seconds()*s.drain)
	}
	s.levelAt = now
	if s.level+1 > s.burst {
		return false
	}
	s.level++
	return true
}

// authorize checks the webhook in the path. A wrong or revoked one is 401
// INVALID_CREDENTIALS (the reference lists NO_AUTH_FOUND and
// INVALID_CREDENTIALS for a wrong webhook; the fake sends the latter).
func (s *Server) authorize(user, secret string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked || user != fmt.Sprint(s.userID) || secret != s.secret {
		return &apiError{http.StatusUnauthorized, "INVALID_CREDENTIALS", "Invalid request credentials"}
	}
	return nil
}

// RevokeWebhook makes every later call answer 401, as when the webhook is
// deleted or its user dismissed.
func (s *Server) RevokeWebhook() {
	s.mu.Lock()
	s.revoked = true
	s.mu.Unlock()
}

// SetWebhook makes userID/secret the accepted webhook (and lifts a
// revocation).
func (s *Server) SetWebhook(userID int64, secret string) {
	s.mu.Lock()
	s.userID, s.secret, s.revoked = userID, secret, false
	s.mu.Unlock()
}

// SetBucket changes the leaky bucket (see WithBucket) and empties it.
func (s *Server) SetBucket(perSecond float64, burst int) {
	s.mu.Lock()
	s.drain, s.burst, s.level, s.levelAt = perSecond, float64(burst), 0, time.Time{}
	s.mu.Unlock()
}

// RequestCount is how many requests reached the fake, refused ones
// included.
func (s *Server) RequestCount() int64 { return s.requests.Load() }

// Calls lists the methods served so far, in order (the latest 10,000 at
// most); a batch's commands follow it as "batch:method".
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

// timing is the "time" block every answer carries.
func timing(started time.Time) map[string]any {
	fin := time.Now()
	ts := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
	return map[string]any{
		"start": ts(started), "finish": ts(fin), "duration": fin.Sub(started).Seconds(),
		"processing": fin.Sub(started).Seconds(), "date_start": started.Format(time.RFC3339),
		"date_finish": fin.Format(time.RFC3339), "operating_reset_at": started.Unix() + 600, "operating": 0,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeAnswer(w http.ResponseWriter, a answer, started time.Time) {
	body := map[string]any{"result": a.result, "time": timing(started)}
	if a.next > 0 {
		body["next"] = a.next
	}
	if a.total >= 0 {
		body["total"] = a.total
	}
	writeJSON(w, http.StatusOK, body)
}

func writeError(w http.ResponseWriter, e *apiError, started time.Time) {
	body := map[string]any{"error": e.code, "error_description": e.descr}
	if e.status == http.StatusTooManyRequests {
		body["time"] = timing(started)
	}
	writeJSON(w, e.status, body)
}
