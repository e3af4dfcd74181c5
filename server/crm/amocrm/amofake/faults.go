package amofake

import (
	"net/http"
	"strings"
	"time"
)

// Fault changes how the fake answers the next matching requests. Faults
// are consumed in the order they were injected; a request takes the first
// one that matches it.
type Fault struct {
	// Method ("POST") and PathPrefix ("/api/v4/leads") select requests;
	// empty matches any.
	Method     string
	PathPrefix string
	// Times is how many matching requests the fault affects (1 when 0).
	Times int

	// Status, when set, answers the request with this status instead of
	// serving it (nothing is written): 429, 500, 502, 503, 504, 400, 401, …
	// 500 and 4xx answers are problem+json; 502–504 are an HTML page, as a
	// proxy in front of the CRM would send.
	Status int
	// RetryAfter is sent as the Retry-After header ("2" or an HTTP date).
	RetryAfter string
	// JSON makes a 429 answer problem+json rather than plain text.
	JSON bool
	// Validation is the body of a 400: the "validation-errors" entries.
	// Empty gives one NotSupportedChoice error on request "0".
	Validation []ValidationError

	// Delay holds the answer back; the request is then served (or failed
	// with Status), even if the client gave up meanwhile.
	Delay time.Duration
	// DropAfterCommit serves the request (its writes are kept) and then
	// closes the connection without an answer: the ambiguous outcome.
	DropAfterCommit bool
}

// ValidationError is one entry of a 400 "validation-errors" body.
type ValidationError struct {
	RequestID string
	Code      string
	Path      string
	Detail    string
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

// takeFault returns a copy of the first fault matching r and uses one of
// its times.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
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

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	switch {
	case f.Status == http.StatusTooManyRequests:
		s.writeRateLimited(w, f.JSON, f.RetryAfter)
	case f.Status == http.StatusBadRequest:
		v := f.Validation
		if len(v) == 0 {
			v = []ValidationError{{RequestID: "0", Code: "NotSupportedChoice", Path: "custom_fields_values.0.field_id", Detail: "The value you selected is not a valid choice."}}
		}
		writeValidation(w, v)
	case f.Status >= 502 && f.Status <= 504:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(f.Status) + "</title></head><body><center><h1>" +
			http.StatusText(f.Status) + "</h1></center></body></html>\n"))
	default:
		writeProblem(w, f.Status, http.StatusText(f.Status), "Injected fault", nil)
	}
}

// writeValidation answers 400 with the CRM's validation shape: entries
// grouped by request_id, each with its errors {code, path, detail}.
func writeValidation(w http.ResponseWriter, errs []ValidationError) {
	type fieldErr struct {
		Code   string `json:"code"`
		Path   string `json:"path"`
		Detail string `json:"detail"`
	}
	type group struct {
		RequestID string     `json:"request_id"`
		Errors    []fieldErr `json:"errors"`
	}
	var groups []*group
	byID := map[string]*group{}
	for _, e := range errs {
		g := byID[e.RequestID]
		if g == nil {
			g = &group{RequestID: e.RequestID}
			byID[e.RequestID] = g
			groups = append(groups, g)
		}
		g.Errors = append(g.Errors, fieldErr{Code: e.Code, Path: e.Path, Detail: e.Detail})
	}
	writeProblem(w, http.StatusBadRequest, "Bad Request", "Request validation failed",
		map[string]any{"validation-errors": groups})
}
