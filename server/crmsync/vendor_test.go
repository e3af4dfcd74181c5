package crmsync_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/amocrm/amofake"
	"github.com/switchboardhq/switchboard/server/crm/bitrix24/bxfake"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
	"github.com/switchboardhq/switchboard/server/crm/zoho/zohofake"
	"github.com/switchboardhq/switchboard/server/crmsync"
)

// A vendor is one CRM the system suite (e2e_test.go) runs against: its
// fake, started fresh for each scenario, behind a neutral control surface
// in the connector's ids. Adding a CRM to the suite is adding one here.
type vendor struct {
	name  string
	start func(t *testing.T) crmFake
}

var vendors = []vendor{
	{"amocrm", startAmo},
	{"bitrix24", startBitrix},
	{"zoho", startZoho},
}

// fault is what a fake does to a write instead of answering it.
type fault int

const (
	// serverError: a 5xx, nothing written.
	serverError fault = iota
	// rateLimited: the CRM's rate-limit answer, nothing written.
	rateLimited
	// lostAnswer: written, then the connection drops without an answer.
	lostAnswer
	// slow: written, answered after a while.
	slow
	// refused: the CRM's validation refuses the write, nothing written.
	refused
)

// fakeDeal is a deal in a fake, in the connector's ids.
type fakeDeal struct {
	ID, ContactID, Pipeline, Stage, Responsible string
}

// crmFake is a started fake CRM.
type crmFake interface {
	// Connect is the ConnectCrmRequest an admin sends, with the credential
	// pasted as the CRM shows it; Secrets are the parts of it that must
	// never come back.
	Connect() *pb.ConnectCrmRequest
	Secrets() []string
	// WrongConnect is a request with a credential the CRM refuses, and
	// that credential's secret.
	WrongConnect() (*pb.ConnectCrmRequest, string)
	// Users are the CRM's users by id (true: active); Pipelines the
	// number of stages of each pipeline by id.
	Users() map[string]bool
	Pipelines() map[string]int
	// AddUser adds an active user and returns its id; DeactivateUser
	// deactivates one, as a CRM admin would.
	AddUser() string
	DeactivateUser(id string)
	// RevokeCredentials makes the CRM refuse the stored credential.
	RevokeCredentials()

	// AddContact adds a contact with a phone written as raw and a
	// responsible, as a CRM user would, and returns its id.
	AddContact(name, raw, responsible string) string
	// Deals are the deals whose name holds marker (crm.HasMarker).
	Deals(marker string) []fakeDeal
	// Contacts counts the contacts with the phone e164 (every contact
	// when e164 is "").
	Contacts(e164 string) int
	// Notes are the texts of a deal's notes, oldest first.
	Notes(dealID string) []string
	// Fail makes the next n writes of kind w meet f.
	Fail(w crmtest.Write, f fault, n int)

	// BindWebhook makes the CRM send its deal webhooks to url, as its
	// admin sets up the URL ConnectCrm returned.
	BindWebhook(t *testing.T, url string)
	// ChangeResponsible and CloseWon change a deal as a CRM user would,
	// sending the CRM's webhook.
	ChangeResponsible(ctx context.Context, dealID, userID string) error
	CloseWon(ctx context.Context, dealID string) error
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func atoi(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

// amoCRM.

type amoFake struct{ f *amofake.Server }

func startAmo(t *testing.T) crmFake {
	f := amofake.Start(amofake.WithToken(token), amofake.WithRateLimit(0))
	t.Cleanup(f.Close)
	return amoFake{f}
}

func (a amoFake) Connect() *pb.ConnectCrmRequest {
	return &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_AMOCRM, BaseUrl: a.f.URL, Token: token}
}

func (a amoFake) Secrets() []string { return []string{token} }

func (a amoFake) WrongConnect() (*pb.ConnectCrmRequest, string) {
	r := a.Connect()
	r.Token = "not-the-amocrm-token-42"
	return r, r.Token
}

func (a amoFake) Users() map[string]bool {
	out := map[string]bool{}
	for _, u := range a.f.Users() {
		out[itoa(u.ID)] = u.Active
	}
	return out
}

func (a amoFake) Pipelines() map[string]int {
	out := map[string]int{}
	for _, p := range amofake.Seed().Pipelines {
		out[itoa(p.ID)] = len(p.Statuses)
	}
	return out
}

func (a amoFake) AddUser() string {
	a.f.SetUser(amofake.User{ID: 5077, Name: "Clark Kent", Email: "clark@example.com", Active: true})
	return "5077"
}

func (a amoFake) DeactivateUser(id string) {
	for _, u := range a.f.Users() {
		if itoa(u.ID) == id {
			u.Active = false
			a.f.SetUser(u)
		}
	}
}

func (a amoFake) RevokeCredentials() { a.f.ExpireToken() }

func (a amoFake) AddContact(name, raw, responsible string) string {
	return itoa(a.f.AddContact(amofake.Contact{Name: name, ResponsibleUserID: atoi(responsible),
		Phones: []amofake.Phone{{Value: raw, EnumCode: "MOB"}}}))
}

func (a amoFake) Deals(marker string) []fakeDeal {
	var out []fakeDeal
	for _, l := range a.f.Leads() {
		if crm.HasMarker(l.Name, marker) {
			d := fakeDeal{ID: itoa(l.ID), Pipeline: itoa(l.PipelineID), Stage: itoa(l.StatusID), Responsible: itoa(l.ResponsibleUserID)}
			if len(l.ContactIDs) > 0 {
				d.ContactID = itoa(l.ContactIDs[0])
			}
			out = append(out, d)
		}
	}
	return out
}

func (a amoFake) Contacts(e164 string) int {
	n := 0
	for _, c := range a.f.Contacts() {
		if e164 == "" || slices.ContainsFunc(c.Phones, func(p amofake.Phone) bool { return samePhone(p.Value, e164) }) {
			n++
		}
	}
	return n
}

func (a amoFake) Notes(dealID string) []string {
	var out []string
	for _, n := range a.f.Notes("leads", atoi(dealID)) {
		out = append(out, n.Text)
	}
	return out
}

func (a amoFake) Fail(w crmtest.Write, f fault, n int) {
	flt := amofake.Fault{Method: http.MethodPost, PathPrefix: "/api/v4/leads/complex", Times: n}
	if w == crmtest.WriteNote {
		flt.PathPrefix = "/api/v4/leads/notes"
	}
	switch f {
	case serverError:
		flt.Status = http.StatusServiceUnavailable
	case rateLimited:
		flt.Status, flt.RetryAfter = http.StatusTooManyRequests, "1"
	case lostAnswer:
		flt.DropAfterCommit = true
	case slow:
		flt.Delay = 400 * time.Millisecond
	case refused:
		flt.Status = http.StatusBadRequest
		flt.Validation = []amofake.ValidationError{{RequestID: "0", Code: "NotSupportedChoice", Path: "status_id", Detail: "The status is archived."}}
	}
	a.f.Inject(flt)
}

func (a amoFake) BindWebhook(t *testing.T, url string) {
	a.f.AddWebhook(url, "status_lead", "responsible_lead")
}

func (a amoFake) ChangeResponsible(ctx context.Context, dealID, userID string) error {
	return a.f.ChangeLeadResponsible(ctx, atoi(dealID), atoi(userID))
}

func (a amoFake) CloseWon(ctx context.Context, dealID string) error {
	return a.f.MoveLead(ctx, atoi(dealID), 0, amofake.StatusWon)
}

// Bitrix24.

type bxFake struct{ f *bxfake.Server }

func startBitrix(t *testing.T) crmFake {
	f := bxfake.Start(bxfake.WithBucket(0, 0))
	t.Cleanup(f.Close)
	return bxFake{f}
}

// Connect pastes the portal's incoming webhook URL, as Bitrix24 shows it.
func (b bxFake) Connect() *pb.ConnectCrmRequest {
	return &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_BITRIX24, BaseUrl: b.f.URL, Token: b.f.WebhookURL()}
}

func (b bxFake) Secrets() []string { return []string{bxfake.DefaultSecret} }

func (b bxFake) WrongConnect() (*pb.ConnectCrmRequest, string) {
	const wrong = "wrongsecret00042"
	return &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_BITRIX24, BaseUrl: b.f.URL,
		Token: b.f.URL + "/rest/1/" + wrong + "/"}, wrong
}

func (b bxFake) Users() map[string]bool {
	out := map[string]bool{}
	for _, u := range b.f.Users() {
		out[itoa(u.ID)] = u.Active
	}
	return out
}

func (b bxFake) Pipelines() map[string]int {
	out := map[string]int{}
	for _, c := range b.f.Categories() {
		out[itoa(c.ID)] = len(c.Stages)
	}
	return out
}

func (b bxFake) AddUser() string {
	b.f.SetUser(bxfake.User{ID: 77, Name: "Clark", LastName: "Kent", Email: "clark@example.com", Active: true})
	return "77"
}

func (b bxFake) DeactivateUser(id string) {
	for _, u := range b.f.Users() {
		if itoa(u.ID) == id {
			u.Active = false
			b.f.SetUser(u)
		}
	}
}

func (b bxFake) RevokeCredentials() { b.f.RevokeWebhook() }

func (b bxFake) AddContact(name, raw, responsible string) string {
	return itoa(b.f.AddContact(bxfake.Contact{Name: name, AssignedBy: atoi(responsible),
		Phones: []bxfake.Phone{{Value: raw, ValueType: "MOBILE"}}}))
}

func (b bxFake) Deals(marker string) []fakeDeal {
	var out []fakeDeal
	for _, d := range b.f.Deals() {
		if crm.HasMarker(d.Title, marker) {
			fd := fakeDeal{ID: itoa(d.ID), Pipeline: itoa(d.CategoryID), Stage: d.StageID, Responsible: itoa(d.AssignedBy)}
			if len(d.ContactIDs) > 0 {
				fd.ContactID = itoa(d.ContactIDs[0])
			}
			out = append(out, fd)
		}
	}
	return out
}

func (b bxFake) Contacts(e164 string) int {
	n := 0
	for _, c := range b.f.Contacts() {
		if e164 == "" || slices.ContainsFunc(c.Phones, func(p bxfake.Phone) bool { return samePhone(p.Value, e164) }) {
			n++
		}
	}
	return n
}

func (b bxFake) Notes(dealID string) []string {
	var out []string
	for _, c := range b.f.Comments("deal", atoi(dealID)) {
		out = append(out, c.Comment)
	}
	return out
}

func (b bxFake) Fail(w crmtest.Write, f fault, n int) {
	flt := bxfake.Fault{Method: "crm.deal.add", Times: n}
	switch w {
	case crmtest.WriteNote:
		flt.Method = "crm.timeline.comment.add"
	case crmtest.WriteContact:
		flt.Method = "crm.contact.add"
	}
	switch f {
	case serverError:
		flt.Status = http.StatusInternalServerError
	case rateLimited:
		flt.Status = http.StatusServiceUnavailable // QUERY_LIMIT_EXCEEDED
	case lostAnswer:
		flt.DropAfterCommit = true
	case slow:
		flt.Delay = 400 * time.Millisecond
	case refused:
		flt.Status, flt.Code, flt.Description = http.StatusBadRequest, "ERROR_CORE", "The stage is archived."
	}
	b.f.Inject(flt)
}

func (b bxFake) BindWebhook(t *testing.T, url string) { b.f.BindEvent(bxfake.EventDealUpdate, url) }

func (b bxFake) ChangeResponsible(ctx context.Context, dealID, userID string) error {
	return b.f.ChangeDealResponsible(ctx, atoi(dealID), atoi(userID))
}

func (b bxFake) CloseWon(ctx context.Context, dealID string) error {
	return b.f.CloseDeal(ctx, atoi(dealID), true)
}

// Zoho CRM.

type zohoFake struct{ f *zohofake.Server }

func startZoho(t *testing.T) crmFake {
	f := zohofake.Start()
	t.Cleanup(f.Close)
	return zohoFake{f}
}

// Connect pastes the API console client's id, secret and refresh token;
// the fake stands for the data centre.
func (z zohoFake) Connect() *pb.ConnectCrmRequest {
	return &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_ZOHO, BaseUrl: z.f.URL,
		Token: zohofake.DefaultClientID + ":" + zohofake.DefaultClientSecret + ":" + zohofake.DefaultRefreshToken}
}

func (z zohoFake) Secrets() []string {
	return []string{zohofake.DefaultClientSecret, zohofake.DefaultRefreshToken}
}

func (z zohoFake) WrongConnect() (*pb.ConnectCrmRequest, string) {
	const wrong = "1000.not-the-refresh-token"
	r := z.Connect()
	r.Token = zohofake.DefaultClientID + ":" + zohofake.DefaultClientSecret + ":" + wrong
	return r, wrong
}

func (z zohoFake) Users() map[string]bool {
	out := map[string]bool{}
	for _, u := range z.f.Users() {
		out[u.ID] = u.Status == "active"
	}
	return out
}

func (z zohoFake) Pipelines() map[string]int {
	out := map[string]int{}
	for _, p := range z.f.Pipelines() {
		out[p.ID] = len(p.Stages)
	}
	return out
}

func (z zohoFake) AddUser() string {
	const id = "5725767000000411077"
	z.f.SetUser(zohofake.User{ID: id, FullName: "Clark Kent", Email: "clark@example.com", Status: "active"})
	return id
}

func (z zohoFake) DeactivateUser(id string) {
	for _, u := range z.f.Users() {
		if u.ID == id {
			u.Status = "disabled"
			z.f.SetUser(u)
		}
	}
}

func (z zohoFake) RevokeCredentials() { z.f.RevokeCredentials() }

func (z zohoFake) AddContact(name, raw, responsible string) string {
	return z.f.AddContact(zohofake.Contact{LastName: name, Phone: raw, OwnerID: responsible})
}

func (z zohoFake) Deals(marker string) []fakeDeal {
	var out []fakeDeal
	for _, d := range z.f.Deals() {
		if crm.HasMarker(d.Name, marker) {
			out = append(out, fakeDeal{ID: d.ID, ContactID: d.ContactID, Pipeline: d.PipelineID, Stage: d.Stage, Responsible: d.OwnerID})
		}
	}
	return out
}

func (z zohoFake) Contacts(e164 string) int {
	n := 0
	for _, c := range z.f.Contacts() {
		if e164 == "" || samePhone(c.Phone, e164) || samePhone(c.Mobile, e164) {
			n++
		}
	}
	return n
}

func (z zohoFake) Notes(dealID string) []string {
	var out []string
	for _, n := range z.f.Notes("Deals", dealID) {
		out = append(out, n.Content)
	}
	return out
}

func (z zohoFake) Fail(w crmtest.Write, f fault, n int) {
	flt := zohofake.Fault{Method: http.MethodPost, Path: "/crm/v7/Deals", Times: n}
	switch w {
	case crmtest.WriteNote:
		flt.Path, flt.PathPrefix = "", "/crm/v7/Deals/"
	case crmtest.WriteContact:
		flt.Path = "/crm/v7/Contacts"
	}
	switch f {
	case serverError:
		flt.Status = http.StatusInternalServerError
	case rateLimited:
		flt.Status = http.StatusTooManyRequests
	case lostAnswer:
		flt.DropAfterCommit = true
	case slow:
		flt.Delay = 400 * time.Millisecond
	case refused:
		flt.RecordError = "INVALID_DATA"
	}
	z.f.Inject(flt)
}

// BindWebhook opens a notification channel on the org's deals.
// BindWebhook opens the channel the server would have opened itself had
// it known its public URL: with the token it expects for the URL's key.
func (z zohoFake) BindWebhook(t *testing.T, url string) {
	key := url[strings.LastIndex(url, "/")+1:]
	z.f.OpenChannel(zohofake.Channel{ID: "1000000068001", Events: []string{"Deals.all"}, NotifyURL: url, Token: crmsync.SubscriptionToken(key)})
}

func (z zohoFake) ChangeResponsible(ctx context.Context, dealID, userID string) error {
	if err := z.f.SetDealOwner(dealID, userID); err != nil {
		return err
	}
	return z.f.Notify(ctx, "Deals", "edit", dealID)
}

func (z zohoFake) CloseWon(ctx context.Context, dealID string) error {
	if err := z.f.CloseDeal(dealID, true); err != nil {
		return err
	}
	return z.f.Notify(ctx, "Deals", "edit", dealID)
}

// must fails t on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// samePhone reports whether raw is the number e164, by its last ten
// digits.
func samePhone(raw, e164 string) bool {
	d := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		return s[max(0, len(s)-10):]
	}
	return d(raw) != "" && d(raw) == d(e164)
}
