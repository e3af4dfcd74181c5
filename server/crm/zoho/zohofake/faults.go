package zohofake

import (
	"net/http"
	"strings"
	"time"
)

// Fault changes how the fake answers the next matching requests. Faults
// are consumed in the order they were injected; a request takes the first
// one that matches it.
type Fault struct {
	// Method ("POST") and PathPrefix ("/crm/v7/Deals") select requests;
	// empty matches any. An empty PathPrefix matches API calls only: the
	// token endpoint is reached with PathPrefix "/oauth".
	Method     string
	PathPrefix string
	// Path, when set, selects the requests to exactly this path.
	Path string
	// Times is how many matching requests the fault affects (1 when 0).
	Times int

	// Status answers the request with this status instead of serving it
	// (nothing is written), with Zoho's error body for it (on the token
	// endpoint {"error": Code or "Access Denied", "error_description"}): 429
	// TOO_MANY_REQUESTS, 401 INVALID_TOKEN, 500 INTERNAL_ERROR, 400
	// INVALID_DATA; Code overrides the body's code. 502–504 are an HTML
	// page, as a proxy in front would send.
	Status int
	Code   string
	// RecordError answers the call, without serving it, with one record
	// refused with this code inside "data" and HTTP Status (200 when 0).
	RecordError string

	// Delay holds the answer back; the request is then served (or failed
	// with Status), even if the client gave up meanwhile.
	Delay time.Duration
	// Drop closes the connection without serving the request.
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

// FailNext makes the next n API calls answer status.
func (s *Server) FailNext(n, status int) { s.Inject(Fault{Times: n, Status: status}) }

// ClearFaults drops every fault not yet used up.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.Path != "" && r.URL.Path != f.Path {
			continue
		}
		if f.PathPrefix == "" && f.Path == "" && strings.HasPrefix(r.URL.Path, "/oauth/") {
			continue
		}
		if f.PathPrefix != "" && !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
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

func writeFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	if strings.HasPrefix(r.URL.Path, "/oauth/") && (f.Status < 502 || f.Status > 504) {
		// The accounts server's shape.
		code := f.Code
		if code == "" {
			code = "Access Denied"
		}
		writeJSON(w, f.Status, map[string]string{"error": code, "status": "failure",
			"error_description": "You have made too many requests continuously. Please try again after some time."})
		return
	}
	if f.Status >= 502 && f.Status <= 504 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte("<html><body><h1>" + http.StatusText(f.Status) + "</h1></body></html>\n"))
		return
	}
	code := f.Code
	if code == "" {
		switch {
		case f.Status == http.StatusTooManyRequests:
			code = "TOO_MANY_REQUESTS"
		case f.Status == http.StatusUnauthorized:
			code = "INVALID_TOKEN"
		case f.Status == http.StatusForbidden:
			code = "NO_PERMISSION"
		case f.Status >= 500:
			code = "INTERNAL_ERROR"
		default:
			code = "INVALID_DATA"
		}
	}
	writeStatus(w, f.Status, code, "injected fault", nil)
}
