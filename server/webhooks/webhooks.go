package webhooks

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/crmconnection"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crmsync"
	"github.com/switchboardhq/switchboard/server/errs"
	"github.com/switchboardhq/switchboard/server/store"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// Router is what the webhooks change through: routing's transfers and
// closes, so a CRM change pushes exactly as one made here.
type Router interface {
	AssignFromCRM(ctx context.Context, chatID, employeeID int64) error
	CloseDealFromCRM(ctx context.Context, dealID int64, won bool) error
}

// Handler serves prefix + {key}.
type Handler struct {
	st     *store.Store
	router Router
	crm    crmsync.Options
	log    *slog.Logger
	prefix string
	// publicURL is where the CRM reaches this server ("" : the request's
	// own scheme and host).
	publicURL string
}

// New returns the webhook handler for paths under prefix; crmOpts open the
// account's CRM to read a deal's state.
func New(st *store.Store, router Router, crmOpts crmsync.Options, log *slog.Logger, prefix, publicURL string) *Handler {
	return &Handler{st: st, router: router, crm: crmOpts, log: log, prefix: prefix, publicURL: publicURL}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, h.prefix)
	if key == "" || strings.Contains(key, "/") || len(key) > 128 {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256([]byte(key))
	cc, err := h.st.Ent.CrmConnection.Query().Where(crmconnection.WebhookKeyHash(sum[:])).Only(tenant.System(r.Context()))
	if ent.IsNotFound(err) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch err := h.verify(r, cc); {
	case errors.Is(err, errBadSignature):
		h.log.WarnContext(r.Context(), "crm webhook with a bad signature refused", "account", cc.AccountID, "kind", cc.Kind)
		http.Error(w, "bad webhook signature", http.StatusUnauthorized)
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	events, err := crm.ParseWebhook(crm.Kind(cc.Kind), r)
	if err != nil {
		http.Error(w, "malformed webhook: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch err := h.checkToken(r.Context(), cc, events); {
	case errors.Is(err, errWrongToken):
		h.log.WarnContext(r.Context(), "crm webhook with a wrong token refused", "account", cc.AccountID, "kind", cc.Kind)
		http.Error(w, "wrong webhook token", http.StatusForbidden)
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	ctx := tenant.NewContext(r.Context(), cc.AccountID)
	done := map[string]bool{}
	for _, e := range events {
		if done[e.DealID] {
			continue // one read of a deal applies all its events
		}
		done[e.DealID] = true
		if err := h.apply(ctx, e.DealID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}

// errBadSignature: a webhook whose signature the stored secret does not
// make.
var errBadSignature = errors.New("webhooks: bad signature")

// verify checks the signature of a webhook of a CRM that signs them with
// a key of its own (HubSpot), when the admin gave that key on connecting;
// without one the URL's key is the only proof, as for a CRM that signs
// nothing.
func (h *Handler) verify(r *http.Request, cc *ent.CrmConnection) error {
	kind := crm.Kind(cc.Kind)
	if len(cc.WebhookSecretSealed) == 0 || !crm.Signs(kind) {
		return nil
	}
	secret, err := h.crm.Sealer.Open(cc.WebhookSecretSealed, crmsync.Owner(cc.AccountID))
	if err != nil {
		return err
	}
	if err := crm.VerifyWebhook(kind, r, h.calledURL(r), string(secret), time.Now()); err != nil {
		return fmt.Errorf("%w: %v", errBadSignature, err)
	}
	return nil
}

// calledURL is the URL the CRM called: the server's public URL when it
// was told one (a proxy in front changes scheme and host), else the
// request's own.
func (h *Handler) calledURL(r *http.Request) string {
	base := strings.TrimRight(h.publicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + r.URL.RequestURI()
}

// errWrongToken: a webhook signed with another token than the CRM's.
var errWrongToken = errors.New("webhooks: wrong token")

// checkToken holds webhooks of CRMs that sign them (Bitrix24's
// application_token) to the token of the first one that arrived, stored
// as its SHA-256: the URL's key already proves the sender knows the
// account's webhook address, the token that it is the same portal as
// before. Every event of a request must carry the token once one is
// known. Webhooks of CRMs that sign nothing pass.
func (h *Handler) checkToken(ctx context.Context, cc *ent.CrmConnection, events []crm.Event) error {
	signed := false
	for _, e := range events {
		signed = signed || e.Token != ""
	}
	if cc.WebhookTokenHash == nil {
		if !signed {
			return nil
		}
		// First come, first stored: concurrent first webhooks with different
		// tokens store one, and the others are checked against it.
		sum := sha256.Sum256([]byte(events[0].Token))
		sys := tenant.System(ctx)
		if _, err := h.st.Ent.CrmConnection.Update().Where(crmconnection.ID(cc.ID), crmconnection.WebhookTokenHashIsNil()).
			SetWebhookTokenHash(sum[:]).Save(sys); err != nil {
			return err
		}
		cur, err := h.st.Ent.CrmConnection.Get(sys, cc.ID)
		if err != nil {
			return err
		}
		cc = cur
	}
	for _, e := range events {
		sum := sha256.Sum256([]byte(e.Token))
		if e.Token == "" || subtle.ConstantTimeCompare(sum[:], cc.WebhookTokenHash) != 1 {
			return errWrongToken
		}
	}
	return nil
}

// fail answers 503 for what a retry may fix (the CRM retries webhooks) and
// 500 otherwise, never with the cause's text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.WarnContext(r.Context(), "crm webhook", "err", err)
	if errs.Unreachable(err) || errors.Is(err, errBusy) || errors.Is(err, crm.ErrUnreachable) || crm.RetryAfter(err) > 0 {
		http.Error(w, "unavailable, retry", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// errBusy: another webhook of the deal holds it for longer than a webhook
// waits; the CRM sends it again.
var errBusy = errors.New("webhooks: the deal is being updated")

// apply reads the deal's current state from the CRM and makes it the
// deal's here, holding the deal so that webhooks of one deal apply one at
// a time. A deal Switchboard did not create (or has not linked yet) is
// left alone.
func (h *Handler) apply(ctx context.Context, crmDealID string) error {
	d, err := h.st.Ent.Deal.Query().Where(deal.CrmID(crmDealID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for wait := time.Now().Add(5 * time.Second); ; {
		now := time.Now()
		n, err := h.st.Ent.Deal.Update().Where(deal.ID(d.ID), deal.Or(deal.CrmSyncUntilIsNil(), deal.CrmSyncUntilLT(now))).
			SetCrmSyncUntil(now.Add(time.Minute)).Save(ctx)
		if err != nil {
			return err
		}
		if n == 1 {
			break
		}
		if now.After(wait) {
			return errBusy
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer func() {
		_ = h.st.Ent.Deal.UpdateOneID(d.ID).ClearCrmSyncUntil().Exec(context.WithoutCancel(ctx))
	}()
	conn, _, err := crmsync.Open(ctx, h.st.Ent, h.crm)
	if err != nil {
		return err
	}
	state, err := conn.Deal(ctx, crmDealID)
	if err != nil {
		return err
	}
	if state.Won || state.Lost {
		if err := h.router.CloseDealFromCRM(ctx, d.ID, state.Won); err != nil {
			return err
		}
	}
	if state.ResponsibleID != "" && state.ResponsibleID != "0" {
		return h.assign(ctx, d, state.ResponsibleID)
	}
	return nil
}

func (h *Handler) assign(ctx context.Context, d *ent.Deal, crmUserID string) error {
	emp, err := h.st.Ent.Employee.Query().Where(employee.CrmUserID(crmUserID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil // a user not refreshed yet: the next refresh brings it
	}
	if err != nil {
		return err
	}
	c, err := h.st.Ent.Chat.Query().Where(chat.ContactID(d.ContactID), chat.ChannelID(d.ChannelID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	err = h.router.AssignFromCRM(ctx, c.ID, emp.ID)
	var de *errs.Error
	if errors.As(err, &de) && !errors.Is(err, errs.ErrUnavailable) {
		h.log.InfoContext(ctx, "crm webhook: responsible not changed", "deal", d.ID, "reason", de.Message)
		return nil
	}
	return err
}
