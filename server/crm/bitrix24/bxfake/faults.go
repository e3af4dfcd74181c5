package bxfake

import (
	"net/http"
	"time"
)

// Fault changes how the fake answers the next matching requests. Faults
// are consumed in the order they were injected; a request takes the first
// one that matches it.
type Fault struct {
	// Method selects requests by REST method ("crm.deal.add"); a batch
	// matches when it is "batch" or one of its commands calls Method.
	// Empty matches any request.
	Method string
	// Times is how many matching requests the fault affects (1 when 0).
	Times int

	// Status answers the request with this status instead of serving it
	// (nothing is written). The body is the portal's for the status: 503
	// QUERY_LIMIT_EXCEEDED, 429 OPERATION_TIME_LIMIT, 401
	// INVALID_CREDENTIALS, 500 INTERNAL_SERVER_ERROR, 400 a method error;
	// 502 and 504 an HTML page, as a proxy in front would send. Code and
	// Description override the body's.
	Status            int
	Code, Description string
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

// FailNext makes the next n calls of method (any, when "") answer status.
func (s *Server) FailNext(method string, n, status int) {
	s.Inject(Fault{Method: method, Times: n, Status: status})
}

// takeFault returns a copy of the first fault matching the request and
// uses one of its times.
func (s *Server) takeFault(method string, commands []string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && f.Method != method && !contains(commands, f.Method) {
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

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func writeFault(w http.ResponseWriter, f *Fault, started time.Time) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	e := &apiError{status: f.Status}
	switch f.Status {
	case http.StatusServiceUnavailable:
		e.code, e.descr = "QUERY_LIMIT_EXCEEDED", "Too many requests"
	case http.StatusTooManyRequests:
		e.code, e.descr = "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."
	case http.StatusUnauthorized:
		e.code, e.descr = "INVALID_CREDENTIALS", "Invalid request credentials"
	case http.StatusForbidden:
		e.code, e.descr = "ACCESS_DENIED", "Access denied."
	case http.StatusNotFound:
		e.code, e.descr = "ERROR_METHOD_NOT_FOUND", "Method not found!"
	case http.StatusBadRequest:
		e.code, e.descr = "", "Injected fault"
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		if f.Code == "" && f.Description == "" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(f.Status) + "</title></head><body><h1>" +
				http.StatusText(f.Status) + "</h1></body></html>\n"))
			return
		}
	default:
		e.code, e.descr = "INTERNAL_SERVER_ERROR", "Internal server error"
	}
	if f.Code != "" {
		e.code = f.Code
	}
	if f.Description != "" {
		e.descr = f.Description
	}
	writeError(w, e, started)
}
