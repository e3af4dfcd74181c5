// Package crmtest is the conformance suite every CRM connector passes
// against its vendor's fake: the same promises of the crm.Connector seam
// (directory, phone search, creation without doubles after a lost answer,
// responsible changes, deal state, notes written once, rate limits
// retried, refused credentials classified), checked through a neutral
// control surface of the fake.
package crmtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
)

// Write names a kind of write whose answer a fault can lose.
type Write int

// Writes a fault can target.
const (
	// WriteClient is the creation of a new client's deal (with its contact).
	WriteClient Write = iota
	// WriteNote is a note (feed entry) on a deal.
	WriteNote
	// WriteContact is the creation of a new client's contact: the same
	// request as WriteClient for a CRM that makes both in one call.
	WriteContact
)

// Fake is the suite's control surface of a CRM fake, in the seam's terms
// (ids as the connector reports them).
type Fake interface {
	// Seeded describes the fake's starting data.
	Seeded() Seeded
	// AddContact stores a contact named name with one phone written as
	// raw ("8 (916) 123-45-67"), as a CRM user would, and returns its id.
	AddContact(t *testing.T, name, raw string) string
	// DealsWithMarker counts the deals whose name holds marker.
	DealsWithMarker(marker string) int
	// DealResponsible and ContactResponsible read a record's responsible.
	DealResponsible(dealID string) string
	ContactResponsible(contactID string) string
	// NotesWith counts the notes of ref's deal (else its contact) holding
	// marker.
	NotesWith(ref crm.ClientRef, marker string) int
	// CloseDeal moves a deal to a won (or lost) stage as a CRM user would.
	CloseDeal(dealID string, won bool) error

	// LoseNextWrite makes the next write of kind w take effect while its
	// answer is lost (the connection drops).
	LoseNextWrite(w Write)
	// RateLimitNext makes the next n requests get the CRM's rate-limit
	// answer, with a wait hint.
	RateLimitNext(n int)
	// ServerErrorNext makes the next request get a 500.
	ServerErrorNext()
	// SetRateLimit makes the fake enforce perSecond requests a second
	// (burst the same).
	SetRateLimit(perSecond int)
	// RevokeCredentials makes the CRM refuse the connector's credentials.
	RevokeCredentials()
	// Requests counts the requests that reached the fake.
	Requests() int64
}

// Seeded is what the suite knows of a fake's starting data.
type Seeded struct {
	// Users is how many users the directory lists; ActiveUserID and
	// OtherUserID are two active ones, InactiveUserID a deactivated one.
	Users                                   int
	ActiveUserID, OtherUserID, InactiveUser string
	// Pipelines is how many pipelines the directory lists; MainPipelineID
	// is the main one's id.
	Pipelines      int
	MainPipelineID string
	// ContactID is a contact whose phone, ContactPhone in E.164, is stored
	// in another notation; OpenDealID is an open deal.
	ContactID, ContactPhone, OpenDealID string
}

// Fixture is a connector and the fake behind it, fresh for one subtest.
type Fixture struct {
	Conn crm.Connector
	Fake Fake
}

// Factory makes a fresh fixture; it registers its cleanup with t.
type Factory func(t *testing.T) Fixture

// Run runs every check as a subtest of t.
func Run(t *testing.T, newFixture Factory) {
	checks := []struct {
		name string
		fn   func(*testing.T, Fixture)
	}{
		{"Directory", testDirectory},
		{"FindContactBySpellings", testFindContact},
		{"CreateClient", testCreateClient},
		{"NoDoubleAfterLostAnswer", testNoDouble},
		{"SetResponsible", testSetResponsible},
		{"DealWonLost", testDealState},
		{"NoteWrittenOnce", testNoteOnce},
		{"RateLimitRetriedNeverLost", testRateLimited},
		{"BurstOverLimit", testBurst},
		{"ServerErrorUnreachable", testServerError},
		{"Unauthorized", testUnauthorized},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newFixture(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// digits keeps a number's digits, reading a domestic Russian "8…" of 11
// digits as "7…": the suite's stand-in for the caller's normalization.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '8' {
		d = "7" + d[1:]
	}
	return d
}

// same returns the judge FindContact gets for e164.
func same(e164 string) func(string) bool {
	want := digits(e164)
	return func(raw string) bool { return digits(raw) == want }
}

func testDirectory(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	dir, err := fx.Conn.Directory(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(dir.Users) != s.Users {
		t.Errorf("%d users, want %d: %+v", len(dir.Users), s.Users, dir.Users)
	}
	byID := map[string]crm.User{}
	for _, u := range dir.Users {
		if u.ID == "" || u.Name == "" {
			t.Errorf("user without id or name: %+v", u)
		}
		byID[u.ID] = u
	}
	for _, id := range []string{s.ActiveUserID, s.OtherUserID} {
		if u, ok := byID[id]; !ok || !u.Active {
			t.Errorf("user %s = %+v, %v; want active", id, u, ok)
		}
	}
	if u, ok := byID[s.InactiveUser]; !ok || u.Active {
		t.Errorf("user %s = %+v, %v; want listed and inactive", s.InactiveUser, u, ok)
	}
	if len(dir.Pipelines) != s.Pipelines {
		t.Errorf("%d pipelines, want %d", len(dir.Pipelines), s.Pipelines)
	}
	mains := 0
	for _, p := range dir.Pipelines {
		if p.Main {
			mains++
			if p.ID != s.MainPipelineID {
				t.Errorf("main pipeline %q, want %q", p.ID, s.MainPipelineID)
			}
		}
		kinds := map[crm.StageKind]int{}
		ids := map[string]bool{}
		for _, st := range p.Stages {
			kinds[st.Kind]++
			if st.ID == "" || ids[st.ID] {
				t.Errorf("pipeline %s: stage id %q empty or repeated", p.ID, st.ID)
			}
			ids[st.ID] = true
		}
		if kinds[crm.Working] == 0 || kinds[crm.Won] == 0 || kinds[crm.Lost] == 0 {
			t.Errorf("pipeline %s (%s) stages %+v: want working, won and lost ones", p.ID, p.Name, p.Stages)
		}
	}
	if mains != 1 {
		t.Errorf("%d main pipelines, want 1", mains)
	}
}

func testFindContact(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	spellings := map[string]string{
		"+79161234501": "+7 916 123-45-01",
		"+79161234502": "8 (916) 123-45-02",
		"+79161234503": "79161234503",
		"+79161234504": "+7(916)1234504",
	}
	want := map[string]string{s.ContactPhone: s.ContactID}
	for e164, raw := range spellings {
		want[e164] = fx.Fake.AddContact(t, "Client "+raw, raw)
	}
	for e164, id := range want {
		got, err := fx.Conn.FindContact(c, e164, same(e164))
		if err != nil {
			t.Fatalf("FindContact(%s): %v", e164, err)
		}
		if got == nil || got.ID != id {
			t.Errorf("FindContact(%s) = %+v, want contact %s", e164, got, id)
		}
	}
	if got, err := fx.Conn.FindContact(c, "+79160000000", same("+79160000000")); err != nil || got != nil {
		t.Errorf("FindContact(unknown) = %+v, %v; want nil", got, err)
	}
	never := func(string) bool { return false }
	if got, err := fx.Conn.FindContact(c, s.ContactPhone, never); err != nil || got != nil {
		t.Errorf("FindContact with a judge that rejects every phone = %+v, %v; want nil", got, err)
	}
}

// record is a new client's record with a marker unique to the test.
func record(s Seeded, marker, phone string) crm.ClientRecord {
	return crm.ClientRecord{Marker: marker, Name: "Mary Jane", Phone: phone,
		DealName: "Mary Jane, WhatsApp", ResponsibleID: s.ActiveUserID}
}

func testCreateClient(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	rec := record(s, "#sbt-1-11", "+79165550111")
	ref, err := fx.Conn.CreateClient(c, rec)
	if err != nil {
		t.Fatal(err)
	}
	if ref.DealID == "" || ref.ContactID == "" {
		t.Fatalf("CreateClient = %+v", ref)
	}
	if n := fx.Fake.DealsWithMarker(rec.Marker); n != 1 {
		t.Errorf("%d deals with the marker, want 1", n)
	}
	if got := fx.Fake.DealResponsible(ref.DealID); got != s.ActiveUserID {
		t.Errorf("deal responsible %q, want %q", got, s.ActiveUserID)
	}
	if found, err := fx.Conn.FindContact(c, rec.Phone, same(rec.Phone)); err != nil || found == nil || found.ID != ref.ContactID {
		t.Errorf("the new contact is not found by its phone: %+v, %v", found, err)
	}
	got, err := fx.Conn.FindCreated(c, rec)
	if err != nil || got == nil || got.DealID != ref.DealID {
		t.Errorf("FindCreated = %+v, %v; want deal %s", got, err, ref.DealID)
	}

	// An existing contact is linked, not created again.
	rec2 := record(s, "#sbt-1-12", s.ContactPhone)
	rec2.ContactID = s.ContactID
	ref2, err := fx.Conn.CreateClient(c, rec2)
	if err != nil {
		t.Fatal(err)
	}
	if ref2.ContactID != s.ContactID || ref2.DealID == "" || ref2.DealID == ref.DealID {
		t.Errorf("CreateClient with a contact = %+v", ref2)
	}
	if got, err := fx.Conn.FindCreated(c, record(s, "#sbt-1-99", "+79165550199")); err != nil || got != nil {
		t.Errorf("FindCreated(never created) = %+v, %v; want nil", got, err)
	}
	// A marker is matched whole: #sbt-1-1 is not the contact's #sbt-1-12.
	if got, err := fx.Conn.FindCreated(c, record(s, "#sbt-1-1", s.ContactPhone)); err != nil || got != nil {
		t.Errorf("FindCreated(#sbt-1-1) = %+v, %v; want nil: only #sbt-1-12 exists", got, err)
	}
}

func testNoDouble(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	rec := record(s, "#sbt-1-21", "+79165550121")
	fx.Fake.LoseNextWrite(WriteClient)
	_, err := fx.Conn.CreateClient(c, rec)
	if err == nil {
		t.Fatal("CreateClient succeeded although its answer was lost")
	}
	if !crm.Ambiguous(err) || crm.Permanent(err) {
		t.Fatalf("lost answer: %v (ambiguous %v, permanent %v); want ambiguous", err, crm.Ambiguous(err), crm.Permanent(err))
	}
	ref := createWithRetry(t, fx, rec, err)
	if ref.DealID == "" {
		t.Fatal("no deal after the retry")
	}
	if n := fx.Fake.DealsWithMarker(rec.Marker); n != 1 {
		t.Errorf("%d deals with the marker after a lost answer and a retry, want 1", n)
	}
}

// createWithRetry finishes a creation as the outbox does: after an
// ambiguous failure it looks for what was created; a rate limit or a
// failure that wrote nothing is sent again.
func createWithRetry(t *testing.T, fx Fixture, rec crm.ClientRecord, last error) crm.ClientRef {
	t.Helper()
	ref, err := retryCreate(ctx(t), fx, rec, last)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// retryCreate is createWithRetry for any goroutine.
func retryCreate(c context.Context, fx Fixture, rec crm.ClientRecord, last error) (crm.ClientRef, error) {
	maybe := last != nil && crm.Ambiguous(last)
	for attempt := 0; attempt < 20; attempt++ {
		if maybe {
			ref, err := fx.Conn.FindCreated(c, rec)
			if err != nil {
				last = err
				pause(err)
				continue
			}
			if ref != nil {
				return *ref, nil
			}
		}
		ref, err := fx.Conn.CreateClient(c, rec)
		if err == nil {
			return ref, nil
		}
		if crm.Permanent(err) || errors.Is(err, crm.ErrUnauthorized) {
			return crm.ClientRef{}, fmt.Errorf("CreateClient: %w", err)
		}
		last, maybe = err, maybe || crm.Ambiguous(err)
		pause(err)
	}
	return crm.ClientRef{}, fmt.Errorf("CreateClient did not succeed: %w", last)
}

// pause waits a little of what the CRM asked for.
func pause(err error) {
	d := crm.RetryAfter(err)
	time.Sleep(min(max(d, 10*time.Millisecond), 300*time.Millisecond))
}

func testSetResponsible(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	ref, err := fx.Conn.CreateClient(c, record(s, "#sbt-1-31", "+79165550131"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.Conn.SetResponsible(c, ref, s.OtherUserID); err != nil {
		t.Fatal(err)
	}
	if got := fx.Fake.DealResponsible(ref.DealID); got != s.OtherUserID {
		t.Errorf("deal responsible %q, want %q", got, s.OtherUserID)
	}
	if got := fx.Fake.ContactResponsible(ref.ContactID); got != s.OtherUserID {
		t.Errorf("contact responsible %q, want %q", got, s.OtherUserID)
	}
	st, err := fx.Conn.Deal(c, ref.DealID)
	if err != nil || st.ResponsibleID != s.OtherUserID || st.Won || st.Lost {
		t.Errorf("Deal = %+v, %v; want open with responsible %s", st, err, s.OtherUserID)
	}
	// The contact alone (a client whose deal is not known).
	if err := fx.Conn.SetResponsible(c, crm.ClientRef{ContactID: ref.ContactID}, s.ActiveUserID); err != nil {
		t.Fatal(err)
	}
	if got := fx.Fake.ContactResponsible(ref.ContactID); got != s.ActiveUserID {
		t.Errorf("contact responsible %q, want %q", got, s.ActiveUserID)
	}
}

func testDealState(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	st, err := fx.Conn.Deal(c, s.OpenDealID)
	if err != nil || st.Won || st.Lost || st.ResponsibleID == "" {
		t.Fatalf("Deal(open) = %+v, %v", st, err)
	}
	for i, won := range []bool{true, false} {
		ref, err := fx.Conn.CreateClient(c, record(s, fmt.Sprintf("#sbt-1-4%d", i), fmt.Sprintf("+7916555014%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := fx.Fake.CloseDeal(ref.DealID, won); err != nil {
			t.Fatal(err)
		}
		st, err := fx.Conn.Deal(c, ref.DealID)
		if err != nil || st.Won != won || st.Lost != !won {
			t.Errorf("Deal after closing (won %v) = %+v, %v", won, st, err)
		}
	}
	if _, err := fx.Conn.Deal(c, "987654321"); err == nil || crm.Ambiguous(err) {
		t.Errorf("Deal(missing) = %v; want a plain error", err)
	}
}

func testNoteOnce(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	ref, err := fx.Conn.CreateClient(c, record(s, "#sbt-1-51", "+79165550151"))
	if err != nil {
		t.Fatal(err)
	}
	const marker = "#sbl51-1764489600"
	fx.Fake.LoseNextWrite(WriteNote)
	err = fx.Conn.AddNote(c, ref, "Chat 12:00–13:00", marker, false)
	if err == nil || !crm.Ambiguous(err) {
		t.Fatalf("lost note answer: %v; want ambiguous", err)
	}
	for range 2 { // the retry, and a duplicate delivery of it
		if err := fx.Conn.AddNote(c, ref, "Chat 12:00–13:00", marker, true); err != nil {
			t.Fatal(err)
		}
	}
	if n := fx.Fake.NotesWith(ref, marker); n != 1 {
		t.Errorf("%d notes with the marker, want 1", n)
	}
	// A first attempt writes without looking; a second marker is another note.
	if err := fx.Conn.AddNote(c, ref, "Chat 13:00–14:00", "#sbl51-1764493200", false); err != nil {
		t.Fatal(err)
	}
	if n := fx.Fake.NotesWith(ref, "#sbl51-1764493200"); n != 1 {
		t.Errorf("%d notes with the second marker, want 1", n)
	}
	// Without a deal the note goes to the contact.
	cref := crm.ClientRef{ContactID: ref.ContactID}
	if err := fx.Conn.AddNote(c, cref, "About the client", "#sbm52", true); err != nil {
		t.Fatal(err)
	}
	if n := fx.Fake.NotesWith(cref, "#sbm52"); n != 1 {
		t.Errorf("%d contact notes with the marker, want 1", n)
	}
}

// checkRateLimited requires err to be a rate limit: retryable, with a
// wait, neither permanent nor ambiguous.
func checkRateLimited(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error from a rate-limited call")
	}
	if crm.Permanent(err) || crm.Ambiguous(err) || errors.Is(err, crm.ErrUnauthorized) || crm.RetryAfter(err) <= 0 {
		t.Fatalf("rate limit: %v (permanent %v, ambiguous %v, retry after %v); want a retryable wait",
			err, crm.Permanent(err), crm.Ambiguous(err), crm.RetryAfter(err))
	}
}

func testRateLimited(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	rec := record(s, "#sbt-1-61", "+79165550161")
	fx.Fake.RateLimitNext(2)
	_, err := fx.Conn.CreateClient(c, rec)
	checkRateLimited(t, err)
	ref := createWithRetry(t, fx, rec, err)
	if n := fx.Fake.DealsWithMarker(rec.Marker); n != 1 {
		t.Errorf("%d deals after rate limits, want 1", n)
	}
	fx.Fake.RateLimitNext(1)
	err = fx.Conn.AddNote(c, ref, "Chat", "#sbm61", false)
	checkRateLimited(t, err)
	if err := fx.Conn.AddNote(c, ref, "Chat", "#sbm61", crm.Ambiguous(err)); err != nil {
		t.Fatal(err)
	}
	if n := fx.Fake.NotesWith(ref, "#sbm61"); n != 1 {
		t.Errorf("%d notes after a rate limit, want 1", n)
	}
	fx.Fake.RateLimitNext(1)
	_, err = fx.Conn.Directory(c)
	checkRateLimited(t, err)
}

func testBurst(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	fx.Fake.SetRateLimit(5)
	const n = 12
	c := ctx(t)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := record(s, fmt.Sprintf("#sbt-2-%d", 100+i), fmt.Sprintf("+791655502%02d", i))
			_, err := fx.Conn.CreateClient(c, rec)
			if err != nil {
				if _, err := retryCreate(c, fx, rec, err); err != nil {
					t.Errorf("client %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if got := fx.Fake.DealsWithMarker(fmt.Sprintf("#sbt-2-%d", 100+i)); got != 1 {
			t.Errorf("client %d: %d deals, want 1", i, got)
		}
	}
}

func testServerError(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	fx.Fake.ServerErrorNext()
	_, err := fx.Conn.Deal(c, s.OpenDealID)
	if !errors.Is(err, crm.ErrUnreachable) || crm.Permanent(err) {
		t.Errorf("a 500: %v; want crm.ErrUnreachable, not permanent", err)
	}
	fx.Fake.ServerErrorNext()
	err = fx.Conn.SetResponsible(c, crm.ClientRef{DealID: s.OpenDealID}, s.OtherUserID)
	if !crm.Ambiguous(err) {
		t.Errorf("a write answered 500: %v; want ambiguous", err)
	}
}

func testUnauthorized(t *testing.T, fx Fixture) {
	s := fx.Fake.Seeded()
	c := ctx(t)
	fx.Fake.RevokeCredentials()
	_, err := fx.Conn.Directory(c)
	if !errors.Is(err, crm.ErrUnauthorized) || crm.Ambiguous(err) {
		t.Errorf("Directory with revoked credentials: %v; want crm.ErrUnauthorized", err)
	}
	err = fx.Conn.AddNote(c, crm.ClientRef{DealID: s.OpenDealID}, "x", "#sbm1", false)
	if !errors.Is(err, crm.ErrUnauthorized) || crm.Ambiguous(err) || crm.RetryAfter(err) > 0 {
		t.Errorf("AddNote with revoked credentials: %v; want crm.ErrUnauthorized", err)
	}
}
