package amofake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// settingName is a webhook event name such as "status_lead".
var settingName = regexp.MustCompile(`^[a-z_]{3,40}$`)

func webhookJSON(h *Webhook, account int64) map[string]any {
	return map[string]any{
		"id": h.ID, "destination": h.Destination, "created_at": h.CreatedAt, "updated_at": h.CreatedAt,
		"account_id": account, "created_by": 0, "sort": h.Sort, "disabled": h.Disabled, "settings": h.Settings,
	}
}

// listWebhooks lists registrations, optionally filter[destination]; none
// is 204.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	dest := r.URL.Query().Get("filter[destination]")
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []any{}
	for _, h := range s.webhooks {
		if dest == "" || h.Destination == dest {
			items = append(items, webhookJSON(h, s.accountID))
		}
	}
	if len(items) == 0 {
		noContent(w)
		return
	}
	writeHAL(w, http.StatusOK, map[string]any{"_total_items": len(items), "_embedded": map[string]any{"webhooks": items}})
}

// addWebhook registers a destination; registering it again replaces its
// settings.
func (s *Server) addWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Destination string   `json:"destination"`
		Settings    []string `json:"settings"`
		Sort        int      `json:"sort"`
	}
	if !decode(w, r, &in) {
		return
	}
	var errs []ValidationError
	if u, err := url.Parse(in.Destination); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, ValidationError{RequestID: "0", Code: "InvalidUrl", Path: "destination", Detail: "This value is not a valid URL."})
	}
	if len(in.Settings) == 0 {
		errs = append(errs, ValidationError{RequestID: "0", Code: "NotBlank", Path: "settings", Detail: "This value should not be blank."})
	}
	for i, st := range in.Settings {
		if !settingName.MatchString(st) {
			errs = append(errs, ValidationError{RequestID: "0", Code: "NotSupportedChoice", Path: fmt.Sprintf("settings.%d", i), Detail: "The value you selected is not a valid choice."})
		}
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var h *Webhook
	for _, x := range s.webhooks {
		if x.Destination == in.Destination {
			h = x
		}
	}
	if h == nil {
		h = &Webhook{ID: s.id(), Destination: in.Destination, CreatedAt: now()}
		s.webhooks = append(s.webhooks, h)
	}
	h.Settings, h.Sort, h.Disabled = append([]string(nil), in.Settings...), in.Sort, false
	writeHAL(w, http.StatusOK, webhookJSON(h, s.accountID))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Destination string `json:"destination"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.webhooks[:0]
	for _, h := range s.webhooks {
		if h.Destination != in.Destination {
			kept = append(kept, h)
		}
	}
	s.webhooks = kept
	noContent(w)
}

// Delivery is one outgoing webhook POST and how the destination answered.
type Delivery struct {
	Destination string
	Form        url.Values
	Status      int // 0 when no answer came
	Err         error
}

// event is one entity change to report: the entity ("leads",
// "contacts"), the setting that subscribes to it with the action its keys
// are named after ("status_lead" → leads[status]), and its fields.
type event struct {
	entity  string
	setting string
	action  string
	fields  map[string]string
}

// payloads builds each destination's form for the events its settings
// ask for; events of one change go in one POST. Callers hold s.mu.
func (s *Server) payloads(evs []event) []Delivery {
	var out []Delivery
	for _, h := range s.webhooks {
		if h.Disabled {
			continue
		}
		form := url.Values{}
		for _, ev := range evs {
			if !slices.Contains(h.Settings, ev.setting) {
				continue
			}
			prefix := fmt.Sprintf("%s[%s][0]", ev.entity, ev.action)
			for k, v := range ev.fields {
				form.Set(prefix+"["+k+"]", v)
			}
		}
		if len(form) == 0 {
			continue
		}
		form.Set("account[id]", strconv.FormatInt(s.accountID, 10))
		form.Set("account[subdomain]", s.subdomain)
		form.Set("account[_links][self]", s.base())
		out = append(out, Delivery{Destination: h.Destination, Form: form})
	}
	return out
}

// deliver POSTs each payload form-encoded and records the outcome. A
// destination that fails is not retried (the older reference says
// digital-pipeline webhooks are not; newer ones retry a few times).
func (s *Server) deliver(ctx context.Context, ds []Delivery) error {
	var errs []error
	for i := range ds {
		d := &ds[i]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Destination, strings.NewReader(d.Form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			var resp *http.Response
			resp, err = s.hooks.Do(req)
			if err == nil {
				d.Status = resp.StatusCode
				resp.Body.Close()
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					err = fmt.Errorf("answered %d", resp.StatusCode)
				}
			}
		}
		if err != nil {
			d.Err = err
			errs = append(errs, fmt.Errorf("amofake: webhook to %s: %w", d.Destination, err))
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, ds...)
	s.mu.Unlock()
	return errors.Join(errs...)
}

// base is the URL the fake calls itself in webhooks. Callers hold s.mu.
func (s *Server) base() string {
	if s.URL != "" {
		return s.URL
	}
	return "https://" + s.subdomain + ".amocrm.ru"
}

// leadFields are the lead fields a webhook carries. Callers hold s.mu.
func (s *Server) leadFields(l *Lead, modifiedBy int64) map[string]string {
	return map[string]string{
		"id": itoa(l.ID), "name": l.Name, "status_id": itoa(l.StatusID), "pipeline_id": itoa(l.PipelineID),
		"price": itoa(l.Price), "responsible_user_id": itoa(l.ResponsibleUserID), "last_modified": itoa(l.UpdatedAt),
		"modified_user_id": itoa(modifiedBy), "created_user_id": "0", "date_create": itoa(l.CreatedAt),
		"created_at": itoa(l.CreatedAt), "updated_at": itoa(l.UpdatedAt), "account_id": itoa(s.accountID),
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// with returns a copy of m with the pairs kv added.
func with(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// leadEvents reports a lead's change from old to l: leads[status] when its
// stage moved, leads[responsible] when its responsible changed (with
// old_responsible_user_id, which the fake always sends), and leads[update]
// always. Callers hold s.mu.
func (s *Server) leadEvents(old Lead, l *Lead) []event {
	f := s.leadFields(l, s.defaultUser())
	var evs []event
	if old.StatusID != l.StatusID || old.PipelineID != l.PipelineID {
		evs = append(evs, event{"leads", "status_lead", "status",
			with(f, "old_status_id", itoa(old.StatusID), "old_pipeline_id", itoa(old.PipelineID))})
	}
	if old.ResponsibleUserID != l.ResponsibleUserID {
		evs = append(evs, event{"leads", "responsible_lead", "responsible",
			with(f, "old_responsible_user_id", itoa(old.ResponsibleUserID))})
	}
	return append(evs, event{"leads", "update_lead", "update", f})
}

// contactEvents reports a contact's change like leadEvents, with type
// "contact". Callers hold s.mu.
func (s *Server) contactEvents(old Contact, c *Contact) []event {
	f := map[string]string{
		"id": itoa(c.ID), "name": c.Name, "type": "contact", "responsible_user_id": itoa(c.ResponsibleUserID),
		"last_modified": itoa(c.UpdatedAt), "modified_user_id": itoa(s.defaultUser()),
		"date_create": itoa(c.CreatedAt), "account_id": itoa(s.accountID),
	}
	var evs []event
	if old.ResponsibleUserID != c.ResponsibleUserID {
		evs = append(evs, event{"contacts", "responsible_contact", "responsible",
			with(f, "old_responsible_user_id", itoa(old.ResponsibleUserID))})
	}
	return append(evs, event{"contacts", "update_contact", "update", f})
}

// MoveLead moves a lead as a CRM user would, to statusID in pipelineID
// (0 keeps the lead's pipeline, so 142 and 143 need none here), then POSTs
// the change to every destination registered for status_lead (as
// leads[status]) or update_lead (as leads[update]). It returns the
// delivery failures, if any, after applying the change.
func (s *Server) MoveLead(ctx context.Context, leadID, pipelineID, statusID int64) error {
	s.mu.Lock()
	l := s.leads[leadID]
	if l == nil {
		s.mu.Unlock()
		return fmt.Errorf("amofake: no lead %d", leadID)
	}
	if pipelineID == 0 {
		pipelineID = l.PipelineID
	}
	if _, _, verrs := s.place(pipelineID, statusID, l.PipelineID, "0"); len(verrs) > 0 {
		s.mu.Unlock()
		return fmt.Errorf("amofake: lead %d cannot move to status %d of pipeline %d", leadID, statusID, pipelineID)
	}
	old := *l
	s.applyPatch(leadPatch{ID: leadID, PipelineID: pipelineID, StatusID: statusID})
	ds := s.payloads(s.leadEvents(old, l))
	s.mu.Unlock()
	return s.deliver(ctx, ds)
}

// ChangeLeadResponsible makes userID the lead's responsible as a CRM user
// would, then POSTs leads[responsible] (responsible_lead) and
// leads[update] (update_lead) to the registered destinations.
func (s *Server) ChangeLeadResponsible(ctx context.Context, leadID, userID int64) error {
	s.mu.Lock()
	l := s.leads[leadID]
	if l == nil || !s.userExists(userID) {
		s.mu.Unlock()
		return fmt.Errorf("amofake: no lead %d or no user %d", leadID, userID)
	}
	old := *l
	s.applyPatch(leadPatch{ID: leadID, ResponsibleUserID: &userID})
	ds := s.payloads(s.leadEvents(old, l))
	s.mu.Unlock()
	return s.deliver(ctx, ds)
}

// ChangeContactResponsible makes userID the contact's responsible as a CRM
// user would, then POSTs contacts[responsible] (responsible_contact) and
// contacts[update] (update_contact), with type "contact".
func (s *Server) ChangeContactResponsible(ctx context.Context, contactID, userID int64) error {
	s.mu.Lock()
	c := s.contacts[contactID]
	if c == nil || !s.userExists(userID) {
		s.mu.Unlock()
		return fmt.Errorf("amofake: no contact %d or no user %d", contactID, userID)
	}
	old := *c
	c.ResponsibleUserID, c.UpdatedAt = userID, now()
	ds := s.payloads(s.contactEvents(old, c))
	s.mu.Unlock()
	return s.deliver(ctx, ds)
}

// echo sends, in the background, the webhooks of a change made through
// the API, when WithAPIWebhooks is on. Callers hold s.mu.
func (s *Server) echo(evs []event) {
	if !s.apiHooks {
		return
	}
	if ds := s.payloads(evs); len(ds) > 0 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.deliver(ctx, ds)
		}()
	}
}
