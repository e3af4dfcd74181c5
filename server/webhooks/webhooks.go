// Package webhooks receives what external CRMs report back (SPEC §8a): a
// deal moved to a won or lost stage closes it here; a responsible changed
// there changes it here, with the pushes of a transfer. Each account's
// webhook URL carries an unguessable key (stored as a SHA-256 hash);
// anything else is answered 404 and changes nothing. Replayed and
// out-of-order webhooks change nothing twice: closing a closed deal and
// giving a client to its responsible change nothing, and an event older
// than the last one applied to its deal is skipped.
package webhooks

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/chat"
	"github.com/switchboardhq/switchboard/ent/crmconnection"
	"github.com/switchboardhq/switchboard/ent/deal"
	"github.com/switchboardhq/switchboard/ent/employee"
	"github.com/switchboardhq/switchboard/server/crm"
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
	log    *slog.Logger
	prefix string
}

// New returns the webhook handler for paths under prefix.
func New(st *store.Store, router Router, log *slog.Logger, prefix string) *Handler {
	return &Handler{st: st, router: router, log: log, prefix: prefix}
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
	events, err := crm.ParseWebhook(crm.Kind(cc.Kind), r)
	if err != nil {
		http.Error(w, "malformed webhook: "+err.Error(), http.StatusBadRequest)
		return
	}
	ctx := tenant.NewContext(r.Context(), cc.AccountID)
	for _, e := range events {
		if err := h.apply(ctx, e); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}

// fail answers 503 for what a retry may fix (the CRM retries webhooks) and
// 500 otherwise, never with the cause's text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.WarnContext(r.Context(), "crm webhook", "err", err)
	if errs.Unreachable(err) {
		http.Error(w, "unavailable, retry", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// apply makes one event's change, unless its deal is unknown here or it is
// older than what was applied to the deal already.
func (h *Handler) apply(ctx context.Context, e crm.Event) error {
	d, err := h.st.Ent.Deal.Query().Where(deal.CrmID(e.DealID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil // a deal Switchboard did not create or has not linked yet
	}
	if err != nil {
		return err
	}
	modified := e.Modified.Unix()
	if !e.Modified.IsZero() && modified < d.CrmModified {
		return nil // out of order: a newer change was applied already
	}
	switch e.Kind {
	case crm.DealStage:
		if e.Won || e.Lost {
			err = h.router.CloseDealFromCRM(ctx, d.ID, e.Won)
		}
	case crm.DealResponsible:
		err = h.assign(ctx, d, e.UserID)
	}
	if err != nil {
		return err
	}
	if !e.Modified.IsZero() {
		return h.st.Ent.Deal.Update().Where(deal.ID(d.ID), deal.CrmModifiedLT(modified)).SetCrmModified(modified).Exec(ctx)
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
