package pdfake

import (
	"net/http"
	"strings"
	"time"
)

// Fault changes how the fake answers the next matching requests. Faults
// are consumed in the order they were injected; a request takes the first
// one that matches it.
type Fault struct {
	// Route selects requests by Route ("POST /api/v2/deals",
	// "PATCH /api/v2/persons/{id}"); a route without a method
	// ("/api/v2/deals") matches any method. Empty matches any request.
	Route string
	// Times is how many matching requests the fault affects (1 when 0).
	Times int

	// Status answers the request with this status instead of serving it
	// (nothing is written), with Pipedrive's body for it: 429 with the
	// rate-limit headers (the daily budget's when Daily), 401, 403, 404,
	// 400, 500; 502 and 504 an HTML page, as a proxy in front would send.
	Status int
	// Message overrides the body's "error".
	Message string
	// RetryAfter is sent as the Retry-After header ("2"); for a 429 it
	// defaults to "2" (the window's length), to the seconds until midnight
	// UTC when Daily.
	RetryAfter string
	// Daily makes a 429 the daily budget's (x-daily-requests-left: 0).
	Daily bool

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

// FailNext makes the next n requests of route (any, when "") answer
// status.
func (s *Server) FailNext(route string, n, status int) {
	s.Inject(Fault{Route: route, Times: n, Status: status})
}

func (f *Fault) matches(route string) bool {
	switch {
	case f.Route == "":
		return true
	case strings.HasPrefix(f.Route, "/"):
		_, path, _ := strings.Cut(route, " ")
		return path == f.Route
	}
	return f.Route == route
}

// takeFault returns a copy of the first fault matching the request and
// uses one of its times.
func (s *Server) takeFault(route string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.matches(route) {
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

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	h := w.Header()
	e := &apiError{status: f.Status}
	switch f.Status {
	case http.StatusTooManyRequests:
		e.msg = "Request over limit"
		s.mu.Lock()
		limit, now := s.windowLimit, s.now()
		s.mu.Unlock()
		wait := "2"
		if f.Daily {
			u := now.UTC()
			midnight := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
			wait = itoa(int(midnight.Sub(u).Seconds()) + 1)
			h.Set("x-daily-requests-left", "0")
		}
		if f.RetryAfter != "" {
			wait = f.RetryAfter
		}
		h.Set("Retry-After", wait)
		h.Set("x-ratelimit-limit", itoa(max(limit, DefaultWindowLimit)))
		h.Set("x-ratelimit-remaining", "0")
		h.Set("x-ratelimit-reset", "2")
	case http.StatusUnauthorized:
		e.msg = "unauthorized access"
	case http.StatusForbidden:
		e.msg = "You do not have permissions to perform this action"
	case http.StatusNotFound:
		e.msg = "Not found"
	case http.StatusBadRequest:
		e.msg = "Injected fault"
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		if f.Message == "" {
			h.Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(f.Status) + "</title></head><body><h1>" +
				http.StatusText(f.Status) + "</h1></body></html>\n"))
			return
		}
	default:
		e.msg = "Internal server error"
	}
	if f.RetryAfter != "" && f.Status != http.StatusTooManyRequests {
		h.Set("Retry-After", f.RetryAfter)
	}
	if f.Message != "" {
		e.msg = f.Message
	}
	writeError(w, e)
}
