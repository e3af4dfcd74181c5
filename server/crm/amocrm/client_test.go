package amocrm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboardhq/switchboard/server/crm/amocrm"
	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
)

// unlimited lets tests run at full speed; the rate-limit tests set their own.
func unlimited() amocrm.Limiter { return rate.NewLimiter(rate.Inf, 0) }

// setup starts a fake with Seed data and no rate limit (unless opts set
// one) and a client for it.
func setup(t *testing.T, opts ...amofake.Option) (*amofake.Server, *amocrm.Client) {
	t.Helper()
	f := amofake.Start(append([]amofake.Option{amofake.WithRateLimit(0)}, opts...)...)
	t.Cleanup(f.Close)
	return f, client(t, f, amofake.DefaultToken)
}

func client(t *testing.T, f *amofake.Server, token string, opts ...amocrm.Option) *amocrm.Client {
	t.Helper()
	base := []amocrm.Option{amocrm.AllowAnyHost(), amocrm.WithLimiter(unlimited()),
		amocrm.WithHTTPClient(&http.Client{Timeout: 5 * time.Second})}
	c, err := amocrm.New(f.URL, token, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func asError(t *testing.T, err error) *amocrm.Error {
	t.Helper()
	var e *amocrm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *amocrm.Error", err, err)
	}
	return e
}

func TestNewValidatesBaseURL(t *testing.T) {
	tests := []struct {
		url     string
		anyHost bool
		ok      bool
	}{
		{"https://example.amocrm.ru", false, true},
		{"https://example.amocrm.ru:443", false, true},
		{"https://example.amocrm.ru:18201", false, false},
		{"https://example.amocrm.ru/", false, true},
		{"https://example.kommo.com", false, true},
		{"https://example.amocrm.com", false, true},
		{"https://EXAMPLE.Kommo.com", false, true},
		{"http://example.amocrm.ru", false, false},
		{"https://amocrm.ru", false, false},
		{"https://.amocrm.ru", false, false},
		{"https://example.com", false, false},
		{"https://example.amocrm.ru.evil.com", false, false},
		{"https://example.amocrm.ru/api/v4", false, false},
		{"https://example.amocrm.ru?x=1", false, false},
		{"https://user@example.amocrm.ru", false, false},
		{"example.amocrm.ru", false, false},
		{"http://127.0.0.1:8091", false, false},
		{"http://127.0.0.1:8091", true, true},
		{"ftp://127.0.0.1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			var opts []amocrm.Option
			if tt.anyHost {
				opts = append(opts, amocrm.AllowAnyHost())
			}
			c, err := amocrm.New(tt.url, "secret-token-123", opts...)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%q) error = %v, want ok %v", tt.url, err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), "secret-token-123") {
				t.Fatalf("error shows the token: %v", err)
			}
			if c != nil && strings.HasSuffix(c.BaseURL(), "/") {
				t.Fatalf("BaseURL %q keeps a trailing slash", c.BaseURL())
			}
		})
	}
	if _, err := amocrm.New("https://example.amocrm.ru", " "); err == nil {
		t.Fatal("an empty token is accepted")
	}
}

func TestListUsers(t *testing.T) {
	_, c := setup(t)
	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 6 {
		t.Fatalf("got %d users, want 6", len(users))
	}
	byID := map[int64]amocrm.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	if u := byID[5001]; !u.Active || !u.Admin || u.Name != "Bruce Wayne" || u.Email != "bruce@example.com" {
		t.Errorf("user 5001 = %+v", u)
	}
	if u := byID[5006]; u.Active {
		t.Errorf("inactive user 5006 reads as active: %+v", u)
	}
}

func TestListUsersPages(t *testing.T) {
	d := amofake.Seed()
	d.Users = nil
	for i := range 300 {
		d.Users = append(d.Users, amofake.User{ID: int64(1000 + i), Name: "u", Active: i%2 == 0})
	}
	f, c := setup(t, amofake.WithData(d))
	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 300 || users[0].ID != 1000 || users[299].ID != 1299 {
		t.Fatalf("got %d users (first %v), want 300 in order", len(users), users[0])
	}
	if n := f.RequestCount(); n != 2 {
		t.Errorf("%d requests for 300 users, want 2 pages of 250", n)
	}
}

func TestListPipelines(t *testing.T) {
	_, c := setup(t)
	ps, err := c.ListPipelines(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || !ps[0].Main || ps[0].ID != 7001 || ps[1].Main {
		t.Fatalf("pipelines = %+v", ps)
	}
	main := ps[0]
	if len(main.Statuses) != 5 {
		t.Fatalf("main pipeline statuses = %+v", main.Statuses)
	}
	if s := main.Statuses[0]; !s.Incoming() || s.Closed() {
		t.Errorf("first status %+v is not Incoming leads", s)
	}
	var won, lost int
	for _, s := range main.Statuses {
		if s.Won() {
			won++
		}
		if s.Lost() {
			lost++
		}
		if s.PipelineID != main.ID {
			t.Errorf("status %d has pipeline %d", s.ID, s.PipelineID)
		}
	}
	if won != 1 || lost != 1 {
		t.Errorf("won %d lost %d, want 1 and 1", won, lost)
	}
	if s, ok := main.FirstWorkingStatus(); !ok || s.ID != 7102 {
		t.Errorf("FirstWorkingStatus = %+v %v, want 7102", s, ok)
	}
}

func TestFindContactsByPhone(t *testing.T) {
	_, c := setup(t)
	tests := []struct {
		query   string
		want    []int64
		leadIDs []int64
	}{
		{"9035550102", []int64{9001}, []int64{8001}},
		{"555-01-02", []int64{9001}, []int64{8001}},
		{"parker", []int64{9001}, []int64{8001}},
		{"9161234567", nil, nil},
		{"nobody", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, err := c.FindContactsByPhone(context.Background(), tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d contacts, want %v", len(got), tt.want)
			}
			for i, ct := range got {
				if ct.ID != tt.want[i] {
					t.Errorf("contact %d = %d, want %d", i, ct.ID, tt.want[i])
				}
				if len(ct.Phones) != 1 || ct.Phones[0] != "8 (903) 555-01-02" || ct.ResponsibleUserID != 5002 {
					t.Errorf("contact = %+v", ct)
				}
				if len(ct.LeadIDs) != len(tt.leadIDs) || ct.LeadIDs[0] != tt.leadIDs[0] {
					t.Errorf("lead ids = %v, want %v", ct.LeadIDs, tt.leadIDs)
				}
			}
		})
	}
	if _, err := c.FindContactsByPhone(context.Background(), ""); !amocrm.IsPermanent(err) {
		t.Errorf("empty query: %v, want a permanent error", err)
	}
}

// TestEmptySearchIs204 checks the fake itself: no match is 204 with no body.
func TestEmptySearchIs204(t *testing.T) {
	f, _ := setup(t)
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/api/v4/contacts?query=nobody", nil)
	req.Header.Set("Authorization", "Bearer "+amofake.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf [1]byte
	n, _ := resp.Body.Read(buf[:])
	if resp.StatusCode != http.StatusNoContent || n != 0 {
		t.Fatalf("status %d, %d body bytes; want 204 and none", resp.StatusCode, n)
	}
}

func TestCreateLeadComplex(t *testing.T) {
	ctx := context.Background()
	f, c := setup(t)

	t.Run("new contact", func(t *testing.T) {
		got, err := c.CreateLeadComplex(ctx, amocrm.NewLead{
			Name: "Anna: sofa", ResponsibleUserID: 5003, RequestID: "job-17",
			Contact: &amocrm.NewContact{Name: "Anna", Phone: "+79161234567", ResponsibleUserID: 5003},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || got.ContactID == 0 || got.RequestID != "job-17" || got.Merged {
			t.Fatalf("answer = %+v", got)
		}
		l, ok := f.Lead(got.ID)
		if !ok || l.PipelineID != 7001 || l.StatusID != 7102 || l.ResponsibleUserID != 5003 || len(l.ContactIDs) != 1 || l.ContactIDs[0] != got.ContactID {
			t.Fatalf("stored lead = %+v", l)
		}
		ct, ok := f.Contact(got.ContactID)
		if !ok || ct.Name != "Anna" || ct.ResponsibleUserID != 5003 || len(ct.Phones) != 1 || ct.Phones[0].Value != "+79161234567" || ct.Phones[0].EnumCode != "WORK" {
			t.Fatalf("stored contact = %+v", ct)
		}
		found, err := c.FindContactsByPhone(ctx, "9161234567")
		if err != nil || len(found) != 1 || found[0].ID != got.ContactID || len(found[0].LeadIDs) != 1 || found[0].LeadIDs[0] != got.ID {
			t.Fatalf("search after create = %+v, %v", found, err)
		}
	})

	t.Run("existing contact and a chosen stage", func(t *testing.T) {
		got, err := c.CreateLeadComplex(ctx, amocrm.NewLead{Name: "again", PipelineID: 7002, StatusID: 7203, ContactID: 9001, ResponsibleUserID: 5002})
		if err != nil {
			t.Fatal(err)
		}
		if got.ContactID != 9001 || got.RequestID != "0" {
			t.Fatalf("answer = %+v, want contact 9001 and the index as request id", got)
		}
		lead, err := c.GetLead(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if lead.PipelineID != 7002 || lead.StatusID != 7203 || len(lead.ContactIDs) != 1 || lead.ContactIDs[0] != 9001 || !lead.ClosedAt.IsZero() {
			t.Fatalf("lead = %+v", lead)
		}
	})

	t.Run("closed won needs its pipeline", func(t *testing.T) {
		before := f.RequestCount()
		_, err := c.CreateLeadComplex(ctx, amocrm.NewLead{StatusID: amocrm.StatusWon})
		if !amocrm.IsPermanent(err) || f.RequestCount() != before {
			t.Fatalf("err = %v (sent %d), want a permanent error before sending", err, f.RequestCount()-before)
		}
		got, err := c.CreateLeadComplex(ctx, amocrm.NewLead{PipelineID: 7001, StatusID: amocrm.StatusWon})
		if err != nil {
			t.Fatal(err)
		}
		lead, err := c.GetLead(ctx, got.ID)
		if err != nil || !lead.Won() || lead.ClosedAt.IsZero() {
			t.Fatalf("lead = %+v, %v", lead, err)
		}
	})

	t.Run("validation", func(t *testing.T) {
		n := len(f.Leads())
		_, err := c.CreateLeadComplex(ctx, amocrm.NewLead{PipelineID: 7001, StatusID: 7202, RequestID: "job-9"})
		e := asError(t, err)
		if !e.Permanent() || e.Retryable() || e.Ambiguous() || e.Status != 400 || len(e.Validation) != 1 {
			t.Fatalf("err = %#v", e)
		}
		if v := e.Validation[0]; v.Path != "status_id" || v.Code != "NotSupportedChoice" || v.RequestID != "job-9" || v.Detail == "" {
			t.Errorf("validation = %+v", v)
		}
		if len(f.Leads()) != n {
			t.Error("an invalid request wrote a lead")
		}
	})

	t.Run("batch", func(t *testing.T) {
		var many []amocrm.NewLead
		for range 51 {
			many = append(many, amocrm.NewLead{Name: "x"})
		}
		if _, err := c.CreateLeadsComplex(ctx, many); !amocrm.IsPermanent(err) {
			t.Fatalf("51 leads: %v, want a permanent error", err)
		}
		got, err := c.CreateLeadsComplex(ctx, many[:3])
		if err != nil || len(got) != 3 || got[2].RequestID != "2" {
			t.Fatalf("3 leads: %+v, %v", got, err)
		}
	})
}

func TestGetLeadNotFound(t *testing.T) {
	_, c := setup(t)
	_, err := c.GetLead(context.Background(), 424242)
	if !errors.Is(err, amocrm.ErrNotFound) || !amocrm.IsPermanent(err) {
		t.Fatalf("err = %v, want ErrNotFound and permanent", err)
	}
	if _, err := c.GetContact(context.Background(), 424242); !errors.Is(err, amocrm.ErrNotFound) {
		t.Fatalf("contact err = %v, want ErrNotFound", err)
	}
	ct, err := c.GetContact(context.Background(), 9001)
	if err != nil || ct.Name != "Peter Parker" || len(ct.LeadIDs) != 1 {
		t.Fatalf("contact = %+v, %v", ct, err)
	}
}

func TestUpdateResponsible(t *testing.T) {
	ctx := context.Background()
	f, c := setup(t)
	if err := c.UpdateLeadResponsible(ctx, 8001, 5004); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateContactResponsible(ctx, 9001, 5004); err != nil {
		t.Fatal(err)
	}
	l, _ := f.Lead(8001)
	ct, _ := f.Contact(9001)
	if l.ResponsibleUserID != 5004 || ct.ResponsibleUserID != 5004 {
		t.Fatalf("lead %d contact %d, want 5004", l.ResponsibleUserID, ct.ResponsibleUserID)
	}
	err := c.UpdateLeadResponsible(ctx, 8001, 777)
	if e := asError(t, err); !e.Permanent() || len(e.Validation) != 1 || e.Validation[0].Path != "responsible_user_id" {
		t.Fatalf("unknown user: %#v", e)
	}
	if err := c.UpdateContactResponsible(ctx, 424242, 5004); !errors.Is(err, amocrm.ErrNotFound) {
		t.Fatalf("unknown contact: %v", err)
	}
	if err := c.UpdateLeads(ctx, []amocrm.LeadUpdate{{ID: 8001, ResponsibleUserID: 5005, StatusID: 7103}}); err != nil {
		t.Fatal(err)
	}
	if l, _ := f.Lead(8001); l.ResponsibleUserID != 5005 || l.StatusID != 7103 || l.PipelineID != 7001 {
		t.Fatalf("after bulk update: %+v", l)
	}
}

func TestNotes(t *testing.T) {
	ctx := context.Background()
	f, c := setup(t)
	got, err := c.AddNotes(ctx, amocrm.Leads, []amocrm.NewNote{
		{EntityID: 8001, Text: "12:00–13:00 chat log [sb:job-1]", RequestID: "job-1"},
		{EntityID: 8001, Type: amocrm.NoteCommon, Text: "plain", RequestID: "job-2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RequestID != "job-1" || got[1].RequestID != "job-2" || got[0].EntityID != 8001 || got[0].ID == got[1].ID {
		t.Fatalf("answers = %+v", got)
	}
	stored := f.Notes("leads", 8001)
	if len(stored) != 2 || stored[0].Type != "extended_service_message" || stored[0].Service != amocrm.ServiceName || stored[1].Type != "common" || stored[1].Service != "" {
		t.Fatalf("stored = %+v", stored)
	}
	notes, err := c.ListNotes(ctx, amocrm.Leads, 8001)
	if err != nil || len(notes) != 2 || notes[0].Text != "12:00–13:00 chat log [sb:job-1]" || notes[0].Service != amocrm.ServiceName {
		t.Fatalf("ListNotes = %+v, %v", notes, err)
	}
	if n, ok, err := c.FindNote(ctx, amocrm.Leads, 8001, "[sb:job-1]"); err != nil || !ok || n.ID != got[0].ID {
		t.Fatalf("FindNote = %+v %v %v", n, ok, err)
	}
	if _, ok, err := c.FindNote(ctx, amocrm.Contacts, 9001, "[sb:job-1]"); err != nil || ok {
		t.Fatalf("FindNote on a contact without notes = %v %v, want none (204)", ok, err)
	}
	if _, err := c.AddNotes(ctx, amocrm.Contacts, []amocrm.NewNote{{EntityID: 9001, Text: "x"}}); err != nil {
		t.Fatal(err)
	}
	if len(f.Notes("contacts", 9001)) != 1 {
		t.Fatal("contact note not stored")
	}
	_, err = c.AddNotes(ctx, amocrm.Leads, []amocrm.NewNote{{EntityID: 424242, Text: "x"}})
	if e := asError(t, err); !e.Permanent() || len(e.Validation) == 0 || e.Validation[0].Path != "entity_id" {
		t.Fatalf("note on a missing lead: %#v", e)
	}
	if _, err := c.AddNotes(ctx, "companies", []amocrm.NewNote{{EntityID: 1, Text: "x"}}); !amocrm.IsPermanent(err) {
		t.Fatalf("unknown entity: %v", err)
	}
}

// TestErrorClassification runs each CRM failure through a real call.
func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name       string
		fault      amofake.Fault
		retryable  bool
		permanent  bool
		unauth     bool
		ambiguous  bool
		retryAfter time.Duration
		title      string
	}{
		{"429 plain text", amofake.Fault{Status: 429, RetryAfter: "3"}, true, false, false, false, 3 * time.Second, "Too Many Requests"},
		{"429 json", amofake.Fault{Status: 429, JSON: true}, true, false, false, false, 0, "Too Many Requests"},
		{"429 http date", amofake.Fault{Status: 429, RetryAfter: time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}, true, false, false, false, 90 * time.Second, "Too Many Requests"},
		{"500", amofake.Fault{Status: 500}, true, false, false, true, 0, "Internal Server Error"},
		{"502 html", amofake.Fault{Status: 502}, true, false, false, true, 0, "Bad Gateway"},
		{"503 retry after", amofake.Fault{Status: 503, RetryAfter: "5"}, true, false, false, true, 5 * time.Second, "Service Unavailable"},
		{"504", amofake.Fault{Status: 504}, true, false, false, true, 0, "Gateway Timeout"},
		{"400 validation", amofake.Fault{Status: 400}, false, true, false, false, 0, "Bad Request"},
		{"401", amofake.Fault{Status: 401}, false, false, true, false, 0, "Unauthorized"},
		{"403", amofake.Fault{Status: 403}, false, false, true, false, 0, "Forbidden"},
		{"402 not paid", amofake.Fault{Status: 402}, false, true, false, false, 0, "Payment Required"},
		{"422", amofake.Fault{Status: 422}, false, true, false, false, 0, "Unprocessable Entity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := setup(t)
			tt.fault.Method, tt.fault.PathPrefix = "GET", "/api/v4/leads/pipelines"
			f.Inject(tt.fault)
			_, err := c.ListPipelines(context.Background())
			e := asError(t, err)
			if e.Retryable() != tt.retryable || e.Permanent() != tt.permanent || e.Unauthorized() != tt.unauth || e.Ambiguous() != tt.ambiguous {
				t.Errorf("retryable %v permanent %v unauthorized %v ambiguous %v; want %v %v %v %v (%v)",
					e.Retryable(), e.Permanent(), e.Unauthorized(), e.Ambiguous(), tt.retryable, tt.permanent, tt.unauth, tt.ambiguous, e)
			}
			if amocrm.IsRetryable(err) != tt.retryable || amocrm.IsPermanent(err) != tt.permanent || amocrm.IsUnauthorized(err) != tt.unauth {
				t.Error("the Is* helpers disagree with the methods")
			}
			if got := amocrm.RetryAfter(err); got < tt.retryAfter-2*time.Second || got > tt.retryAfter {
				t.Errorf("RetryAfter = %v, want about %v", got, tt.retryAfter)
			}
			if e.Title != tt.title {
				t.Errorf("title %q, want %q", e.Title, tt.title)
			}
			if tt.fault.Status == 400 && (len(e.Validation) != 1 || e.Validation[0].Path != "custom_fields_values.0.field_id" || e.Validation[0].Code != "NotSupportedChoice") {
				t.Errorf("validation = %+v", e.Validation)
			}
			// The next call is not affected.
			if _, err := c.ListPipelines(context.Background()); err != nil {
				t.Errorf("call after the fault: %v", err)
			}
		})
	}
}

func TestFaultMatchesMethodAndPath(t *testing.T) {
	f, c := setup(t)
	f.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/complex", Status: 503, Times: 2})
	ctx := context.Background()
	if _, err := c.ListPipelines(ctx); err != nil {
		t.Fatalf("an unmatched call failed: %v", err)
	}
	for i := range 2 {
		if _, err := c.CreateLeadComplex(ctx, amocrm.NewLead{Name: "x"}); !amocrm.IsRetryable(err) {
			t.Fatalf("call %d: %v, want 503", i, err)
		}
	}
	if _, err := c.CreateLeadComplex(ctx, amocrm.NewLead{Name: "x"}); err != nil {
		t.Fatalf("third call: %v", err)
	}
}

func TestTokenExpiry(t *testing.T) {
	ctx := context.Background()
	f, c := setup(t)
	if _, err := c.ListPipelines(ctx); err != nil {
		t.Fatal(err)
	}
	f.ExpireToken()
	_, err := c.ListPipelines(ctx)
	e := asError(t, err)
	if e.Status != 401 || !e.Unauthorized() || e.Retryable() || e.Permanent() {
		t.Fatalf("after expiry: %#v", e)
	}
	if strings.Contains(err.Error(), amofake.DefaultToken) {
		t.Fatalf("error shows the token: %v", err)
	}
	f.SetToken("fresh-token")
	if _, err := c.ListUsers(ctx); !amocrm.IsUnauthorized(err) {
		t.Fatalf("old token after a new one: %v", err)
	}
	if _, err := client(t, f, "fresh-token").ListUsers(ctx); err != nil {
		t.Fatalf("new token: %v", err)
	}
}

// TestTimeoutIsAmbiguous: a CRM slower than the client's timeout still
// writes; the client's error says so, and the note is found by its marker.
func TestTimeoutIsAmbiguous(t *testing.T) {
	ctx := context.Background()
	f := amofake.Start(amofake.WithRateLimit(0))
	t.Cleanup(f.Close)
	impatient := client(t, f, amofake.DefaultToken, amocrm.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	f.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/notes", Delay: time.Second})
	_, err := impatient.AddNotes(ctx, amocrm.Leads, []amocrm.NewNote{{EntityID: 8001, Text: "log [sb:job-5]", RequestID: "job-5"}})
	e := asError(t, err)
	if !e.Retryable() || !e.Ambiguous() || e.Status != 0 || e.Permanent() {
		t.Fatalf("timeout: %#v", e)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(f.Notes("leads", 8001)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	c := client(t, f, amofake.DefaultToken)
	if _, ok, err := c.FindNote(ctx, amocrm.Leads, 8001, "[sb:job-5]"); err != nil || !ok {
		t.Fatalf("the slow write was not found: %v %v", ok, err)
	}
}

// TestCommitThenDrop: the CRM writes and the connection drops before the
// answer. The error is retryable and ambiguous, and reconciliation finds
// the record, so a retry is not needed.
func TestCommitThenDrop(t *testing.T) {
	ctx := context.Background()
	f, c := setup(t)

	t.Run("lead", func(t *testing.T) {
		f.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/leads/complex", DropAfterCommit: true})
		_, err := c.CreateLeadComplex(ctx, amocrm.NewLead{Name: "Boris", RequestID: "job-30",
			Contact: &amocrm.NewContact{Name: "Boris", Phone: "+79260000030"}})
		e := asError(t, err)
		if !e.Retryable() || !e.Ambiguous() || e.Status != 0 {
			t.Fatalf("dropped answer: %#v", e)
		}
		found, err := c.FindContactsByPhone(ctx, "9260000030")
		if err != nil || len(found) != 1 || len(found[0].LeadIDs) != 1 {
			t.Fatalf("reconciliation found %+v, %v", found, err)
		}
		if l, ok := f.Lead(found[0].LeadIDs[0]); !ok || l.Name != "Boris" {
			t.Fatalf("stored lead = %+v", l)
		}
	})

	t.Run("note", func(t *testing.T) {
		f.Inject(amofake.Fault{Method: "POST", PathPrefix: "/api/v4/contacts/notes", DropAfterCommit: true})
		_, err := c.AddNotes(ctx, amocrm.Contacts, []amocrm.NewNote{{EntityID: 9001, Text: "daily log [sb:job-31]", RequestID: "job-31"}})
		if !amocrm.IsRetryable(err) || !amocrm.IsAmbiguous(err) {
			t.Fatalf("dropped answer: %v", err)
		}
		n, ok, err := c.FindNote(ctx, amocrm.Contacts, 9001, "[sb:job-31]")
		if err != nil || !ok {
			t.Fatalf("FindNote = %v %v", ok, err)
		}
		if len(f.Notes("contacts", 9001)) != 1 || n.Text != "daily log [sb:job-31]" {
			t.Fatalf("notes = %+v", f.Notes("contacts", 9001))
		}
	})
}

func TestCancelledContextIsNotRetryable(t *testing.T) {
	_, c := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.ListPipelines(ctx)
	e := asError(t, err)
	if e.Retryable() || e.Ambiguous() || e.Permanent() || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %#v", e)
	}
}

func TestWebhooksRoundTrip(t *testing.T) {
	ctx := context.Background()
	f, c := setup(t)
	got := make(chan amocrm.Webhook, 10)
	recv := http.NewServeMux()
	recv.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("webhook content type %q", ct)
		}
		wh, err := amocrm.ParseWebhookRequest(w, r)
		if err != nil {
			t.Errorf("parse: %v", err)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		got <- wh
	})
	rs := startReceiver(t, recv)
	dest := rs + "/hook"

	sub, err := c.Subscribe(ctx, dest, []string{amocrm.EventStatusLead, amocrm.EventResponsibleLead, amocrm.EventResponsibleContact})
	if err != nil || sub.ID == 0 || sub.Destination != dest || len(sub.Settings) != 3 {
		t.Fatalf("Subscribe = %+v, %v", sub, err)
	}
	subs, err := c.Subscriptions(ctx, dest)
	if err != nil || len(subs) != 1 || subs[0].ID != sub.ID {
		t.Fatalf("Subscriptions = %+v, %v", subs, err)
	}

	if err := f.MoveLead(ctx, 8001, 0, amocrm.StatusWon); err != nil {
		t.Fatal(err)
	}
	wh := <-got
	if wh.AccountID != f.AccountID() || wh.Subdomain != "switchboard-demo" || len(wh.Events) != 1 {
		t.Fatalf("webhook = %+v", wh)
	}
	if e := wh.Events[0]; e.Kind != amocrm.LeadStatusChanged || e.ID != 8001 || e.StatusID != 142 || e.OldStatusID != 7102 ||
		e.PipelineID != 7001 || e.OldPipelineID != 7001 || e.ResponsibleUserID != 5002 || e.LastModified.IsZero() || !e.Won() || e.Lost() {
		t.Fatalf("status event = %+v", e)
	}

	if err := f.ChangeLeadResponsible(ctx, 8001, 5003); err != nil {
		t.Fatal(err)
	}
	wh = <-got
	if e := wh.Events[0]; len(wh.Events) != 1 || e.Kind != amocrm.LeadResponsibleChanged || e.ID != 8001 || e.ResponsibleUserID != 5003 || e.OldResponsibleUserID != 5002 || e.StatusID != 142 {
		t.Fatalf("responsible event = %+v", wh.Events)
	}

	if err := f.ChangeContactResponsible(ctx, 9001, 5004); err != nil {
		t.Fatal(err)
	}
	wh = <-got
	if e := wh.Events[0]; len(wh.Events) != 1 || e.Kind != amocrm.ContactResponsibleChanged || e.ID != 9001 || e.ResponsibleUserID != 5004 || e.Type != "contact" {
		t.Fatalf("contact event = %+v", wh.Events)
	}
	if len(f.Deliveries()) != 3 {
		t.Fatalf("deliveries = %d, want 3", len(f.Deliveries()))
	}

	if err := c.Unsubscribe(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if subs, err := c.Subscriptions(ctx, ""); err != nil || len(subs) != 0 {
		t.Fatalf("after Unsubscribe: %+v, %v", subs, err)
	}
	if err := f.MoveLead(ctx, 8001, 7002, 7202); err != nil {
		t.Fatal(err)
	}
	select {
	case wh := <-got:
		t.Fatalf("webhook after Unsubscribe: %+v", wh)
	default:
	}
}

// TestRateLimit: past 7 requests a second the fake answers 429; the
// client's default limiter keeps under it.
func TestRateLimit(t *testing.T) {
	ctx := context.Background()
	f := amofake.Start(amofake.WithRateLimit(amofake.DefaultRate))
	t.Cleanup(f.Close)

	burst := client(t, f, amofake.DefaultToken) // no client-side limit
	var wg sync.WaitGroup
	var mu sync.Mutex
	limited := 0
	began := time.Now()
	for range 20 {
		wg.Go(func() {
			_, err := burst.ListPipelines(ctx)
			if err != nil {
				e := asError(t, err)
				if e.Status != 429 || !e.Retryable() || e.Ambiguous() || e.RetryAfter != time.Second {
					t.Errorf("over the limit: %#v", e)
				}
				mu.Lock()
				limited++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// The fake's bucket holds 7 and refills 7 a second.
	allowed := 7 + int(7*time.Since(began).Seconds()) + 1
	if limited == 0 || 20-limited > allowed {
		t.Fatalf("%d of 20 simultaneous requests passed, want at most %d", 20-limited, allowed)
	}

	time.Sleep(1100 * time.Millisecond) // let the fake's bucket refill
	paced := client(t, f, amofake.DefaultToken, amocrm.WithLimiter(amocrm.NewLimiter(amocrm.DefaultRate)))
	for range 14 {
		wg.Go(func() {
			if _, err := paced.ListPipelines(ctx); err != nil {
				t.Errorf("paced request: %v", err)
			}
		})
	}
	wg.Wait()
}

// TestOwnWritesComeBack: with WithAPIWebhooks, a responsible set through
// the API comes back as a webhook, signed by the token's user.
func TestOwnWritesComeBack(t *testing.T) {
	ctx := context.Background()
	f, c := setup(t, amofake.WithAPIWebhooks())
	got := make(chan amocrm.Webhook, 4)
	dest := startReceiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh, err := amocrm.ParseWebhookRequest(w, r)
		if err != nil {
			t.Errorf("parse: %v", err)
		}
		got <- wh
	}))
	if _, err := c.Subscribe(ctx, dest, []string{amocrm.EventResponsibleLead, amocrm.EventUpdateLead}); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateLeadResponsible(ctx, 8001, 5003); err != nil {
		t.Fatal(err)
	}
	select {
	case wh := <-got:
		if len(wh.Events) != 2 || wh.Events[0].Kind != amocrm.LeadResponsibleChanged || wh.Events[1].Kind != amocrm.LeadUpdated {
			t.Fatalf("events = %+v", wh.Events)
		}
		if e := wh.Events[0]; e.ResponsibleUserID != 5003 || e.OldResponsibleUserID != 5002 || e.ModifiedUserID != 5001 {
			t.Fatalf("event = %+v", e)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no webhook for the API's own write")
	}
	if l, _ := f.Lead(8001); l.ResponsibleUserID != 5003 {
		t.Fatalf("lead = %+v", l)
	}
}
