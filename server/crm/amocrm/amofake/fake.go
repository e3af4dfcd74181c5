package amofake

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultToken is the bearer token a fake accepts unless WithToken says
// otherwise.
const DefaultToken = "amofake-token"

// DefaultRate is the fake account's limit in requests per second: the
// CRM's documented 7 (https://developers.kommo.com/docs/limitations).
const DefaultRate = 7

// Server is a fake amoCRM account. It is an http.Handler; Start also
// serves it on a local port.
type Server struct {
	// URL is the base URL when started with Start ("http://127.0.0.1:port").
	URL string

	ts       *httptest.Server
	mux      *http.ServeMux
	requests atomic.Int64
	hooks    *http.Client

	mu         sync.Mutex
	token      string
	expired    bool
	limiter    *rate.Limiter
	json429    bool
	apiHooks   bool
	faults     []*Fault
	accountID  int64
	subdomain  string
	nextID     int64
	users      []User
	pipelines  []Pipeline
	contacts   map[int64]*Contact
	leads      map[int64]*Lead
	notes      []*Note
	webhooks   []*Webhook
	deliveries []Delivery
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the bearer token the fake accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithRateLimit sets the account's limit in requests per second (burst
// the same); 0 turns limiting off.
func WithRateLimit(perSecond int) Option {
	return func(s *Server) {
		if perSecond <= 0 {
			s.limiter = nil
			return
		}
		s.limiter = rate.NewLimiter(rate.Limit(perSecond), perSecond)
	}
}

// WithJSON429 makes rate-limit answers problem+json instead of plain text.
func WithJSON429() Option { return func(s *Server) { s.json429 = true } }

// WithAPIWebhooks makes changes made through the API (PATCH of a lead or
// a contact, bulk PATCH of leads) send webhooks too, in the background, as
// changes made by a CRM user do: a connector then sees its own writes come
// back. Off by default, so tests see only the changes they make with
// MoveLead and the like.
func WithAPIWebhooks() Option { return func(s *Server) { s.apiHooks = true } }

// WithData replaces the Seed data the fake starts with.
func WithData(d Data) Option { return func(s *Server) { s.load(d) } }

// New returns a fake account holding Seed() data, not yet listening.
func New(opts ...Option) *Server {
	s := &Server{
		token:   DefaultToken,
		limiter: rate.NewLimiter(DefaultRate, DefaultRate),
		hooks:   &http.Client{Timeout: 10 * time.Second},
	}
	s.load(Seed())
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

// Serve runs a fake account with Seed data on addr (e.g. "127.0.0.1:8091"),
// accepting token, until ctx ends.
func Serve(ctx context.Context, addr, token string) error {
	opts := []Option{}
	if token != "" {
		opts = append(opts, WithToken(token))
	}
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

// load replaces the state with d, completing each pipeline's system
// statuses.
func (s *Server) load(d Data) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accountID, s.subdomain = d.AccountID, d.Subdomain
	if s.accountID == 0 {
		s.accountID = 31000001
	}
	if s.subdomain == "" {
		s.subdomain = "switchboard-demo"
	}
	s.nextID = 10_000_000
	s.users = append([]User(nil), d.Users...)
	s.pipelines = nil
	for _, p := range d.Pipelines {
		p.Statuses = completeStatuses(p.Statuses, s.id)
		s.pipelines = append(s.pipelines, p)
	}
	s.contacts = map[int64]*Contact{}
	for _, c := range d.Contacts {
		c := c
		c.Phones = append([]Phone(nil), c.Phones...)
		if c.CreatedAt == 0 {
			c.CreatedAt, c.UpdatedAt = now(), now()
		}
		s.contacts[c.ID] = &c
		s.bump(c.ID)
	}
	s.leads = map[int64]*Lead{}
	for _, l := range d.Leads {
		l := l
		l.ContactIDs = append([]int64(nil), l.ContactIDs...)
		if l.CreatedAt == 0 {
			l.CreatedAt, l.UpdatedAt = now(), now()
		}
		s.leads[l.ID] = &l
		s.bump(l.ID)
	}
	s.notes, s.webhooks, s.deliveries = nil, nil, nil
}

func (s *Server) bump(id int64) {
	if id >= s.nextID {
		s.nextID = id + 1
	}
}

// completeStatuses adds what every pipeline has and a seed may omit.
func completeStatuses(st []Status, newID func() int64) []Status {
	out := append([]Status(nil), st...)
	has := func(pred func(Status) bool) bool {
		for _, x := range out {
			if pred(x) {
				return true
			}
		}
		return false
	}
	if !has(func(x Status) bool { return x.Type == 1 }) {
		out = append([]Status{{ID: newID(), Name: "Incoming leads", Sort: 0, Type: 1, Color: "#c1c1c1"}}, out...)
	}
	if !has(func(x Status) bool { return x.ID == StatusWon }) {
		out = append(out, Status{ID: StatusWon, Name: "Closed - won", Sort: 10000, Color: "#ccff66"})
	}
	if !has(func(x Status) bool { return x.ID == StatusLost }) {
		out = append(out, Status{ID: StatusLost, Name: "Closed - lost", Sort: 11000, Color: "#d5d8db"})
	}
	return out
}

// id hands out the next entity id. Callers hold s.mu.
func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// ServeHTTP answers one API request: it counts it, applies an injected
// fault, then the rate limit, then the token check, then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	f := s.takeFault(r)
	if f != nil && f.Delay > 0 {
		// A slow CRM still does the work: the request is served after the
		// delay even when the client has given up, as a real one would.
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if f != nil && f.Status != 0 {
		s.writeFault(w, f)
		return
	}
	if !s.allow() {
		s.writeRateLimited(w, s.json429Enabled(), "1")
		return
	}
	if !s.authorized(r) {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "Authorization failed", nil)
		return
	}
	if f != nil && f.DropAfterCommit {
		s.mux.ServeHTTP(httptest.NewRecorder(), r)
		dropConnection(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// dropConnection closes the client's connection without an answer. Where
// the connection cannot be taken over (HTTP/2), aborting the handler
// resets the stream instead.
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

func (s *Server) json429Enabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.json429
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok && !s.expired && tok == s.token
}

// ExpireToken makes every later call answer 401, as when a long-lived
// token expires or is revoked.
func (s *Server) ExpireToken() {
	s.mu.Lock()
	s.expired = true
	s.mu.Unlock()
}

// SetToken makes token the accepted one (and lifts an expiry), as after
// a new token is issued.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	s.token, s.expired = token, false
	s.mu.Unlock()
}

// SetRateLimit changes the account's limit (requests per second, burst the
// same; 0 turns it off) and whether its 429s are JSON.
func (s *Server) SetRateLimit(perSecond int, json429 bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.json429 = json429
	if perSecond <= 0 {
		s.limiter = nil
		return
	}
	s.limiter = rate.NewLimiter(rate.Limit(perSecond), perSecond)
}

// RequestCount is how many requests reached the fake, refused ones included.
func (s *Server) RequestCount() int64 { return s.requests.Load() }

// writeRateLimited answers 429. The CRM's 429 body is not documented to
// be JSON, so by default it is plain text.
func (s *Server) writeRateLimited(w http.ResponseWriter, asJSON bool, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	if asJSON {
		writeProblem(w, http.StatusTooManyRequests, "Too Many Requests", "Too many requests: slow down", nil)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprintln(w, "Too Many Requests")
}

// writeHAL answers a success.
func writeHAL(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/hal+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem answers an error as problem+json; extra adds members such
// as "validation-errors".
func writeProblem(w http.ResponseWriter, status int, title, detail string, extra map[string]any) {
	body := map[string]any{
		"title":  title,
		"type":   fmt.Sprintf("https://httpstatus.es/%d", status),
		"status": status,
		"detail": detail,
	}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// noContent answers 204 with an empty body: the CRM's "nothing found".
func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }
