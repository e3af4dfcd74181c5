package pdfake

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultToken is the API token a fake accepts unless WithToken says
// otherwise.
const DefaultToken = "pdfake0123456789abcdef0123456789abcdef01"

// The limits a fake enforces unless told otherwise: the lowest plan's
// api_token window, the search endpoints' window, and the daily budget of
// POST/PUT requests (pipedrive.readme.io docs/core-api-concepts-rate-limiting;
// developers.pipedrive.com changelog "Daily API limit for POST/PUT
// endpoints").
const (
	Window             = 2 * time.Second
	DefaultWindowLimit = 20
	DefaultSearchLimit = 10
	DefaultDailyBudget = 10000
)

const maxBody = 8 << 20

// Server is a fake Pipedrive account. It is an http.Handler; Start also
// serves it on a local port.
type Server struct {
	// URL is the account's base URL when started with Start
	// ("http://127.0.0.1:port").
	URL string

	ts       *httptest.Server
	requests atomic.Int64
	hooks    *http.Client
	now      func() time.Time

	mu          sync.Mutex
	token       string
	revoked     bool
	windowLimit int
	searchLimit int
	windowAt    time.Time
	windowUsed  int
	searchUsed  int
	dailyBudget int
	dailyUsed   int
	searchLag   time.Duration
	day         string
	faults      []*Fault
	calls       []string
	company     string
	nextID      int64
	users       []User
	pipelines   []Pipeline
	stages      []Stage
	persons     map[int64]*Person
	deals       map[int64]*Deal
	notes       []*Note
	subs        []Subscription
	deliveries  []Delivery
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the API token the fake accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithWindowLimit sets how many requests a 2-second window takes (0: no
// limit) and how many of them may be searches (0: no own limit).
func WithWindowLimit(requests, searches int) Option {
	return func(s *Server) { s.windowLimit, s.searchLimit = requests, searches }
}

// WithDailyBudget sets the daily budget of writes (0: none).
func WithDailyBudget(n int) Option { return func(s *Server) { s.dailyBudget = n } }

// WithSearchLag makes persons and deals made through the API show in
// search results only after d, as a search index trailing the writes
// would (how far Pipedrive's trails is not documented; 0 by default).
func WithSearchLag(d time.Duration) Option { return func(s *Server) { s.searchLag = d } }

// SetSearchLag changes the search lag (see WithSearchLag).
func (s *Server) SetSearchLag(d time.Duration) {
	s.mu.Lock()
	s.searchLag = d
	s.mu.Unlock()
}

// WithData replaces the Seed data the fake starts with.
func WithData(d Data) Option { return func(s *Server) { s.load(d) } }

// WithClock makes the fake read the time from now (for the daily reset).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New returns a fake holding Seed() data, not yet listening.
func New(opts ...Option) *Server {
	s := &Server{
		token: DefaultToken, windowLimit: DefaultWindowLimit, searchLimit: DefaultSearchLimit,
		dailyBudget: DefaultDailyBudget, hooks: &http.Client{Timeout: 10 * time.Second}, now: time.Now,
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

// Serve runs a fake with Seed data on addr (e.g. "127.0.0.1:8093") until
// ctx ends.
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

// Token is the API token the fake accepts.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// load replaces the state with d.
func (s *Server) load(d Data) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.company = d.Company
	if s.company == "" {
		s.company = "switchboard-demo"
	}
	s.nextID = 100
	s.users = append([]User(nil), d.Users...)
	s.pipelines = append([]Pipeline(nil), d.Pipelines...)
	s.stages = append([]Stage(nil), d.Stages...)
	s.persons = map[int64]*Person{}
	for _, p := range d.Persons {
		p.Phones = append([]Phone(nil), p.Phones...)
		s.persons[p.ID] = &p
		s.bump(p.ID)
	}
	s.deals = map[int64]*Deal{}
	for _, dl := range d.Deals {
		s.deals[dl.ID] = &dl
		s.bump(dl.ID)
	}
	for _, p := range s.pipelines {
		s.bump(p.ID)
	}
	for _, st := range s.stages {
		s.bump(st.ID)
	}
	s.notes, s.subs, s.deliveries = nil, nil, nil
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

// apiError is a refusal: an HTTP status and Pipedrive's error body.
type apiError struct {
	status int
	msg    string
	code   string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(msg string) *apiError { return &apiError{status: http.StatusBadRequest, msg: msg} }

func notFound(what string) *apiError {
	return &apiError{status: http.StatusNotFound, msg: what + " not found"}
}

// answer is a success: data and additional_data (nil: none).
type answer struct {
	status     int
	data       any
	additional any
}

// idSegment finds the numeric segments of a path, for route names.
var idSegment = regexp.MustCompile(`/[0-9]+(/|$)`)

// Route names a request as faults match it: the method and the path with
// its numeric segments as {id} ("PATCH /api/v2/deals/{id}").
func Route(method, path string) string {
	return method + " " + idSegment.ReplaceAllString(path, "/{id}$1")
}

// ServeHTTP answers one API call: it counts it, applies an injected fault,
// then checks the token, the 2-second window and the daily budget (in
// that order: which Pipedrive checks first is not documented), then
// serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	route := Route(r.Method, r.URL.Path)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, badRequest("could not read the request"))
		return
	}
	f := s.takeFault(route)
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
		s.writeFault(w, f)
		return
	}
	if e := s.authorize(r); e != nil {
		writeError(w, e)
		return
	}
	write := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
	if !s.admit(w.Header(), strings.HasSuffix(r.URL.Path, "/search"), write) {
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"success": false, "error": "Request over limit",
			"errorCode": http.StatusTooManyRequests, "error_info": "Please check developers.pipedrive.com for more information about Pipedrive API.", "data": nil, "additional_data": nil})
		return
	}
	a, aerr := s.serve(r, route, body)
	if f != nil && f.DropAfterCommit {
		dropConnection(w)
		return
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	out := map[string]any{"success": true, "data": a.data}
	if a.additional != nil {
		out["additional_data"] = a.additional
	}
	writeJSON(w, cmpOr(a.status, http.StatusOK), out)
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// authorize checks the x-api-token header (else the api_token query
// parameter). A wrong or revoked token is 401.
func (s *Server) authorize(r *http.Request) *apiError {
	tok := r.Header.Get("x-api-token")
	if tok == "" {
		tok = r.URL.Query().Get("api_token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked || tok == "" || tok != s.token {
		return &apiError{status: http.StatusUnauthorized, msg: "unauthorized access"}
	}
	return nil
}

// admit runs the fixed 2-second window and the daily budget, setting the
// rate-limit headers on h; false means 429 (the headers say which).
func (s *Server) admit(h http.Header, search, write bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.windowAt.IsZero() || now.Sub(s.windowAt) >= Window {
		s.windowAt, s.windowUsed, s.searchUsed = now, 0, 0
	}
	reset := int(math.Ceil((Window - now.Sub(s.windowAt)).Seconds()))
	if day := now.UTC().Format(time.DateOnly); day != s.day {
		s.day, s.dailyUsed = day, 0
	}
	if s.dailyBudget > 0 {
		h.Set("x-daily-requests-left", strconv.Itoa(max(0, s.dailyBudget-s.dailyUsed)))
	}
	if s.windowLimit > 0 {
		h.Set("x-ratelimit-limit", strconv.Itoa(s.windowLimit))
		h.Set("x-ratelimit-reset", strconv.Itoa(reset))
		if s.windowUsed >= s.windowLimit || search && s.searchLimit > 0 && s.searchUsed >= s.searchLimit {
			h.Set("x-ratelimit-remaining", "0")
			h.Set("Retry-After", strconv.Itoa(reset))
			return false
		}
	}
	if write && s.dailyBudget > 0 && s.dailyUsed >= s.dailyBudget {
		u := now.UTC()
		midnight := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(midnight.Sub(u).Seconds()))))
		return false
	}
	s.windowUsed++
	if search {
		s.searchUsed++
	}
	if s.windowLimit > 0 {
		h.Set("x-ratelimit-remaining", strconv.Itoa(s.windowLimit-s.windowUsed))
	}
	if write && s.dailyBudget > 0 {
		s.dailyUsed++
		h.Set("x-daily-requests-left", strconv.Itoa(s.dailyBudget-s.dailyUsed))
	}
	return true
}

// RevokeToken makes every later call answer 401, as when the token is
// regenerated or its user deactivated.
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

// SetWindowLimit changes the 2-second window (see WithWindowLimit) and
// starts a new one.
func (s *Server) SetWindowLimit(requests, searches int) {
	s.mu.Lock()
	s.windowLimit, s.searchLimit, s.windowAt = requests, searches, time.Time{}
	s.mu.Unlock()
}

// SetDailyBudget changes the daily budget of writes and how much of it is
// used today.
func (s *Server) SetDailyBudget(budget, used int) {
	s.mu.Lock()
	s.dailyBudget, s.dailyUsed, s.day = budget, used, s.now().UTC().Format(time.DateOnly)
	s.mu.Unlock()
}

// RequestCount is how many requests reached the fake, refused ones
// included.
func (s *Server) RequestCount() int64 { return s.requests.Load() }

// Calls lists the routes served so far, in order (the latest 10,000 at
// most).
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// record notes a served route. Callers hold s.mu.
func (s *Server) record(route string) {
	if len(s.calls) >= 10000 {
		s.calls = s.calls[1:]
	}
	s.calls = append(s.calls, route)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"success": false, "error": e.msg, "errorCode": e.status,
		"error_info": "Please check developers.pipedrive.com for more information about Pipedrive API.",
		"data":       nil, "additional_data": nil}
	if e.code != "" {
		body["code"] = e.code
	}
	writeJSON(w, e.status, body)
}
