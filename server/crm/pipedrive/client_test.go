package pipedrive_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestOpenChecksTheAddress(t *testing.T) {
	good := []string{"https://acme.pipedrive.com", "https://acme.pipedrive.com/", "https://ACME-2.pipedrive.com"}
	for _, u := range good {
		if _, err := crm.Open(crm.Config{Kind: crm.Pipedrive, BaseURL: u, Token: "t0k"}); err != nil {
			t.Errorf("Open(%s): %v", u, err)
		}
	}
	bad := []string{"http://acme.pipedrive.com", "https://evil.com", "https://acme.pipedrive.com.evil.com",
		"https://a.b.pipedrive.com", "https://pipedrive.com", "https://acme.pipedrive.com/api/v1",
		"https://acme.pipedrive.com:8443", "https://user@acme.pipedrive.com", "acme.pipedrive.com", ""}
	for _, u := range bad {
		_, err := crm.Open(crm.Config{Kind: crm.Pipedrive, BaseURL: u, Token: "secret-token-1"})
		if !errors.Is(err, crm.ErrBadAddress) {
			t.Errorf("Open(%q) = %v; want crm.ErrBadAddress", u, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret-token-1") {
			t.Errorf("Open(%q): the error shows the token: %v", u, err)
		}
	}
	if _, err := crm.Open(crm.Config{Kind: crm.Pipedrive, BaseURL: "https://acme.pipedrive.com", Token: " "}); !errors.Is(err, crm.ErrBadAddress) {
		t.Errorf("Open without a token = %v; want crm.ErrBadAddress", err)
	}
	if _, err := crm.Open(crm.Config{Kind: crm.Pipedrive, BaseURL: "http://127.0.0.1:1", Token: "t", AllowAnyHost: true}); err != nil {
		t.Errorf("Open(a local fake, AllowAnyHost) = %v", err)
	}
	if !crm.Supported(crm.Pipedrive) {
		t.Error("PIPEDRIVE is not registered")
	}
}

// The token goes in the x-api-token header, never in the URL.
func TestTokenInHeaderOnly(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"success":true,"data":[]}`)
	}))
	defer srv.Close()
	c, err := pipedrive.New(srv.URL, "tok-123", clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListUsers(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("x-api-token") != "tok-123" || strings.Contains(got.URL.String(), "tok-123") || got.URL.Path != "/v1/users" {
		t.Errorf("request %s with x-api-token %q", got.URL, got.Header.Get("x-api-token"))
	}
}

func TestDirectoryUsersAndStatusStages(t *testing.T) {
	f, _ := start(t)
	f.SetUser(pdfake.User{ID: 3, Name: "Scrooge McDuck", Email: "scrooge@example.com", Active: false})
	conn, err := pipedrive.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := conn.Directory(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	active := map[string]bool{}
	for _, u := range dir.Users {
		active[u.ID] = u.Active
	}
	if active["3"] || active["6"] || !active["1"] || len(dir.Users) != 6 {
		t.Errorf("users %+v: want 3 and 6 inactive, the rest active", dir.Users)
	}
	if len(dir.Pipelines) != 2 || !dir.Pipelines[0].Main || dir.Pipelines[0].ID != "1" || dir.Pipelines[1].Main {
		t.Fatalf("pipelines %+v", dir.Pipelines)
	}
	st := dir.Pipelines[0].Stages
	if len(st) != 6 || st[0].ID != "1" || st[3].ID != "4" {
		t.Fatalf("stages %+v: want 1–4 in order, then won and lost", st)
	}
	for _, s := range st[:4] {
		if s.Kind != crm.Working {
			t.Errorf("stage %+v: want a working stage", s)
		}
	}
	if st[4] != (crm.Stage{ID: pipedrive.StageWon, Name: "Won", Kind: crm.Won}) || st[5] != (crm.Stage{ID: pipedrive.StageLost, Name: "Lost", Kind: crm.Lost}) {
		t.Errorf("status stages %+v", st[4:])
	}
}

// The main pipeline is the one with the lowest order_nr, whatever its id.
func TestMainPipelineByOrder(t *testing.T) {
	d := pdfake.Seed()
	d.Pipelines = []pdfake.Pipeline{{ID: 1, Name: "Sales", OrderNr: 2}, {ID: 2, Name: "Support", OrderNr: 1}, {ID: 9, Name: "Old", OrderNr: 0, Deleted: true}}
	f, c := start(t, pdfake.WithData(d))
	_ = f
	ps, err := c.ListPipelines(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].ID != "2" || ps[1].ID != "1" {
		t.Errorf("pipelines %+v: want 2 then 1, without the deleted one", ps)
	}
}

// Stages come in pages of PageLimit, the next one asked for with
// additional_data.next_cursor.
func TestStagesCursorPaging(t *testing.T) {
	f, c := start(t)
	names := make([]string, pipedrive.PageLimit+20)
	for i := range names {
		names[i] = fmt.Sprintf("Step %d", i+1)
	}
	pid := f.AddPipeline("Long", names...)
	st, err := c.ListStages(ctx(t), fmt.Sprint(pid))
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(names) || st[0].Name != "Step 1" || st[len(st)-1].Name != names[len(names)-1] {
		t.Fatalf("%d stages (%v … %v), want %d in order", len(st), st[0], st[len(st)-1], len(names))
	}
	calls := 0
	for _, r := range f.Calls() {
		if r == "GET /api/v2/stages" {
			calls++
		}
	}
	if calls != 2 {
		t.Errorf("%d stage pages read, want 2", calls)
	}
	all, err := c.ListPipelines(ctx(t))
	if err != nil || len(all) != 3 || len(all[2].Stages) != len(names) {
		t.Errorf("ListPipelines = %d pipelines, %v", len(all), err)
	}
}

// A 429 is retryable after the wait its headers ask for; the token's
// next request waits for the window to reset.
func TestRateLimitHeaders(t *testing.T) {
	f, c := start(t)
	f.Inject(pdfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"})
	_, err := c.GetDeal(ctx(t), "1")
	var e *pipedrive.Error
	if !errors.As(err, &e) || !e.RateLimited() || e.Daily || !e.Retryable() || e.Permanent() || e.Ambiguous() || e.RetryAfter != time.Second {
		t.Fatalf("429: %#v", err)
	}
	began := time.Now()
	if _, err := c.GetDeal(ctx(t), "1"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(began); waited < 800*time.Millisecond {
		t.Errorf("the request after a 429 went after %v; want it to wait for the window", waited)
	}
}

// Against a real 2-second window the client slows down when
// x-ratelimit-remaining runs low, so a run of requests meets no 429.
func TestWindowObeyed(t *testing.T) {
	f, c := start(t, pdfake.WithWindowLimit(5, 0))
	began := time.Now()
	for i := range 8 {
		if _, err := c.GetDeal(ctx(t), "1"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if el := time.Since(began); el < time.Second {
		t.Errorf("8 requests against 5 per window took %v", el)
	}
	if n := f.RequestCount(); n != 8 {
		t.Errorf("%d requests reached the fake, want 8 (none refused)", n)
	}
}

// The client's own pacing spaces requests: n per 2-second window.
func TestWindowLimitSpacing(t *testing.T) {
	f := pdfake.Start(pdfake.WithWindowLimit(0, 0))
	defer f.Close()
	c, err := pipedrive.New(f.URL, f.Token(), pipedrive.AllowAnyHost(), pipedrive.WithWindowLimit(20))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	for range 5 {
		if _, err := c.GetDeal(ctx(t), "1"); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(began); el < 350*time.Millisecond {
		t.Errorf("5 requests at 20 per 2 s took %v; want ≥ 400ms", el)
	}
}

// The daily budget's 429 is retryable after the UTC day's end, never
// permanent, and does not hold back reads.
func TestDailyBudget(t *testing.T) {
	f, c := start(t)
	f.SetDailyBudget(2, 1)
	if _, err := c.AddNote(ctx(t), "1", "", "first"); err != nil {
		t.Fatal(err)
	}
	_, err := c.AddNote(ctx(t), "1", "", "second")
	var e *pipedrive.Error
	if !errors.As(err, &e) || !e.Daily || !e.Retryable() || e.Permanent() || e.Ambiguous() {
		t.Fatalf("over the daily budget: %#v", err)
	}
	now := time.Now().UTC()
	left := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
	if e.RetryAfter < left-5*time.Second || e.RetryAfter > left+5*time.Second {
		t.Errorf("retry after %v, want about %v (midnight UTC)", e.RetryAfter, left)
	}
	conn, _ := pipedrive.Open(f.URL, f.Token(), clientOpts()...)
	err = conn.AddNote(ctx(t), crm.ClientRef{DealID: "1"}, "x", "#sbm1", false)
	if crm.Permanent(err) || crm.Ambiguous(err) || crm.RetryAfter(err) <= time.Minute || errors.Is(err, crm.ErrUnauthorized) {
		t.Errorf("seam: %v (permanent %v, ambiguous %v, retry after %v)", err, crm.Permanent(err), crm.Ambiguous(err), crm.RetryAfter(err))
	}
	began := time.Now()
	if _, err := c.GetDeal(ctx(t), "1"); err != nil || time.Since(began) > time.Second {
		t.Errorf("a read after the budget ran out: %v after %v", err, time.Since(began))
	}
	// A 429 that says so in its headers alone is read the same way.
	f.Inject(pdfake.Fault{Status: http.StatusTooManyRequests, Daily: true})
	if _, err := c.GetDeal(ctx(t), "1"); !errors.As(err, &e) || !e.Daily || e.RetryAfter < time.Second {
		t.Errorf("daily 429 fault: %#v", err)
	}
}

func TestErrorClasses(t *testing.T) {
	cases := []struct {
		status                                        int
		retryable, permanent, ambiguous, unauthorized bool
		unreachable                                   bool
	}{
		{http.StatusBadRequest, false, true, false, false, false},
		{http.StatusNotFound, false, true, false, false, false},
		{http.StatusUnauthorized, false, false, false, true, false},
		{http.StatusForbidden, false, false, false, true, false},
		{http.StatusTooManyRequests, true, false, false, false, false},
		{http.StatusInternalServerError, true, false, true, false, true},
		{http.StatusBadGateway, true, false, true, false, true},
	}
	for _, tc := range cases {
		f, c := start(t)
		f.Inject(pdfake.Fault{Route: "PATCH /api/v2/deals/{id}", Status: tc.status, RetryAfter: "1"})
		err := c.SetDealOwner(ctx(t), "1", "3")
		e, ok := err.(*pipedrive.Error)
		if !ok {
			t.Fatalf("%d: %T %v", tc.status, err, err)
		}
		if e.Retryable() != tc.retryable || e.Permanent() != tc.permanent || e.Ambiguous() != tc.ambiguous ||
			e.Unauthorized() != tc.unauthorized || e.Unreachable() != tc.unreachable {
			t.Errorf("%d: %v: retryable %v permanent %v ambiguous %v unauthorized %v unreachable %v", tc.status, err,
				e.Retryable(), e.Permanent(), e.Ambiguous(), e.Unauthorized(), e.Unreachable())
		}
		if tc.status == http.StatusNotFound && !errors.Is(err, pipedrive.ErrNotFound) {
			t.Errorf("404 does not match ErrNotFound: %v", err)
		}
		if tc.status == http.StatusBadRequest && !strings.Contains(err.Error(), "Injected fault") {
			t.Errorf("400 without Pipedrive's message: %v", err)
		}
	}
	// A validation refusal is permanent at the seam and keeps the message.
	f, _ := start(t)
	conn, _ := pipedrive.Open(f.URL, f.Token(), clientOpts()...)
	err := conn.SetResponsible(ctx(t), crm.ClientRef{DealID: "1"}, "6")
	if !crm.Permanent(err) || !strings.Contains(err.Error(), "owner_id") {
		t.Errorf("a deactivated owner: %v; want a permanent refusal", err)
	}
	// A lost answer is ambiguous and unreachable.
	f.Inject(pdfake.Fault{Route: "PATCH /api/v2/deals/{id}", DropAfterCommit: true})
	err = conn.SetResponsible(ctx(t), crm.ClientRef{DealID: "1"}, "3")
	if !crm.Ambiguous(err) || !errors.Is(err, crm.ErrUnreachable) || crm.Permanent(err) {
		t.Errorf("a dropped answer: %v", err)
	}
	if d, _ := f.Deal(1); d.OwnerID != 3 {
		t.Errorf("the write whose answer was lost did not land: owner %d", d.OwnerID)
	}
}

// The token appears in no error, whatever went wrong.
func TestTokenNeverInErrors(t *testing.T) {
	const token = "pd-secret-token-0123456789"
	f, _ := start(t, pdfake.WithToken(token))
	conn, err := pipedrive.Open(f.URL, token, clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, status := range []int{400, 401, 403, 404, 429, 500, 502} {
		f.Inject(pdfake.Fault{Status: status})
		_, err := conn.Deal(ctx(t), "1")
		errs = append(errs, err)
	}
	f.Inject(pdfake.Fault{Route: "GET /api/v2/persons/search", Status: http.StatusInternalServerError})
	_, err = conn.FindContact(ctx(t), "+79035550102", func(string) bool { return true })
	errs = append(errs, err)
	// A dropped POST (Go's transport resends an idempotent GET on its own).
	f.Inject(pdfake.Fault{Drop: true})
	errs = append(errs, conn.AddNote(ctx(t), crm.ClientRef{DealID: "1"}, "x", "#sbm9", false))
	f.Inject(pdfake.Fault{Delay: 2 * time.Second})
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = conn.Deal(short, "1")
	cancel()
	errs = append(errs, err)
	f.RevokeToken()
	_, err = conn.Directory(ctx(t))
	errs = append(errs, err)
	f.Close()
	_, err = conn.CreateClient(ctx(t), crm.ClientRecord{Marker: "#sb-9", Name: "X", Phone: "+79990000000", DealName: "X"})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), token) || strings.Contains(fmt.Sprintf("%#v", err), token) {
			t.Errorf("case %d: the error shows the token: %v", i, err)
		}
		if strings.Contains(err.Error(), "79035550102") {
			t.Errorf("case %d: the error shows the searched phone: %v", i, err)
		}
	}
}

// A client placed in the won (or lost) status stage gets a deal with
// that status in the pipeline; FindContact searches the national number.
func TestStatusStageAndPhoneTerm(t *testing.T) {
	f, _ := start(t)
	conn, _ := pipedrive.Open(f.URL, f.Token(), clientOpts()...)
	ref, err := conn.CreateClient(ctx(t), crm.ClientRecord{Marker: "#sb-1-5", Name: "Mary", Phone: "+79165550105",
		DealName: "Mary", PipelineID: "2", StageID: pipedrive.StageWon, ResponsibleID: "3"})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.Deal(id(ref.DealID))
	if d.Status != pdfake.StatusWon || d.PipelineID != 2 || d.StageID != 5 || d.OwnerID != 3 || d.PersonID != id(ref.ContactID) {
		t.Errorf("deal %+v", d)
	}
	p, _ := f.Person(id(ref.ContactID))
	if p.OwnerID != 3 || len(p.Phones) != 1 || p.Phones[0] != (pdfake.Phone{Value: "+79165550105", Primary: true, Label: "mobile"}) {
		t.Errorf("person %+v", p)
	}
	st, err := conn.Deal(ctx(t), ref.DealID)
	if err != nil || !st.Won || st.Lost || st.ResponsibleID != "3" {
		t.Errorf("Deal = %+v, %v", st, err)
	}
	// A stage of another pipeline is Pipedrive's refusal: permanent.
	_, err = conn.CreateClient(ctx(t), crm.ClientRecord{Marker: "#sb-1-6", Name: "Mary", DealName: "Mary", PipelineID: "2", StageID: "1", ContactID: ref.ContactID})
	if !crm.Permanent(err) {
		t.Errorf("a stage of another pipeline: %v; want permanent", err)
	}
}

// A person made before the deal failed is linked by the retry, not made
// again.
func TestRetryLinksThePersonMade(t *testing.T) {
	f, _ := start(t)
	conn, _ := pipedrive.Open(f.URL, f.Token(), clientOpts()...)
	rec := crm.ClientRecord{Marker: "#sb-1-7", Name: "Jane", Phone: "+79165550107", DealName: "Jane", ResponsibleID: "3"}
	f.Inject(pdfake.Fault{Route: "POST /api/v2/deals", Status: http.StatusTooManyRequests})
	if _, err := conn.CreateClient(ctx(t), rec); crm.RetryAfter(err) <= 0 {
		t.Fatalf("first attempt: %v; want a rate limit", err)
	}
	conn2, _ := pipedrive.Open(f.URL, f.Token(), clientOpts()...) // the outbox opens a connector per job
	ref, err := conn2.CreateClient(ctx(t), rec)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range f.Persons() {
		if p.Name == "Jane" {
			n++
			if fmt.Sprint(p.ID) != ref.ContactID {
				t.Errorf("person %d, the deal's %s", p.ID, ref.ContactID)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d persons made, want 1", n)
	}
}

// When the search index trails the writes, FindCreated still finds the
// deal whose answer was lost, among the newest deals.
func TestFindCreatedDespiteSearchLag(t *testing.T) {
	f, _ := start(t, pdfake.WithSearchLag(time.Minute))
	conn, _ := pipedrive.Open(f.URL, f.Token(), clientOpts()...)
	rec := crm.ClientRecord{Marker: "#sb-1-8", Name: "Ann", Phone: "+79165550108", DealName: "Ann", ResponsibleID: "3"}
	f.Inject(pdfake.Fault{Route: "POST /api/v2/deals", DropAfterCommit: true})
	if _, err := conn.CreateClient(ctx(t), rec); !crm.Ambiguous(err) {
		t.Fatalf("lost answer: %v", err)
	}
	ref, err := conn.FindCreated(ctx(t), rec)
	if err != nil || ref == nil {
		t.Fatalf("FindCreated = %+v, %v", ref, err)
	}
	d, _ := f.Deal(id(ref.DealID))
	if !crm.HasMarker(d.Title, rec.Marker) || ref.ContactID != fmt.Sprint(d.PersonID) {
		t.Errorf("found %+v, deal %+v", ref, d)
	}
	if got, err := conn.FindCreated(ctx(t), crm.ClientRecord{Marker: "#sb-1-80"}); err != nil || got != nil {
		t.Errorf("FindCreated(never made) = %+v, %v", got, err)
	}
}

// countingLimiter counts the waits of a shared limiter.
type countingLimiter struct{ n atomic.Int64 }

func (c *countingLimiter) Wait(context.Context) error { c.n.Add(1); return nil }

// crm.Config's Limiter is waited on before every request.
func TestConfigLimiter(t *testing.T) {
	f, _ := start(t)
	var l countingLimiter
	conn, err := crm.Open(crm.Config{Kind: crm.Pipedrive, BaseURL: f.URL, Token: f.Token(), AllowAnyHost: true, Limiter: &l})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Directory(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if l.n.Load() != f.RequestCount() || l.n.Load() != 3 {
		t.Errorf("%d waits for %d requests; want 3 (users, pipelines, stages)", l.n.Load(), f.RequestCount())
	}
}

// Notes come in v1 pages (start, limit, more_items_in_collection).
func TestNotesPaging(t *testing.T) {
	f, c := start(t)
	for i := range 130 {
		if _, err := c.AddNote(ctx(t), "1", "", fmt.Sprintf("note %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := c.ListNotes(ctx(t), "1", "")
	if err != nil || len(notes) != 130 || notes[129].Content != "note 129" {
		t.Fatalf("%d notes, %v", len(notes), err)
	}
	pages := 0
	for _, r := range f.Calls() {
		if r == "GET /v1/notes" {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("%d pages read, want 2", pages)
	}
	if got := pipedrive.NoteHTML("Chat <12:00>\nbye & thanks"); got != "Chat &lt;12:00&gt;<br>bye &amp; thanks" {
		t.Errorf("NoteHTML = %q", got)
	}
}

// A search is read to its second page at most: results come by relevance.
func TestSearchPagesCapped(t *testing.T) {
	f, c := start(t)
	for i := range 2*pipedrive.PageLimit + 10 {
		f.AddPerson(pdfake.Person{Name: fmt.Sprintf("P%d", i), OwnerID: 1, Phones: []pdfake.Phone{{Value: fmt.Sprintf("+7 916 000-%04d", i)}}})
	}
	ps, err := c.SearchPersonsByPhone(ctx(t), "916000")
	if err != nil || len(ps) != 2*pipedrive.PageLimit {
		t.Errorf("%d persons, %v; want %d", len(ps), err, 2*pipedrive.PageLimit)
	}
}
