package crmsync_test

import (
	"context"
	"html"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmtest"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive"
	"github.com/switchboardhq/switchboard/server/crm/pipedrive/pdfake"
)

func init() { vendors = append(vendors, vendor{"pipedrive", startPipedrive}) }

// Pipedrive.

type pdFake struct{ f *pdfake.Server }

// startPipedrive starts a company account without its request window and
// daily budget: the suite paces nothing and counts every write.
func startPipedrive(t *testing.T) crmFake {
	f := pdfake.Start(pdfake.WithWindowLimit(0, 0), pdfake.WithDailyBudget(0))
	t.Cleanup(f.Close)
	return pdFake{f}
}

// Connect pastes the personal API token; the fake stands for
// https://{company}.pipedrive.com.
func (p pdFake) Connect() *pb.ConnectCrmRequest {
	return &pb.ConnectCrmRequest{CrmKind: pb.CrmKind_CRM_KIND_PIPEDRIVE, BaseUrl: p.f.URL, Token: p.f.Token()}
}

func (p pdFake) Secrets() []string { return []string{p.f.Token()} }

func (p pdFake) WrongConnect() (*pb.ConnectCrmRequest, string) {
	r := p.Connect()
	r.Token = "0000000000not0the0pipedrive0token0000042"
	return r, r.Token
}

func (p pdFake) Users() map[string]bool {
	out := map[string]bool{}
	for _, u := range p.f.Users() {
		out[itoa(u.ID)] = u.Active
	}
	return out
}

// Pipelines counts each pipeline's stages and the two status stages the
// connector adds to it (pipedrive.StageWon, pipedrive.StageLost).
func (p pdFake) Pipelines() map[string]int {
	out := map[string]int{}
	for _, pl := range p.f.Pipelines() {
		if !pl.Deleted {
			out[itoa(pl.ID)] = 2
		}
	}
	for _, st := range p.f.Stages() {
		if _, ok := out[itoa(st.PipelineID)]; ok {
			out[itoa(st.PipelineID)]++
		}
	}
	return out
}

func (p pdFake) AddUser() string {
	p.f.SetUser(pdfake.User{ID: 77, Name: "Clark Kent", Email: "clark@example.com", Active: true})
	return "77"
}

func (p pdFake) DeactivateUser(id string) {
	for _, u := range p.f.Users() {
		if itoa(u.ID) == id {
			u.Active = false
			p.f.SetUser(u)
		}
	}
}

func (p pdFake) RevokeCredentials() { p.f.RevokeToken() }

func (p pdFake) AddContact(name, raw, responsible string) string {
	return itoa(p.f.AddPerson(pdfake.Person{Name: name, OwnerID: atoi(responsible),
		Phones: []pdfake.Phone{{Value: raw, Primary: true, Label: "mobile"}}}))
}

// Deals reports a won or lost deal's stage as the connector's status
// stage.
func (p pdFake) Deals(marker string) []fakeDeal {
	var out []fakeDeal
	for _, d := range p.f.Deals() {
		if !crm.HasMarker(d.Title, marker) {
			continue
		}
		fd := fakeDeal{ID: itoa(d.ID), Pipeline: itoa(d.PipelineID), Stage: itoa(d.StageID), Responsible: itoa(d.OwnerID)}
		switch d.Status {
		case pdfake.StatusWon:
			fd.Stage = pipedrive.StageWon
		case pdfake.StatusLost:
			fd.Stage = pipedrive.StageLost
		}
		if d.PersonID != 0 {
			fd.ContactID = itoa(d.PersonID)
		}
		out = append(out, fd)
	}
	return out
}

func (p pdFake) Contacts(e164 string) int {
	n := 0
	for _, c := range p.f.Persons() {
		if e164 == "" || slices.ContainsFunc(c.Phones, func(ph pdfake.Phone) bool { return samePhone(ph.Value, e164) }) {
			n++
		}
	}
	return n
}

// Notes are the notes' HTML as text, as the app shows it.
func (p pdFake) Notes(dealID string) []string {
	var out []string
	for _, n := range p.f.Notes(atoi(dealID), 0) {
		out = append(out, html.UnescapeString(strings.ReplaceAll(n.Content, "<br>", "\n")))
	}
	return out
}

// Fail makes a new client's person, its deal (the second of its two
// writes, after the person) or a note meet f.
func (p pdFake) Fail(w crmtest.Write, f fault, n int) {
	flt := pdfake.Fault{Route: "POST /api/v2/deals", Times: n}
	switch w {
	case crmtest.WriteNote:
		flt.Route = "POST /v1/notes"
	case crmtest.WriteContact:
		flt.Route = "POST /api/v2/persons"
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
		flt.Status, flt.Message = http.StatusBadRequest, "Stage is not part of the pipeline"
	}
	p.f.Inject(flt)
}

// webhookPassword is the HTTP Basic password the admin gives the
// company's webhook.
const webhookPassword = "pd-webhook-password-42"

// BindWebhook creates a v2 webhook of deal changes with HTTP Basic
// credentials.
func (p pdFake) BindWebhook(t *testing.T, url string) {
	p.f.Subscribe(pdfake.Subscription{URL: url, Entity: "deal", Action: "*", User: "switchboard", Password: webhookPassword})
}

func (p pdFake) ChangeResponsible(ctx context.Context, dealID, userID string) error {
	return p.f.ChangeDealOwner(ctx, atoi(dealID), atoi(userID))
}

func (p pdFake) CloseWon(ctx context.Context, dealID string) error {
	return p.f.CloseDeal(ctx, atoi(dealID), true)
}
