package zoho_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/zoho"
	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
)

// clock is a settable clock for token expiry and the credit window.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.t.Store(&t) }
func (c *clock) now() time.Time   { return *c.t.Load() }
func (c *clock) add(d time.Duration) {
	c.set(c.now().Add(d))
}

func start(t *testing.T, fopts []zohofake.Option, opts ...zoho.Option) (*zohofake.Server, *zoho.Connector) {
	t.Helper()
	f := zohofake.Start(fopts...)
	t.Cleanup(f.Close)
	opts = append([]zoho.Option{zoho.AllowAnyHost(), zoho.WithHTTPClient(&http.Client{Timeout: 5 * time.Second})}, opts...)
	k, err := zoho.Open(f.URL, f.Credential(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f, k
}

func bg(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	clk := newClock(time.Now())
	f, k := start(t, nil, zoho.WithClock(clk.now))
	c := bg(t)
	for range 3 {
		if _, err := k.Deal(c, zohofake.SeedDeal); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.RefreshCount(); n != 1 {
		t.Fatalf("%d token requests for three calls, want 1", n)
	}
	// Within the margin before the hour is up, the token is renewed
	// before the call is sent: the CRM never sees an expired one.
	clk.add(zoho.AccessTokenTTL - zoho.RefreshMargin + time.Second)
	if _, err := k.Deal(c, zohofake.SeedDeal); err != nil {
		t.Fatal(err)
	}
	if n, refused := f.RefreshCount(), f.RefusedCount(); n != 2 || refused != 0 {
		t.Errorf("after 55 minutes: %d token requests (want 2), %d calls refused (want 0)", n, refused)
	}
}

func TestOneRefreshForConcurrentCalls(t *testing.T) {
	f, k := start(t, nil)
	c := bg(t)
	run := func() {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := k.Deal(c, zohofake.SeedDeal); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	run() // a cold start: one token for all
	if n := f.RefreshCount(); n != 1 {
		t.Fatalf("%d token requests for 20 concurrent first calls, want 1", n)
	}
	// The CRM drops the token: every call in flight gets 401
	// INVALID_TOKEN, one refresh serves them all, each is sent once more.
	f.ExpireAccessTokens()
	run()
	if n := f.RefreshCount(); n != 2 {
		t.Errorf("%d token requests after the token was refused, want 2", n)
	}
	if refused := f.RefusedCount(); refused < 1 || refused > 20 {
		t.Errorf("%d calls refused, want 1 to 20 (each at most once)", refused)
	}
}

func TestRefusedRefreshIsUnauthorized(t *testing.T) {
	f, k := start(t, nil)
	c := bg(t)
	f.RevokeCredentials()
	before := f.RequestCount()
	_, err := k.Directory(c)
	if !errors.Is(err, crm.ErrUnauthorized) || crm.Ambiguous(err) || crm.Permanent(err) || crm.RetryAfter(err) != 0 {
		t.Fatalf("revoked: %v; want crm.ErrUnauthorized only", err)
	}
	if !strings.Contains(err.Error(), "invalid_code") {
		t.Errorf("error %q does not name the accounts server's code", err)
	}
	if n := f.RequestCount() - before; n != 1 {
		t.Errorf("%d requests with a revoked refresh token, want 1 (the refresh)", n)
	}
	// A token refused after a good refresh: refreshed once, then refused.
	f.RestoreCredentials()
	if _, err := k.Deal(c, zohofake.SeedDeal); err != nil {
		t.Fatal(err)
	}
	f.Inject(zohofake.Fault{Times: 2, Status: http.StatusUnauthorized})
	refreshes := f.RefreshCount()
	_, err = k.Deal(c, zohofake.SeedDeal)
	if !errors.Is(err, crm.ErrUnauthorized) {
		t.Errorf("a token refused twice: %v; want crm.ErrUnauthorized", err)
	}
	if n := f.RefreshCount() - refreshes; n != 1 {
		t.Errorf("%d refreshes for a call refused twice, want 1", n)
	}
}

func TestEmptySearchIsNoContent(t *testing.T) {
	_, k := start(t, nil)
	c := bg(t)
	cs, err := k.Client().SearchContactsByPhone(c, "9990001122")
	if err != nil || cs != nil {
		t.Fatalf("search with no match = %v, %v; want nil, nil", cs, err)
	}
	notes, err := k.Client().ListNotes(c, "Deals", zohofake.SeedDeal)
	if err != nil || notes != nil {
		t.Fatalf("notes of a deal with none = %v, %v", notes, err)
	}
	if _, err := k.Deal(c, "5725767000000999999"); !errors.Is(err, zoho.ErrNotFound) || !crm.Permanent(err) {
		t.Errorf("Deal(missing) = %v; want a permanent not found", err)
	}
}

func TestRecordErrorInsideSuccess(t *testing.T) {
	f, k := start(t, nil)
	c := bg(t)
	f.Inject(zohofake.Fault{Method: http.MethodPost, Path: "/crm/v7/Deals", RecordError: "INVALID_DATA"})
	_, err := k.CreateClient(c, crm.ClientRecord{Marker: "#sbz-1", Name: "Ann Lee", Phone: "+79160000001", DealName: "Ann", ResponsibleID: zohofake.UserActive})
	if err == nil || !crm.Permanent(err) || crm.Ambiguous(err) || errors.Is(err, crm.ErrUnreachable) {
		t.Fatalf("a record refused in a 200: %v; want permanent", err)
	}
	var ze *zoho.Error
	if !errors.As(err, &ze) || !ze.Record || ze.Code != "INVALID_DATA" || ze.Status != http.StatusOK || ze.Field != "Owner" {
		t.Errorf("error = %#v", ze)
	}
	// The same refusal as the CRM sends it for a whole failed insert (400).
	_, err = k.CreateClient(c, crm.ClientRecord{Marker: "#sbz-2", Name: "Ann Lee", DealName: "Ann", ResponsibleID: zohofake.UserDisabled})
	if !errors.As(err, &ze) || !crm.Permanent(err) || ze.Code != "INVALID_DATA" || ze.Field != "Owner" {
		t.Errorf("an inactive owner: %v; want permanent INVALID_DATA (Owner)", err)
	}
	// The retry links the contact the first attempt made instead of
	// making another.
	before := len(f.Contacts())
	ref, err := k.CreateClient(c, crm.ClientRecord{Marker: "#sbz-1", Name: "Ann Lee", Phone: "+79160000001", DealName: "Ann", ResponsibleID: zohofake.UserActive})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Contacts()); n != before {
		t.Errorf("%d contacts after the retry, want %d", n, before)
	}
	if d, _ := f.Deal(ref.DealID); d.ContactID != ref.ContactID || d.Stage != "Qualification" || d.PipelineID != zohofake.PipelineStandard {
		t.Errorf("deal %+v, ref %+v", d, ref)
	}
}

func TestContactAnswerLostIsFoundByMarker(t *testing.T) {
	f, k := start(t, nil)
	c := bg(t)
	rec := crm.ClientRecord{Marker: "#sbz-7", Name: "Lev", Phone: "+79160000007", DealName: "Lev"}
	f.Inject(zohofake.Fault{Method: http.MethodPost, Path: "/crm/v7/Contacts", DropAfterCommit: true})
	if _, err := k.CreateClient(c, rec); !crm.Ambiguous(err) {
		t.Fatalf("lost contact answer: %v; want ambiguous", err)
	}
	ref, err := k.CreateClient(c, rec)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ct := range f.Contacts() {
		if strings.Contains(ct.Description, rec.Marker) {
			n++
			if ct.ID != ref.ContactID {
				t.Errorf("deal linked to %s, the contact made is %s", ref.ContactID, ct.ID)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d contacts with the marker, want 1", n)
	}
}

func TestCreditReserve(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	clk := newClock(t0)
	f, k := start(t, nil, zoho.WithClock(clk.now), zoho.WithDailyCredits(10))
	c := bg(t)
	var budgeted crm.Budgeted = k
	for i := range 9 { // 90 % of 10
		if _, err := k.Client().GetDeal(c, zohofake.SeedDeal); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		clk.add(10 * time.Second)
	}
	b, err := budgeted.Budget(c)
	if err != nil {
		t.Fatal(err)
	}
	used, limit, resets := b.Used, b.Limit, b.Resets
	wantReset := t0.Add(zoho.CreditWindow + time.Minute)
	if used != 9 || limit != 10 || !resets.Equal(wantReset) {
		t.Fatalf("Budget() = %d, %d, %v; want 9, 10, %v", used, limit, resets, wantReset)
	}
	before := f.RequestCount()
	err = k.SetResponsible(c, crm.ClientRef{DealID: zohofake.SeedDeal}, zohofake.UserOther)
	if err == nil || crm.Permanent(err) || crm.Ambiguous(err) || errors.Is(err, crm.ErrUnauthorized) {
		t.Fatalf("over the reserve: %v; want a retryable refusal", err)
	}
	if got, want := crm.RetryAfter(err), wantReset.Sub(clk.now()); got != want {
		t.Errorf("RetryAfter = %v, want %v (the window's reset)", got, want)
	}
	if n := f.RequestCount() - before; n != 0 {
		t.Errorf("%d requests sent over the reserve, want 0", n)
	}
	if f.CreditsUsed() != 9 {
		t.Errorf("the fake counted %d credits, want 9", f.CreditsUsed())
	}
	clk.set(wantReset)
	if _, err := k.Client().GetDeal(c, zohofake.SeedDeal); err != nil {
		t.Errorf("after the reset: %v", err)
	}
}

func TestLimitReachedWaitsForTheWindow(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))
	f, k := start(t, nil, zoho.WithClock(clk.now))
	c := bg(t)
	if _, err := k.Deal(c, zohofake.SeedDeal); err != nil {
		t.Fatal(err)
	}
	f.SetCredits(5, 5) // other integrations spent the org's credits
	_, err := k.Deal(c, zohofake.SeedDeal)
	if err == nil || crm.Permanent(err) || crm.Ambiguous(err) || crm.RetryAfter(err) <= 0 {
		t.Fatalf("LIMIT_REACHED: %v (retry after %v); want retryable with a wait", err, crm.RetryAfter(err))
	}
	if !strings.Contains(err.Error(), zoho.CodeLimitReached) {
		t.Errorf("error %q does not name the code", err)
	}
	before := f.RequestCount()
	_, err2 := k.Deal(c, zohofake.SeedDeal)
	if crm.RetryAfter(err2) <= 0 || f.RequestCount() != before {
		t.Errorf("the next call: %v, %d requests; want refused locally", err2, f.RequestCount()-before)
	}
}

func TestCreditHeaders(t *testing.T) {
	f, k := start(t, []zohofake.Option{zohofake.WithCreditHeaders()})
	f.SetCredits(1000, 400)
	if _, err := k.Client().GetDeal(bg(t), zohofake.SeedDeal); err != nil {
		t.Fatal(err)
	}
	b, err := k.Budget(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	used, limit, resets := b.Used, b.Limit, b.Resets
	if used != 401 || limit != 1000 || resets.Before(time.Now().Add(23*time.Hour)) {
		t.Errorf("Budget() = %d, %d, %v; want 401, 1000, about a day from now", used, limit, resets)
	}
}

func TestTooManyRequests(t *testing.T) {
	f, k := start(t, nil)
	f.Inject(zohofake.Fault{Status: http.StatusTooManyRequests})
	err := k.SetResponsible(bg(t), crm.ClientRef{DealID: zohofake.SeedDeal}, zohofake.UserOther)
	if crm.RetryAfter(err) != zoho.TooManyRequestsWait || crm.Ambiguous(err) || crm.Permanent(err) {
		t.Errorf("429: %v (retry after %v); want retryable after %v", err, crm.RetryAfter(err), zoho.TooManyRequestsWait)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	f, k := start(t, nil)
	c := bg(t)
	var errs []error
	collect := func(err error) {
		if err == nil {
			t.Error("no error")
		}
		errs = append(errs, err)
	}
	_, err := k.FindContact(c, "+79160000000", func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	// A dropped GET is sent again by net/http on a fresh connection; a
	// dropped POST is not.
	f.Inject(zohofake.Fault{Drop: true})
	collect(k.AddNote(c, crm.ClientRef{DealID: zohofake.SeedDeal}, "x", "#m", false))
	f.Inject(zohofake.Fault{Status: http.StatusBadGateway})
	collect(k.AddNote(c, crm.ClientRef{DealID: zohofake.SeedDeal}, "x", "#m", false))
	f.Inject(zohofake.Fault{Times: 2, Status: http.StatusUnauthorized})
	_, err = k.Deal(c, zohofake.SeedDeal)
	collect(err)
	f.RevokeCredentials()
	_, err = k.Directory(c)
	collect(err)
	_, err = zoho.New("https://www.zohoapis.example", f.Credential())
	collect(err)
	_, err = zoho.ParseCredential(`{"client_id":"id","client_secret":"` + zohofake.DefaultClientSecret + `"}`)
	collect(err)
	for _, err := range errs {
		msg := err.Error()
		for _, secret := range []string{zohofake.DefaultClientSecret, zohofake.DefaultRefreshToken, "Zoho-oauthtoken", "9160000000"} {
			if strings.Contains(msg, secret) {
				t.Errorf("error %q contains %q", msg, secret)
			}
		}
	}
}

func TestCredential(t *testing.T) {
	s := zoho.Credential(" 1000.ABC ", "sec", "1000.r.t", 52500)
	c, err := zoho.ParseCredential(s)
	if err != nil || c.ClientID != "1000.ABC" || c.ClientSecret != "sec" || c.RefreshToken != "1000.r.t" || c.DailyCredits != 52500 {
		t.Errorf("round trip of %s = %+v, %v", s, c, err)
	}
	c, err = zoho.ParseCredential(`{"client_id":"a","client_secret":"b","refresh_token":"c","credit_reserve":0.25,"concurrency":20}`)
	if err != nil || c.CreditReserve != 0.25 || c.Concurrency != 20 {
		t.Errorf("reserve and concurrency = %+v, %v", c, err)
	}
	c, err = zoho.ParseCredential("1000.ABC:sec:1000.r.t")
	if err != nil || c.ClientID != "1000.ABC" || c.RefreshToken != "1000.r.t" {
		t.Errorf("colon form = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "a:b", "{}", `{"client_id":"a","client_secret":"b"}`, "{", `{"client_id":"a","client_secret":"b","refresh_token":"c","daily_credits":-1}`,
		`{"client_id":"a","client_secret":"b","refresh_token":"c","credit_reserve":1}`} {
		if _, err := zoho.ParseCredential(bad); err == nil {
			t.Errorf("ParseCredential(%q) accepted", bad)
		}
	}
}

func TestDataCentre(t *testing.T) {
	ok := map[string][2]string{
		"com":                           {"https://www.zohoapis.com", "https://accounts.zoho.com"},
		".eu":                           {"https://www.zohoapis.eu", "https://accounts.zoho.eu"},
		"https://www.zohoapis.in":       {"https://www.zohoapis.in", "https://accounts.zoho.in"},
		"https://accounts.zoho.com.au/": {"https://www.zohoapis.com.au", "https://accounts.zoho.com.au"},
		"crm.zoho.jp":                   {"https://www.zohoapis.jp", "https://accounts.zoho.jp"},
		"https://www.zohoapis.ca":       {"https://www.zohoapis.ca", "https://accounts.zohocloud.ca"},
		"zoho.com.cn":                   {"https://www.zohoapis.com.cn", "https://accounts.zoho.com.cn"},
		"https://www.zohoapis.sa":       {"https://www.zohoapis.sa", "https://accounts.zoho.sa"},
	}
	for in, want := range ok {
		api, acc, err := zoho.DataCentre(in)
		if err != nil || api != want[0] || acc != want[1] {
			t.Errorf("DataCentre(%q) = %q, %q, %v; want %q, %q", in, api, acc, err, want[0], want[1])
		}
	}
	for _, bad := range []string{"", "de", "http://www.zohoapis.com", "https://www.zohoapis.com:8443",
		"https://evil.example/www.zohoapis.com", "https://www.zohoapis.com/crm/v7", "https://www.zohoapis.com.evil.example"} {
		if _, _, err := zoho.DataCentre(bad); err == nil {
			t.Errorf("DataCentre(%q) accepted", bad)
		}
	}
	_, err := crm.Open(crm.Config{Kind: crm.Zoho, BaseURL: "http://127.0.0.1:1", Token: zoho.Credential("a", "b", "c", 0)})
	if !errors.Is(err, crm.ErrBadAddress) {
		t.Errorf("a local address without AllowAnyHost: %v; want crm.ErrBadAddress", err)
	}
	conn, err := crm.Open(crm.Config{Kind: crm.Zoho, BaseURL: "https://www.zohoapis.eu", Token: zoho.Credential("a", "b", "c", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := conn.(crm.Budgeted); !ok {
		t.Error("the connector is not crm.Budgeted")
	}
}

func TestWatchAndNotify(t *testing.T) {
	got := make(chan []crm.Event, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events, err := crm.ParseWebhook(crm.Zoho, r)
		if err != nil {
			t.Error(err)
		}
		got <- events
	}))
	defer recv.Close()
	f, k := start(t, nil)
	c := bg(t)
	err := k.Client().Watch(c, zoho.Channel{ID: 1000000068001, Events: []string{"Deals.edit"}, NotifyURL: recv.URL, Token: "sb-chan-1"})
	if err != nil {
		t.Fatal(err)
	}
	if chs := f.Channels(); len(chs) != 1 || chs[0].Token != "sb-chan-1" {
		t.Fatalf("channels %+v", chs)
	}
	if err := f.Notify(c, "Deals", "edit", zohofake.SeedDeal); err != nil {
		t.Fatal(err)
	}
	if ev := <-got; len(ev) != 1 || ev[0].DealID != zohofake.SeedDeal || ev[0].Token != "sb-chan-1" {
		t.Errorf("events %+v", ev)
	}
	if err := k.Client().Watch(c, zoho.Channel{ID: 1, Events: []string{"Deals.all"}, NotifyURL: recv.URL, Token: strings.Repeat("x", 51)}); err == nil || !zoho.IsPermanent(err) {
		t.Errorf("a 51-character token: %v; want a permanent refusal", err)
	}
}

func TestRefreshThrottledIsRetried(t *testing.T) {
	f, k := start(t, nil)
	c := bg(t)
	f.Inject(zohofake.Fault{PathPrefix: "/oauth", Status: http.StatusBadRequest})
	_, err := k.Deal(c, zohofake.SeedDeal)
	if err == nil || errors.Is(err, crm.ErrUnauthorized) || crm.Permanent(err) || crm.Ambiguous(err) || crm.RetryAfter(err) != zoho.RefreshRetryWait {
		t.Fatalf("a throttled refresh: %v; want retryable after %v", err, zoho.RefreshRetryWait)
	}
	if b, _ := k.Budget(bg(t)); b.Used != 0 {
		t.Errorf("%d credits counted for calls never sent", b.Used)
	}
	if _, err := k.Deal(c, zohofake.SeedDeal); err != nil {
		t.Errorf("after the throttle: %v", err)
	}
}

func TestConcurrencyBounded(t *testing.T) {
	f, k := start(t, nil, zoho.WithConcurrency(2))
	c := bg(t)
	if _, err := k.Client().GetDeal(c, zohofake.SeedDeal); err != nil { // the token
		t.Fatal(err)
	}
	f.Inject(zohofake.Fault{Times: 6, Delay: 100 * time.Millisecond})
	t0 := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := k.Client().GetDeal(c, zohofake.SeedDeal); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Errorf("6 slow calls two at a time took %v, want at least 300ms", d)
	}
}
