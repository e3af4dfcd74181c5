package hubfake

import (
	"net/http"
	"strings"
	"time"
)

// Fault changes how the fake answers the next matching requests. Faults
// are consumed in the order they were injected; a request takes the first
// one that matches it.
type Fault struct {
	// Op selects requests by "METHOD /path" ("POST /crm/v3/objects/deals",
	// the creation only); ending in "*" it is a prefix ("GET
	// /crm/v3/objects/*"). Empty matches any request.
	Op string
	// Times is how many matching requests the fault affects (1 when 0).
	Times int

	// Status answers the request with this status instead of serving it
	// (nothing is written). The body is HubSpot's for the status: 429
	// RATE_LIMITS with Policy (TEN_SECONDLY_ROLLING unless set), 401
	// INVALID_AUTHENTICATION, 403 MISSING_SCOPES, 404 OBJECT_NOT_FOUND,
	// 400 VALIDATION_ERROR, 500 an internal error; 502 and 504 an HTML
	// page, as a proxy in front would send. Category and Message override
	// the body's.
	Status            int
	Category, Message string
	Policy            string
	// RetryAfter is sent as the Retry-After header ("2").
	RetryAfter string

	// Delay holds the answer back; the request is then served (or failed
	// with Status), even if the client gave up meanwhile.
	Delay time.Duration
	// Drop closes the connection without serving the request: nothing is
	// written, but the client cannot know.
	Drop bool
	// DropAfterCommit serves the request (its writes are kept) and then
	// closes the connection without an answer: the ambiguous outcome.
	DropAfterCommit bool
}

// Inject adds a fault. It is safe to call while requests are served.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults drops every fault not yet used up.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// FailNext makes the next n requests matching op (any, when "") answer
// status.
func (s *Server) FailNext(op string, n, status int) {
	s.Inject(Fault{Op: op, Times: n, Status: status})
}

// takeFault returns a copy of the first fault matching the request and
// uses one of its times.
func (s *Server) takeFault(op string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Op != "" && !matchOp(op, f.Op) {
			continue
		}
		cp := *f
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return &cp
	}
	return nil
}

// matchOp: the request is the fault's op, or starts with its prefix.
func matchOp(op, want string) bool {
	if p, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(op, p)
	}
	return op == want
}

func writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	e := &apiError{status: f.Status}
	switch f.Status {
	case http.StatusTooManyRequests:
		p := f.Policy
		if p == "" {
			p = "TEN_SECONDLY_ROLLING"
		}
		e = rateLimit(p)
		if p == "TEN_SECONDLY_ROLLING" {
			w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		}
	case http.StatusUnauthorized:
		e.category, e.message = "INVALID_AUTHENTICATION", "Authentication credentials not found."
	case http.StatusForbidden:
		e.category, e.message = "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call."
	case http.StatusNotFound:
		e.category, e.message = "OBJECT_NOT_FOUND", "resource not found"
	case http.StatusBadRequest:
		e.category, e.message = "VALIDATION_ERROR", "Injected fault"
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		if f.Category == "" && f.Message == "" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(f.Status) + "</title></head><body><h1>" +
				http.StatusText(f.Status) + "</h1></body></html>\n"))
			return
		}
	default:
		e.message = "internal error"
	}
	if f.Category != "" {
		e.category = f.Category
	}
	if f.Message != "" {
		e.message = f.Message
	}
	writeError(w, e)
}
