package bitrix24_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
)

const secret = "s3cr3tWebhookKey42"

func asError(t *testing.T, err error) *bitrix24.Error {
	t.Helper()
	var e *bitrix24.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *bitrix24.Error", err, err)
	}
	return e
}

func TestNewValidatesBaseURL(t *testing.T) {
	tests := []struct {
		url     string
		anyHost bool
		ok      bool
	}{
		{"https://example.bitrix24.ru", false, true},
		{"https://example.bitrix24.ru/", false, true},
		{"https://example.bitrix24.ru:443", false, true},
		{"https://Example.Bitrix24.COM", false, true},
		{"https://example.bitrix24.de", false, true},
		{"https://example.bitrix24.com.br", false, true},
		{"https://example.bitrix24.ru:8443", false, false},
		{"http://example.bitrix24.ru", false, false},
		{"https://bitrix24.ru", false, false},
		{"https://a.b.bitrix24.ru", false, false},
		{"https://example.bitrix24.ru.evil.com", false, false},
		{"https://example.bitrix24.xyz", false, false},
		{"https://crm.example.com", false, false},
		{"https://crm.example.com", true, true},
		{"https://example.bitrix24.ru/rest/1/" + secret + "/", false, false},
		{"https://example.bitrix24.ru?x=1", false, false},
		{"https://user@example.bitrix24.ru", false, false},
		{"example.bitrix24.ru", false, false},
		{"http://127.0.0.1:8092", true, true},
		{"ftp://127.0.0.1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			var opts []bitrix24.Option
			if tt.anyHost {
				opts = append(opts, bitrix24.AllowAnyHost())
			}
			c, err := bitrix24.New(tt.url, "1/"+secret, opts...)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%q) error = %v, want ok %v", tt.url, err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the secret: %v", err)
			}
			if c != nil && (strings.HasSuffix(c.BaseURL(), "/") || strings.Contains(c.BaseURL(), secret)) {
				t.Fatalf("BaseURL %q", c.BaseURL())
			}
		})
	}
	for _, cred := range []string{"", "1", "0/" + secret, "x/" + secret, "1/" + secret + "/extra", "1/a b"} {
		if _, err := bitrix24.New("https://example.bitrix24.ru", cred); err == nil {
			t.Errorf("credential %q accepted", cred)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}

func TestSplitWebhookURL(t *testing.T) {
	tests := []struct{ in, base, cred string }{
		{"https://example.bitrix24.ru/rest/1/" + secret + "/", "https://example.bitrix24.ru", "1/" + secret},
		{"https://example.bitrix24.ru/rest/1/" + secret, "https://example.bitrix24.ru", "1/" + secret},
		{" https://example.bitrix24.ru/rest/17/" + secret + "/profile.json ", "https://example.bitrix24.ru", "17/" + secret},
		{"https://example.bitrix24.ru/rest/17/" + secret + "/profile", "https://example.bitrix24.ru", "17/" + secret},
		{"https://example.bitrix24.ru/rest/1/", "", ""},
		{"https://example.bitrix24.ru/rest/1/" + secret + "/a/b", "", ""},
		{"https://example.bitrix24.ru/api/1/" + secret + "/", "", ""},
		{"https://example.bitrix24.ru/rest/x/" + secret + "/", "", ""},
		{"example.bitrix24.ru/rest/1/" + secret, "", ""},
	}
	for _, tt := range tests {
		base, cred, err := bitrix24.SplitWebhookURL(tt.in)
		if tt.base == "" {
			if err == nil {
				t.Errorf("SplitWebhookURL(%q) = %q, %q; want an error", tt.in, base, cred)
			} else if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret: %v", err)
			}
			continue
		}
		if err != nil || base != tt.base || cred != tt.cred {
			t.Errorf("SplitWebhookURL(%q) = %q, %q, %v", tt.in, base, cred, err)
		}
	}
}

func TestOpenTakesTheWebhookURL(t *testing.T) {
	f, _ := start(t)
	for _, tc := range []struct{ base, token string }{
		{f.URL, f.Credential()},
		{f.URL, f.WebhookURL()},
		{"", f.WebhookURL()},
	} {
		conn, err := crm.Open(crm.Config{Kind: crm.Bitrix24, BaseURL: tc.base, Token: tc.token, AllowAnyHost: true})
		if err != nil {
			t.Fatalf("Open(%q, …): %v", tc.base, err)
		}
		if _, err := conn.Deal(context.Background(), "1"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := crm.Open(crm.Config{Kind: crm.Bitrix24, BaseURL: "https://other.bitrix24.ru", Token: f.WebhookURL(), AllowAnyHost: true})
	if !errors.Is(err, crm.ErrBadAddress) {
		t.Errorf("a webhook of another portal: %v; want crm.ErrBadAddress", err)
	}
	_, err = crm.Open(crm.Config{Kind: crm.Bitrix24, BaseURL: "https://example.com", Token: "1/" + secret})
	if !errors.Is(err, crm.ErrBadAddress) || strings.Contains(err.Error(), secret) {
		t.Errorf("a host outside Bitrix24: %v; want crm.ErrBadAddress without the secret", err)
	}
	if !crm.Supported(crm.Bitrix24) {
		t.Error("BITRIX24 is not registered")
	}
}

func TestListUsersPagesPast50(t *testing.T) {
	d := bxfake.Seed()
	d.Users = nil
	for i := range 120 {
		d.Users = append(d.Users, bxfake.User{ID: int64(i + 1), Name: fmt.Sprint("U", i+1), Active: i%3 != 0})
	}
	d.Users = append(d.Users, bxfake.User{ID: 500, Name: "Guest", Active: true, Type: "extranet"})
	f, c := start(t, bxfake.WithData(d))
	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 120 || users[0].ID != "1" || users[119].ID != "120" {
		t.Fatalf("got %d users, want 120 employees in id order", len(users))
	}
	if users[0].Active || !users[1].Active {
		t.Errorf("activity not read: %+v %+v", users[0], users[1])
	}
	if n := f.RequestCount(); n != 3 {
		t.Errorf("%d requests for 120 users, want 3 pages of 50", n)
	}
}

func TestDirectoryDefaultPipeline(t *testing.T) {
	for _, hidden := range []bool{false, true} {
		t.Run(fmt.Sprint("hidden=", hidden), func(t *testing.T) {
			var opts []bxfake.Option
			if hidden {
				opts = append(opts, bxfake.WithHiddenDefaultCategory())
			}
			f, _ := start(t, opts...)
			conn, err := bitrix24.Open(f.URL, f.Credential(), clientOpts()...)
			if err != nil {
				t.Fatal(err)
			}
			before := f.RequestCount()
			dir, err := conn.Directory(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(dir.Pipelines) != 2 {
				t.Fatalf("pipelines %+v", dir.Pipelines)
			}
			p0 := dir.Pipelines[0]
			if p0.ID != "0" || !p0.Main || len(p0.Stages) != 5 || p0.Stages[0].ID != "NEW" {
				t.Errorf("default pipeline %+v", p0)
			}
			p1 := dir.Pipelines[1]
			if p1.ID != "1" || p1.Main || p1.Stages[0].ID != "C1:NEW" || p1.Stages[2].Kind != crm.Won || p1.Stages[3].Kind != crm.Lost {
				t.Errorf("pipeline 1 %+v", p1)
			}
			// user.get, crm.category.list, one batch of crm.status.list.
			if n := f.RequestCount() - before; n != 3 {
				t.Errorf("%d requests for the directory, want 3", n)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	f, c := start(t)
	ctx := context.Background()
	cmds := []bitrix24.Command{
		{Key: "deal", Method: "crm.deal.get", Params: map[string]any{"id": 1}},
		{Key: "contact", Method: "crm.contact.get", Params: map[string]any{"id": "$result[deal][CONTACT_ID]"}},
		{Key: "missing", Method: "crm.deal.get", Params: map[string]any{"id": 999}},
		{Key: "users", Method: "user.get", Params: map[string]any{"FILTER": map[string]any{"ACTIVE": true}}},
	}
	b, err := c.Batch(ctx, false, cmds)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b.Results["contact"]), `"Parker"`) {
		t.Errorf("reference not resolved: %s", b.Results["contact"])
	}
	e := b.Errors["missing"]
	if e == nil || !errors.Is(e, bitrix24.ErrNotFound) || !e.Permanent() || e.Ambiguous() {
		t.Errorf("missing deal: %v", e)
	}
	if b.Total["users"] != 5 {
		t.Errorf("result_total %v", b.Total)
	}
	if err := b.Err(cmds); err != e {
		t.Errorf("Err = %v, want the missing deal's", err)
	}
	// halt stops at the first failure.
	b, err = c.Batch(ctx, true, []bitrix24.Command{cmds[2], cmds[0]})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Results["deal"]; ok || b.Errors["missing"] == nil {
		t.Errorf("halt: results %v errors %v", b.Results, b.Errors)
	}
	// Limits are checked before anything is sent.
	before := f.RequestCount()
	many := make([]bitrix24.Command, bitrix24.MaxBatch+1)
	for i := range many {
		many[i] = bitrix24.Command{Key: fmt.Sprint("c", i), Method: "crm.deal.get", Params: map[string]any{"id": 1}}
	}
	if _, err := c.Batch(ctx, false, many); err == nil || !bitrix24.IsPermanent(err) {
		t.Errorf("51 commands: %v", err)
	}
	if _, err := c.Batch(ctx, false, []bitrix24.Command{{Key: "b", Method: "batch"}}); err == nil {
		t.Error("a nested batch is sent")
	}
	if f.RequestCount() != before {
		t.Error("a refused batch reached the portal")
	}
}

func TestCreateClientIsOneBatch(t *testing.T) {
	f, _ := start(t)
	conn, err := bitrix24.Open(f.URL, f.Credential(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	rec := crm.ClientRecord{Marker: "#sb-1-42", Name: "Mary Jane", Phone: "+79165550142", DealName: "Mary Jane, Telegram",
		PipelineID: "1", StageID: "C1:EXECUTING", ResponsibleID: "3"}
	ref, err := conn.CreateClient(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"batch", "batch:crm.contact.add", "batch:crm.deal.add"}
	if got := f.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	d, _ := f.Deal(id(ref.DealID))
	if d.Title != "Mary Jane, Telegram #sb-1-42" || d.CategoryID != 1 || d.StageID != "C1:EXECUTING" || d.AssignedBy != 3 ||
		!slices.Equal(d.ContactIDs, []int64{id(ref.ContactID)}) {
		t.Errorf("deal %+v", d)
	}
	c, _ := f.Contact(id(ref.ContactID))
	if c.Name != "Mary Jane" || c.AssignedBy != 3 || len(c.Phones) != 1 || c.Phones[0].Value != "+79165550142" || c.Phones[0].ValueType != "WORK" {
		t.Errorf("contact %+v", c)
	}
	// A marker that is a prefix of another's is not found in it.
	if got, err := conn.FindCreated(context.Background(), crm.ClientRecord{Marker: "#sb-1-4"}); err != nil || got != nil {
		t.Errorf("FindCreated(#sb-1-4) = %+v, %v", got, err)
	}
	// A stage of another pipeline is the portal's refusal: permanent.
	rec.Marker, rec.StageID = "#sb-1-43", "WON"
	if _, err := conn.CreateClient(context.Background(), rec); !crm.Permanent(err) {
		t.Errorf("a stage outside the pipeline: %v; want permanent", err)
	}
}

func TestErrorsClassified(t *testing.T) {
	tests := []struct {
		name                                      string
		fault                                     bxfake.Fault
		retryable, permanent, unauthorized, ambig bool
		retryAfter                                time.Duration
		code                                      string
	}{
		{"query limit", bxfake.Fault{Status: 503}, true, false, false, false, time.Second, bitrix24.CodeQueryLimit},
		{"query limit with Retry-After", bxfake.Fault{Status: 503, RetryAfter: "3"}, true, false, false, false, 3 * time.Second, bitrix24.CodeQueryLimit},
		{"operation time limit", bxfake.Fault{Status: 429}, true, false, false, false, 0, bitrix24.CodeOperationLimit},
		{"invalid credentials", bxfake.Fault{Status: 401}, false, false, true, false, 0, "INVALID_CREDENTIALS"},
		{"expired token", bxfake.Fault{Status: 401, Code: "expired_token"}, false, false, true, false, 0, "expired_token"},
		{"no auth found", bxfake.Fault{Status: 401, Code: "NO_AUTH_FOUND"}, false, false, true, false, 0, "NO_AUTH_FOUND"},
		{"portal deleted", bxfake.Fault{Status: 403, Code: "PORTAL_DELETED"}, false, false, true, false, 0, "PORTAL_DELETED"},
		{"validation", bxfake.Fault{Status: 400}, false, true, false, false, 0, ""},
		{"no such method", bxfake.Fault{Status: 404}, false, true, false, false, 0, "ERROR_METHOD_NOT_FOUND"},
		{"server fault", bxfake.Fault{Status: 500}, true, false, false, true, 0, bitrix24.CodeInternal},
		{"proxy page", bxfake.Fault{Status: 502}, true, false, false, true, 0, ""},
		{"dropped", bxfake.Fault{Drop: true}, true, false, false, true, 0, ""},
		{"answer lost", bxfake.Fault{DropAfterCommit: true}, true, false, false, true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := start(t)
			f.Inject(tt.fault)
			_, err := c.GetDeal(context.Background(), "1")
			e := asError(t, err)
			if e.Retryable() != tt.retryable || e.Permanent() != tt.permanent || e.Unauthorized() != tt.unauthorized || e.Ambiguous() != tt.ambig {
				t.Errorf("%v: retryable %v permanent %v unauthorized %v ambiguous %v", err, e.Retryable(), e.Permanent(), e.Unauthorized(), e.Ambiguous())
			}
			if e.Code != tt.code {
				t.Errorf("code %q, want %q", e.Code, tt.code)
			}
			if tt.retryAfter > 0 && e.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			if tt.code == bitrix24.CodeOperationLimit && (e.RetryAfter <= 0 || e.RetryAfter > 10*time.Minute) {
				t.Errorf("OPERATION_TIME_LIMIT RetryAfter %v", e.RetryAfter)
			}
			if strings.Contains(err.Error(), f.Credential()) || strings.Contains(err.Error(), bxfake.DefaultSecret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	f, _ := start(t)
	c, err := bitrix24.New(f.URL, f.Credential(), bitrix24.AllowAnyHost(), bitrix24.WithPortalLimit(0, 0),
		bitrix24.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	f.Inject(bxfake.Fault{Delay: 300 * time.Millisecond})
	_, err = c.GetDeal(context.Background(), "1")
	if err == nil || !bitrix24.IsAmbiguous(err) || !bitrix24.IsRetryable(err) {
		t.Fatalf("timeout: %v", err)
	}
	if strings.Contains(err.Error(), bxfake.DefaultSecret) {
		t.Errorf("the timeout's error shows the secret: %v", err)
	}
	f.Close()
	_, err = c.GetDeal(context.Background(), "1")
	if err == nil || strings.Contains(err.Error(), bxfake.DefaultSecret) {
		t.Errorf("unreachable portal: %v", err)
	}
}

func TestPortalBucket(t *testing.T) {
	// The fake's own bucket refuses the request past the burst.
	f, c := start(t, bxfake.WithBucket(1, 3))
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.GetDeal(ctx, "1"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := c.GetDeal(ctx, "1")
	if e := asError(t, err); e.Code != bitrix24.CodeQueryLimit || e.Status != 503 || !e.Retryable() || e.Ambiguous() {
		t.Fatalf("past the burst: %v", err)
	}
	// A client sharing the portal's limits stays under them.
	f.SetBucket(20, 4)
	paced, err := bitrix24.New(f.URL, f.Credential(), bitrix24.AllowAnyHost(), bitrix24.WithPortalLimit(20, 4))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if _, err := paced.GetDeal(ctx, "1"); err != nil {
			t.Fatalf("paced request %d: %v", i, err)
		}
	}
}

func TestNoteFoundPastTheFirstPage(t *testing.T) {
	f, c := start(t)
	ctx := context.Background()
	conn, err := bitrix24.Open(f.URL, f.Credential(), clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddComment(ctx, bitrix24.OwnerDeal, "1", "Chat log\n#sbl1-100"); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := c.AddComment(ctx, bitrix24.OwnerDeal, "1", fmt.Sprint("later ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.AddNote(ctx, crm.ClientRef{DealID: "1"}, "Chat log", "#sbl1-100", true); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Comments("deal", 1)); n != 61 {
		t.Errorf("%d comments, want 61 (the note not written again)", n)
	}
	// A marker that only prefixes one there is another note.
	if err := conn.AddNote(ctx, crm.ClientRef{DealID: "1"}, "Chat log", "#sbl1-10", true); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Comments("deal", 1)); n != 62 {
		t.Errorf("%d comments, want 62", n)
	}
}

func TestEmptyResults(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	ids, err := c.FindContactIDsByPhone(ctx, []string{"+10000000000"})
	if err != nil || len(ids) != 0 {
		t.Errorf("no duplicates: %v, %v", ids, err)
	}
	deals, err := c.FindDeals(ctx, "#nothing")
	if err != nil || len(deals) != 0 {
		t.Errorf("no deals: %v, %v", deals, err)
	}
	cs, err := c.ListComments(ctx, bitrix24.OwnerContact, "1")
	if err != nil || len(cs) != 0 {
		t.Errorf("no comments: %v, %v", cs, err)
	}
	if _, err := c.GetContact(ctx, "777"); !errors.Is(err, bitrix24.ErrNotFound) {
		t.Errorf("missing contact: %v", err)
	}
}

func TestStagesPastOnePage(t *testing.T) {
	d := bxfake.Seed()
	var stages []bxfake.Stage
	for i := range 60 {
		stages = append(stages, bxfake.Stage{StatusID: fmt.Sprintf("C1:S%d", i), Name: fmt.Sprint("Stage ", i), Sort: int64(10 * (i + 1))})
	}
	stages = append(stages, bxfake.Stage{StatusID: "C1:WON", Name: "Won", Sort: 9000, Semantics: "S"},
		bxfake.Stage{StatusID: "C1:LOSE", Name: "Lost", Sort: 9100, Semantics: "F"})
	d.Categories[1].Stages = stages
	_, c := start(t, bxfake.WithData(d))
	cats, err := c.ListCategories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := cats[1].Stages
	if len(got) != 62 || got[0].StatusID != "C1:S0" || got[59].StatusID != "C1:S59" || got[60].Semantics != bitrix24.SemanticsWon {
		t.Errorf("%d stages: first %+v, last %+v", len(got), got[0], got[len(got)-1])
	}
}
