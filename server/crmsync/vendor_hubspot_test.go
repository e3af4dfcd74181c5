package crmsync_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
	"github.com/switchboardhq/switchboard/server/crm/hubspot/hubfake"
)

func init() {
	vendors = append(vendors, vendor{"hubspot", startHubSpot})
}

// HubSpot.

type hubFake struct {
	f             *hubfake.Server
	token, secret string
}

// startHubSpot starts an account without HubSpot's own limits (the
// connector still paces itself as for the real one) and without search
// lag. Each fake has its own private app token and client secret: the
// connector paces by token, and the scenarios run side by side.
func startHubSpot(t *testing.T) crmFake {
	var b [8]byte
	_, _ = rand.Read(b[:])
	sfx := hex.EncodeToString(b[:])
	h := hubFake{token: "pat-na1-suite-" + sfx, secret: "hubspot-client-secret-" + sfx}
	h.f = hubfake.Start(hubfake.WithToken(h.token), hubfake.WithClientSecret(h.secret),
		hubfake.WithBurst(0, 0), hubfake.WithSearchLimit(0))
	t.Cleanup(h.f.Close)
	return h
}

// Connect pastes the private app's access token, and its client secret
// to check the webhooks' signatures; the fake stands for
// https://api.hubapi.com.
func (h hubFake) Connect() *pb.ConnectCrmRequest {
	return &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_HUBSPOT, BaseUrl: h.f.URL, Token: h.token, WebhookSecret: h.secret}
}

func (h hubFake) Secrets() []string { return []string{h.token, h.secret} }

func (h hubFake) WrongConnect() (*pb.ConnectCrmRequest, string) {
	r := h.Connect()
	r.Token = "pat-na1-not-the-private-app-token-42"
	return r, r.Token
}

// Users are the owners; archived ones are inactive.
func (h hubFake) Users() map[string]bool {
	out := map[string]bool{}
	for _, o := range h.f.Owners() {
		out[o.ID] = !o.Archived
	}
	return out
}

func (h hubFake) Pipelines() map[string]int {
	out := map[string]int{}
	for _, p := range hubfake.Seed().Pipelines {
		out[p.ID] = len(p.Stages)
	}
	return out
}

func (h hubFake) AddUser() string {
	const id = "41629790"
	h.f.SetOwner(hubfake.Owner{ID: id, UserID: 9586590, Email: "clark@example.com", FirstName: "Clark", LastName: "Kent"})
	return id
}

func (h hubFake) DeactivateUser(id string) {
	for _, o := range h.f.Owners() {
		if o.ID == id {
			o.Archived = true
			h.f.SetOwner(o)
		}
	}
}

func (h hubFake) RevokeCredentials() { h.f.RevokeToken() }

func (h hubFake) AddContact(name, raw, responsible string) string {
	first, last, _ := strings.Cut(name, " ")
	return h.f.Add(hubfake.Record{Type: "contacts", Props: map[string]string{
		"firstname": first, "lastname": last, "phone": raw, "hubspot_owner_id": responsible}})
}

func (h hubFake) Deals(marker string) []fakeDeal {
	var out []fakeDeal
	for _, d := range h.f.Records("deals") {
		if !crm.HasMarker(d.Props["dealname"], marker) {
			continue
		}
		fd := fakeDeal{ID: d.ID, Pipeline: d.Props["pipeline"], Stage: d.Props["dealstage"], Responsible: d.Props["hubspot_owner_id"]}
		if cs := h.f.Associated("deals", d.ID, "contacts"); len(cs) > 0 {
			fd.ContactID = cs[0].ID
		}
		out = append(out, fd)
	}
	return out
}

func (h hubFake) Contacts(e164 string) int {
	n := 0
	for _, c := range h.f.Records("contacts") {
		if e164 == "" || samePhone(c.Props["phone"], e164) || samePhone(c.Props["mobilephone"], e164) {
			n++
		}
	}
	return n
}

// Notes are the deal's notes as text: HubSpot keeps a note's body as
// HTML, lines broken with <br>.
func (h hubFake) Notes(dealID string) []string {
	var out []string
	for _, body := range h.f.NotesOf("deals", dealID) {
		out = append(out, html.UnescapeString(strings.ReplaceAll(body, "<br>", "\n")))
	}
	return out
}

// Fail: a new client's deal is POST /crm/v3/objects/deals (its contact,
// when new, is made before it); a note is POST /crm/v3/objects/notes.
func (h hubFake) Fail(w crmtest.Write, f fault, n int) {
	flt := hubfake.Fault{Op: "POST /crm/v3/objects/deals", Times: n}
	switch w {
	case crmtest.WriteNote:
		flt.Op = "POST /crm/v3/objects/notes"
	case crmtest.WriteContact:
		flt.Op = "POST /crm/v3/objects/contacts"
	}
	switch f {
	case serverError:
		flt.Status = http.StatusInternalServerError
	case rateLimited:
		flt.Status, flt.RetryAfter = http.StatusTooManyRequests, "1"
	case lostAnswer:
		flt.DropAfterCommit = true
	case slow:
		flt.Delay = 400 * time.Millisecond
	case refused:
		flt.Status = http.StatusBadRequest
		flt.Message = `Property values were not valid: [{"isValid":false,"message":"The stage is archived.","error":"INVALID_OPTION","name":"dealstage"}]`
	}
	h.f.Inject(flt)
}

// BindWebhook makes url the app's target URL; the fake signs each
// request for url, the URL the server sees called.
func (h hubFake) BindWebhook(t *testing.T, url string) { h.f.Subscribe(url) }

func (h hubFake) ChangeResponsible(ctx context.Context, dealID, userID string) error {
	return h.f.ChangeDeal(ctx, dealID, map[string]string{"hubspot_owner_id": userID})
}

func (h hubFake) CloseWon(ctx context.Context, dealID string) error {
	return h.f.CloseDeal(ctx, dealID, true)
}
