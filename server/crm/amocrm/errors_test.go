package amocrm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		title      string
		detail     string
		code       int
		validation int
		unauth     bool
		permanent  bool
	}{
		{"empty 429", 429, "", "Too Many Requests", "", 0, 0, false, false},
		{"html 429", 429, "<html>\n<body>Too many\nrequests</body></html>", "Too Many Requests", "<html> <body>Too many requests</body></html>", 0, 0, false, false},
		{"problem 400", 400, `{"validation-errors":[{"request_id":"0","errors":[{"code":"NotSupportedChoice","path":"custom_fields_values.0.field_id","detail":"bad choice"}]},{"request_id":1,"errors":[{"code":"NotBlank","path":"name","detail":"blank"}]}],"title":"Bad Request","type":"https://httpstatus.es/400","status":400,"detail":"Request validation failed"}`,
			"Bad Request", "Request validation failed", 0, 2, false, true},
		{"ip not whitelisted", 403, `{"response":{"error":"IP not allowed","error_code":"113"}}`, "Forbidden", "IP not allowed", 113, 0, true, false},
		{"legacy auth code on 400", 400, `{"title":"x","code":110}`, "x", "", 110, 0, true, false},
		{"json but not an object", 500, `["oops"]`, "Internal Server Error", `["oops"]`, 0, 0, false, false},
		{"truncated json", 502, `{"title":"Bad`, "Bad Gateway", `{"title":"Bad`, 0, 0, false, false},
		{"long body", 503, strings.Repeat("я", 500), "Service Unavailable", strings.Repeat("я", 100) + "…", 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}
			e := parseError("GET /api/v4/x", resp, []byte(tt.body), time.Now())
			if e.Title != tt.title || e.Detail != tt.detail || e.Code != tt.code || len(e.Validation) != tt.validation {
				t.Fatalf("got title %q detail %q code %d validation %+v", e.Title, e.Detail, e.Code, e.Validation)
			}
			if e.Unauthorized() != tt.unauth || e.Permanent() != tt.permanent {
				t.Errorf("unauthorized %v permanent %v, want %v %v", e.Unauthorized(), e.Permanent(), tt.unauth, tt.permanent)
			}
			if tt.validation == 2 && (e.Validation[1].RequestID != "1" || e.Validation[1].Path != "name") {
				t.Errorf("validation = %+v", e.Validation)
			}
		})
	}
}

func TestLocalErrors(t *testing.T) {
	enc := &Error{Op: "POST /x", Err: errors.New("encode"), local: true}
	if !enc.Permanent() || enc.Retryable() || enc.Ambiguous() {
		t.Errorf("encode error: permanent %v retryable %v ambiguous %v", enc.Permanent(), enc.Retryable(), enc.Ambiguous())
	}
	wait := &Error{Op: "POST /x", Err: context.DeadlineExceeded, local: true}
	if wait.Permanent() || !wait.Retryable() || wait.Ambiguous() {
		t.Errorf("limiter deadline: permanent %v retryable %v ambiguous %v", wait.Permanent(), wait.Retryable(), wait.Ambiguous())
	}
	sent := &Error{Op: "POST /x", Err: io.ErrUnexpectedEOF}
	if sent.Permanent() || !sent.Retryable() || !sent.Ambiguous() {
		t.Errorf("dropped connection: permanent %v retryable %v ambiguous %v", sent.Permanent(), sent.Retryable(), sent.Ambiguous())
	}
	if IsRetryable(errors.New("other")) || IsPermanent(nil) || RetryAfter(io.EOF) != 0 {
		t.Error("helpers on a foreign error")
	}
}
