package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/hubspot"
	"github.com/switchboardhq/switchboard/server/crm/hubspot/hubfake"
)

const secretToken = "pat-na1-5ecret-7oken-4242"

func asError(t *testing.T, err error) *hubspot.Error {
	t.Helper()
	var e *hubspot.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *hubspot.Error", err, err)
	}
	return e
}

func TestOpenValidatesBaseURL(t *testing.T) {
	tests := []struct {
		url     string
		anyHost bool
		ok      bool
	}{
		{"", false, true},
		{"https://api.hubapi.com", false, true},
		{"https://api.hubapi.com/", false, true},
		{"https://API.hubapi.com:443", false, true},
		{"http://api.hubapi.com", false, false},
		{"https://api.hubapi.com:8443", false, false},
		{"https://api.hubapi.com.evil.com", false, false},
		{"https://api.hubspot.com", false, false},
		{"https://api.hubapi.com/crm/v3", false, false},
		{"https://api.hubapi.com?x=1", false, false},
		{"https://user@api.hubapi.com", false, false},
		{"https://crm.example.com", true, true},
		{"http://127.0.0.1:8093", true, true},
		{"ftp://127.0.0.1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			conn, err := crm.Open(crm.Config{Kind: crm.HubSpot, BaseURL: tt.url, Token: secretToken, AllowAnyHost: tt.anyHost})
			if (err == nil) != tt.ok {
				t.Fatalf("Open(%q) error = %v, want ok %v", tt.url, err, tt.ok)
			}
			if err != nil && (!errors.Is(err, crm.ErrBadAddress) || strings.Contains(err.Error(), secretToken)) {
				t.Fatalf("error %v: want crm.ErrBadAddress without the token", err)
			}
			if err == nil && conn == nil {
				t.Fatal("no connector")
			}
		})
	}
	for _, tok := range []string{"", "  ", "two words"} {
		if _, err := crm.Open(crm.Config{Kind: crm.HubSpot, Token: tok}); !errors.Is(err, crm.ErrBadAddress) {
			t.Errorf("token %q: %v; want crm.ErrBadAddress", tok, err)
		}
	}
	if !crm.Supported(crm.HubSpot) {
		t.Error("HUBSPOT is not registered")
	}
}

func TestOwnersPagePastOnePage(t *testing.T) {
	d := hubfake.Seed()
	d.Owners = nil
	for i := range 230 {
		d.Owners = append(d.Owners, hubfake.Owner{ID: fmt.Sprint(50000000 + i), UserID: int64(9000000 + i),
			Email: fmt.Sprintf("u%d@example.com", i), FirstName: fmt.Sprint("U", i), Archived: i%10 == 0})
	}
	f, c := start(t, hubfake.WithData(d))
	owners, err := c.ListOwners(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(owners) != 230 {
		t.Fatalf("got %d owners, want 230", len(owners))
	}
	archived := 0
	for _, o := range owners {
		if o.Archived {
			archived++
		}
	}
	if archived != 23 {
		t.Errorf("%d archived owners, want 23", archived)
	}
	// 207 active: 3 pages of 100; 23 archived: 1 page.
	if n := f.RequestCount(); n != 4 {
		t.Errorf("%d requests, want 4 (3 pages of active owners, 1 of archived)", n)
	}
	conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := conn.Directory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range dir.Users {
		if u.ID == "50000010" && u.Active {
			t.Errorf("archived owner %+v is active", u)
		}
		if u.ID == "50000011" && (!u.Active || u.Name != "U11" || u.Email != "u11@example.com") {
			t.Errorf("owner %+v", u)
		}
	}
}

func TestDirectoryPipelines(t *testing.T) {
	f, _ := start(t)
	conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := conn.Directory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(dir.Pipelines) != 2 {
		t.Fatalf("pipelines %+v", dir.Pipelines)
	}
	p := dir.Pipelines[0]
	if p.ID != "default" || !p.Main || len(p.Stages) != 7 || p.Stages[0].ID != "appointmentscheduled" ||
		p.Stages[5].Kind != crm.Won || p.Stages[6].Kind != crm.Lost || p.Stages[4].Kind != crm.Working {
		t.Errorf("default pipeline %+v", p)
	}
	if s := dir.Pipelines[1]; s.Main || s.Stages[2].Kind != crm.Won || s.Stages[3].Kind != crm.Lost {
		t.Errorf("support pipeline %+v", s)
	}
}

func TestRateLimitTenSecondly(t *testing.T) {
	f, c := start(t)
	f.Inject(hubfake.Fault{Status: http.StatusTooManyRequests, Policy: "TEN_SECONDLY_ROLLING"})
	_, err := c.ListPipelines(context.Background())
	e := asError(t, err)
	if !e.RateLimited() || !e.Retryable() || e.Ambiguous() || e.Permanent() || e.PolicyName != hubspot.PolicySecondly {
		t.Fatalf("429: %v (rate limited %v, retryable %v, ambiguous %v)", e, e.RateLimited(), e.Retryable(), e.Ambiguous())
	}
	if e.RetryAfter != 10*time.Second || crm.RetryAfter(err) != 10*time.Second {
		t.Errorf("RetryAfter %v, want the 10 s window", e.RetryAfter)
	}
	// The client holds the account's next request back (at most
	// hubspot.MaxHold) rather than sending it into a full window.
	began := time.Now()
	if _, err := c.ListPipelines(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < hubspot.MaxHold-50*time.Millisecond || d > hubspot.MaxHold+time.Second {
		t.Errorf("retry sent after %v, want about %v", d, hubspot.MaxHold)
	}

	// The fake's own window answers the same way, with its interval.
	f.SetBurst(3, 2*time.Second)
	var last error
	for range 4 {
		_, last = c.ListPipelines(context.Background())
	}
	if e := asError(t, last); !e.RateLimited() || e.RetryAfter != 2*time.Second {
		t.Errorf("the 4th request of 3 per 2 s: %v, retry after %v", last, e.RetryAfter)
	}
}

func TestRateLimitDaily(t *testing.T) {
	f, c := start(t, hubfake.WithDailyLimit(1))
	ctx := context.Background()
	if _, err := c.ListPipelines(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListPipelines(ctx)
	e := asError(t, err)
	if !e.RateLimited() || e.PolicyName != hubspot.PolicyDaily || e.RetryAfter <= 0 || e.RetryAfter > time.Hour+time.Second {
		t.Fatalf("daily 429: %v, retry after %v; want a wait until the next hour", e, e.RetryAfter)
	}
	// A daily limit does not hold the account: the next request is sent.
	before := f.RequestCount()
	began := time.Now()
	_, _ = c.ListPipelines(ctx)
	if f.RequestCount() != before+1 || time.Since(began) > 500*time.Millisecond {
		t.Error("a daily 429 held the next request back")
	}
	loc := time.FixedZone("UTC-8", -8*3600)
	c2, err := hubspot.New(f.URL, f.Token(), append(clientOpts(), hubspot.WithTimeZone(loc))...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.ListPipelines(ctx)
	now := time.Now().In(loc)
	mid := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	if d := crm.RetryAfter(err); d < mid.Sub(now)-5*time.Second || d > mid.Sub(now)+5*time.Second {
		t.Errorf("daily 429 with the account's zone: retry after %v, want until its midnight (%v)", d, mid.Sub(now))
	}
}

func TestSearchLimitRespected(t *testing.T) {
	f := hubfake.Start(hubfake.WithToken(uniqueToken())) // 5 searches a second
	t.Cleanup(f.Close)
	// The client's own search pacing (4 a second) keeps under the fake's.
	conn, err := hubspot.Open(f.URL, f.Token(), hubspot.AllowAnyHost(), hubspot.WithBurstLimit(0, 0),
		hubspot.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := conn.FindContact(context.Background(), "+79035550102", func(string) bool { return true })
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("paced search: %v", err)
		}
	}
	if d := time.Since(began); d < 2*time.Second {
		t.Errorf("%d searches in %v: not paced at 4 a second", n, d)
	}

	// Unpaced, the fake refuses searches past 5 in a second.
	_, c := start(t)
	refused := 0
	for range 8 {
		_, err := c.Search(context.Background(), hubspot.Contacts, []hubspot.FilterGroup{{Filters: []hubspot.Filter{
			{PropertyName: "phone", Operator: "HAS_PROPERTY"}}}}, nil)
		if err != nil {
			if e := asError(t, err); !e.RateLimited() || e.RetryAfter != time.Second {
				t.Fatalf("search over the limit: %v", err)
			}
			refused++
		}
	}
	if refused == 0 {
		t.Error("8 searches at once were all admitted")
	}
}

func TestUnauthorizedAndScopes(t *testing.T) {
	f, _ := start(t)
	conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f.SetMissingScopes(true)
	_, err = conn.Deal(ctx, "1201")
	if !errors.Is(err, crm.ErrUnauthorized) || !strings.Contains(err.Error(), "scopes") || crm.Ambiguous(err) {
		t.Errorf("403 MISSING_SCOPES: %v; want crm.ErrUnauthorized with the message", err)
	}
	f.SetMissingScopes(false)
	wrong, err := hubspot.Open(f.URL, secretToken, clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Directory(ctx)
	if !errors.Is(err, crm.ErrUnauthorized) || strings.Contains(err.Error(), secretToken) {
		t.Errorf("a wrong token: %v; want crm.ErrUnauthorized without the token", err)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	f := hubfake.Start(hubfake.WithToken(secretToken))
	conn, err := hubspot.Open(f.URL, secretToken, clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var errs []error
	f.FailNext("", 1, http.StatusBadRequest)
	_, err = conn.Deal(ctx, "1201")
	errs = append(errs, err)
	f.FailNext("", 1, http.StatusBadGateway)
	_, err = conn.Deal(ctx, "1201")
	errs = append(errs, err)
	// A dropped GET on a reused connection is sent again by net/http
	// itself; a POST is not.
	f.Inject(hubfake.Fault{Drop: true})
	err = conn.AddNote(ctx, crm.ClientRef{DealID: "1201"}, "x", "#sbm1", false)
	errs = append(errs, err)
	_, err = conn.Deal(ctx, "404404")
	errs = append(errs, err)
	f.Close()
	_, err = conn.Directory(ctx)
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), secretToken) || strings.Contains(fmt.Sprintf("%#v", err), secretToken) {
			t.Errorf("case %d shows the token: %v", i, err)
		}
	}
	if !crm.Permanent(errs[0]) || !errors.Is(errs[1], crm.ErrUnreachable) || !crm.Ambiguous(errs[2]) ||
		!errors.Is(errs[3], hubspot.ErrNotFound) || !errors.Is(errs[4], crm.ErrUnreachable) {
		t.Errorf("classes: %v", errs)
	}
}

func TestSearchLagAndAssociations(t *testing.T) {
	f, _ := start(t, hubfake.WithSearchLag(time.Hour))
	conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := crm.ClientRecord{Marker: "#sb-7-70", Name: "Mary Jane Watson", Phone: "+79165550170",
		DealName: "Mary Jane, WhatsApp", ResponsibleID: "41629781", ContactID: "51"}
	ref, err := conn.CreateClient(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	// The search does not see the new deal yet; the contact's associations do.
	got, err := conn.FindCreated(ctx, rec)
	if err != nil || got == nil || *got != ref {
		t.Fatalf("FindCreated under a lagging index = %+v, %v; want %+v", got, err, ref)
	}
	// A new contact is not found by phone until indexed.
	rec2 := rec
	rec2.ContactID, rec2.Marker = "", "#sb-7-71"
	ref2, err := conn.CreateClient(ctx, rec2)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f.Get("contacts", ref2.ContactID)
	if c.Props["firstname"] != "Mary" || c.Props["lastname"] != "Jane Watson" || c.Props["phone"] != rec.Phone {
		t.Errorf("contact %+v", c.Props)
	}
	if found, err := conn.FindContact(ctx, rec.Phone, func(string) bool { return true }); err != nil || found != nil {
		t.Errorf("FindContact before indexing = %+v, %v; want nil (the index lags)", found, err)
	}
	if ds := f.Associated("contacts", ref2.ContactID, "deals"); len(ds) != 1 || ds[0].ID != ref2.DealID {
		t.Errorf("deal→contact association: %+v", ds)
	}
}

func TestContactReusedAfterFailedDeal(t *testing.T) {
	f, _ := start(t)
	conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := crm.ClientRecord{Marker: "#sb-8-80", Name: "Ned Leeds", Phone: "+79165550180", DealName: "Ned", ResponsibleID: "41629781"}
	before := len(f.Records("contacts"))
	f.Inject(hubfake.Fault{Op: "POST /crm/v3/objects/deals", Status: http.StatusServiceUnavailable})
	if _, err := conn.CreateClient(ctx, rec); !crm.Ambiguous(err) {
		t.Fatalf("deal answered 503: %v; want ambiguous", err)
	}
	ref, err := conn.CreateClient(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Records("contacts")) - before; n != 1 {
		t.Errorf("%d contacts made, want 1", n)
	}
	if ds := f.Associated("contacts", ref.ContactID, "deals"); len(ds) != 1 {
		t.Errorf("contact's deals %+v", ds)
	}
}

// TestContactFoundByMarkerInAnotherConnector: a client known by a
// messenger handle (no phone to find its contact by) whose deal failed
// after its contact was made gets no second contact when the retry runs
// in another connector, as the outbox's next job does.
func TestContactFoundByMarkerInAnotherConnector(t *testing.T) {
	f, _ := start(t)
	open := func() crm.Connector {
		conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	ctx := context.Background()
	rec := crm.ClientRecord{Marker: "#sb-8-81", Name: "Client @betty", DealName: "Betty, Telegram", ResponsibleID: "41629781"}
	before := len(f.Records("contacts"))
	f.Inject(hubfake.Fault{Op: "POST /crm/v3/objects/deals", Status: http.StatusInternalServerError})
	if _, err := open().CreateClient(ctx, rec); err == nil {
		t.Fatal("the deal answered 500, CreateClient did not fail")
	}
	retry := open()
	if got, err := retry.FindCreated(ctx, rec); err != nil || got != nil {
		t.Fatalf("FindCreated with no deal made = %+v, %v; want nil", got, err)
	}
	ref, err := retry.CreateClient(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Records("contacts")) - before; n != 1 {
		t.Errorf("%d contacts made, want 1", n)
	}
	if c, _ := f.Get("contacts", ref.ContactID); c.Props["message"] != rec.Marker {
		t.Errorf("the contact's message %q, want the marker", c.Props["message"])
	}
}

func TestNoteBodyAndAssociation(t *testing.T) {
	f, _ := start(t)
	conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := conn.AddNote(ctx, crm.ClientRef{ContactID: "51", DealID: "1201"}, "<b>Hi</b> & bye\nline 2", "#sbm9", false); err != nil {
		t.Fatal(err)
	}
	bodies := f.NotesOf("deals", "1201")
	if len(bodies) != 1 || bodies[0] != "&lt;b&gt;Hi&lt;/b&gt; &amp; bye<br>line 2<br>#sbm9" {
		t.Errorf("deal notes %q", bodies)
	}
	if n := f.NotesOf("contacts", "51"); len(n) != 0 {
		t.Errorf("a deal note is on the contact too: %q", n)
	}
	notes := f.Records("notes")
	if len(notes) != 1 || notes[0].Props["hs_timestamp"] == "" {
		t.Errorf("notes %+v", notes)
	}
}

func TestFindContactFallsBackToStoredSpellings(t *testing.T) {
	f, _ := start(t)
	conn, err := hubspot.Open(f.URL, f.Token(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	id := f.Add(hubfake.Record{Type: "contacts", Props: map[string]string{"firstname": "Liz", "mobilephone": "+79165550190"}})
	f.Inject(hubfake.Fault{Op: "POST /crm/v3/objects/contacts/search", Status: http.StatusBadRequest})
	got, err := conn.FindContact(context.Background(), "+79165550190", func(raw string) bool { return raw == "+79165550190" })
	if err != nil || got == nil || got.ID != id || got.Name != "Liz" {
		t.Errorf("FindContact after a refused search = %+v, %v; want contact %s", got, err, id)
	}
}

// countingLimiter counts the requests that waited on it.
type countingLimiter struct{ n atomic.Int64 }

func (l *countingLimiter) Wait(context.Context) error { l.n.Add(1); return nil }

// A connector opened with shared limiters waits on the one named "search"
// before every search and only then, so the search limit holds for all
// replicas together; every request waits on the general one.
func TestSearchesWaitOnTheSharedSearchLimiter(t *testing.T) {
	f := hubfake.Start(hubfake.WithToken(uniqueToken()))
	defer f.Close()
	var general, search countingLimiter
	var asked []string
	conn, err := crm.Open(crm.Config{Kind: crm.HubSpot, BaseURL: f.URL, Token: f.Token(), AllowAnyHost: true, Limiter: &general,
		Limiters: func(name string, r crm.Rate) interface{ Wait(context.Context) error } {
			asked = append(asked, name)
			if r.PerSecond <= 0 || r.PerSecond > 5 {
				t.Errorf("search rate %v", r.PerSecond)
			}
			return &search
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != "search" {
		t.Fatalf("limiters asked for %v", asked)
	}
	ctx := context.Background()
	if _, err := conn.Directory(ctx); err != nil {
		t.Fatal(err)
	}
	if search.n.Load() != 0 || general.n.Load() == 0 {
		t.Fatalf("after reading the directory: %d searches, %d requests paced", search.n.Load(), general.n.Load())
	}
	before := general.n.Load()
	if _, err := conn.FindContact(ctx, "+79161234567", func(string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if search.n.Load() == 0 || general.n.Load() == before {
		t.Fatalf("a phone search: %d searches, %d requests paced", search.n.Load(), general.n.Load()-before)
	}
}
