package hubspot

import (
	"context"
	"fmt"
	"html"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

func init() {
	crm.Register(crm.HubSpot, crm.Vendor{Open: open, ParseWebhook: parseWebhook, VerifyWebhook: VerifyWebhook,
		// DefaultBurst in any DefaultWindow: a tenth of it back to back,
		// the rest spread over the window (see windowLimiter).
		Rate:    crm.Rate{PerSecond: float64(DefaultBurst-DefaultBurst/10) / DefaultWindow.Seconds(), Burst: DefaultBurst / 10},
		Address: "https://api.hubapi.com (or nothing), with a private app's access token (pat-…) as the token"})
}

// Properties the connector reads and writes. Source: developers.hubspot.com
// docs/api/crm/deals, docs/api/crm/contacts, and the default properties
// of each object (Settings → Properties).
const (
	propOwner     = "hubspot_owner_id"
	propDealName  = "dealname"
	propPipeline  = "pipeline"
	propStage     = "dealstage"
	propFirstName = "firstname"
	propLastName  = "lastname"
	propPhone     = "phone"
	propMobile    = "mobilephone"
	// The search index's digits of phone and mobilephone without the
	// country code.
	propSearchPhone  = "hs_searchable_calculated_phone_number"
	propSearchMobile = "hs_searchable_calculated_mobile_number"
	// propContactMarker holds, on a contact CreateClient makes, the
	// record's marker (the contact's Message, a default property meant
	// for free text): a retry in another connector finds the contact by
	// it.
	propContactMarker = "message"
	propNoteBody      = "hs_note_body"
	propNoteTime      = "hs_timestamp"
)

// pipelinesTTL is how long the cached pipelines are trusted; a stage not
// in the cache refreshes it at once.
const pipelinesTTL = 10 * time.Minute

// connector is HubSpot behind the crm seam.
type connector struct {
	c *Client

	mu        sync.Mutex
	pipelines []Pipeline
	readAt    time.Time
	// made remembers, by marker, the contacts CreateClient made whose
	// deal then failed, so a retry links them instead of making another;
	// order bounds it to maxMade.
	made  map[string]string
	order []string
}

// maxMade bounds the contacts remembered for retries.
const maxMade = 1024

func (k *connector) rememberContact(marker, id string) {
	if marker == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.made == nil {
		k.made = map[string]string{}
	}
	if _, ok := k.made[marker]; !ok {
		k.order = append(k.order, marker)
	}
	k.made[marker] = id
	for len(k.order) > maxMade {
		delete(k.made, k.order[0])
		k.order = k.order[1:]
	}
}

// madeContact returns (and forgets) the contact remembered for marker.
func (k *connector) madeContact(marker string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	id := k.made[marker]
	delete(k.made, marker)
	return id
}

// open makes a connector from cfg: Token is the private app's access
// token; BaseURL is empty (DefaultBaseURL) or that URL, or any host with
// AllowAnyHost; HTTP and Limiter as the seam says.
func open(cfg crm.Config) (crm.Connector, error) {
	opts := crmhttp.Options(cfg, AllowAnyHost, WithHTTPClient, WithLimiter)
	if cfg.Limiters != nil {
		opts = append(opts, WithSearchLimiter(cfg.Limiters("search", crm.Rate{PerSecond: DefaultSearchPerSecond, Burst: 1})))
	}
	return Open(cfg.BaseURL, cfg.Token, opts...)
}

// Open returns the connector of the account whose private app token is
// token. A bad address or token is crm.ErrBadAddress.
func Open(baseURL, token string, opts ...Option) (crm.Connector, error) {
	c, err := New(baseURL, token, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", crm.ErrBadAddress, err)
	}
	return &connector{c: c}, nil
}

// seam translates the client's errors into the seam's.
func seam(err error) error {
	e, ok := asError(err)
	return crmhttp.Seam(err, ok && e.Unauthorized(),
		ok && !e.RateLimited() && (e.Retryable() || e.Status == 0 && !e.local))
}

// Account reads the portal id (GET /account-info/v3/details).
func (k *connector) Account(ctx context.Context) (string, error) {
	id, err := k.c.PortalID(ctx)
	return id, seam(err)
}

var _ crm.Identified = (*connector)(nil)

// Directory reads the owners (archived ones inactive) and the deal
// pipelines: a closed stage of probability 1 is won, of probability 0
// lost, any other stage working. The pipeline "default" is Main (else the
// first in display order).
func (k *connector) Directory(ctx context.Context) (crm.Directory, error) {
	owners, err := k.c.ListOwners(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	pls, err := k.refreshPipelines(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	var out crm.Directory
	for _, o := range owners {
		out.Users = append(out.Users, crm.User{ID: o.ID, Name: o.FullName(), Email: o.Email, Active: !o.Archived})
	}
	main := mainPipeline(pls)
	for _, p := range pls {
		cp := crm.Pipeline{ID: p.ID, Name: p.Label, Main: p.ID == main}
		for _, s := range p.Stages {
			kind := crm.Working
			switch {
			case s.Won():
				kind = crm.Won
			case s.Lost():
				kind = crm.Lost
			}
			cp.Stages = append(cp.Stages, crm.Stage{ID: s.ID, Name: s.Label, Kind: kind})
		}
		out.Pipelines = append(out.Pipelines, cp)
	}
	return out, nil
}

// mainPipeline is "default" when listed, else the first pipeline.
func mainPipeline(pls []Pipeline) string {
	for _, p := range pls {
		if p.ID == DefaultPipelineID {
			return p.ID
		}
	}
	if len(pls) > 0 {
		return pls[0].ID
	}
	return ""
}

func (k *connector) refreshPipelines(ctx context.Context) ([]Pipeline, error) {
	pls, err := k.c.ListPipelines(ctx)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.pipelines, k.readAt = pls, time.Now()
	k.mu.Unlock()
	return pls, nil
}

// cachedPipelines returns the pipelines, read again when older than
// pipelinesTTL or when fresh is set.
func (k *connector) cachedPipelines(ctx context.Context, fresh bool) ([]Pipeline, error) {
	k.mu.Lock()
	pls, at := k.pipelines, k.readAt
	k.mu.Unlock()
	if !fresh && pls != nil && time.Since(at) < pipelinesTTL {
		return pls, nil
	}
	return k.refreshPipelines(ctx)
}

// stage finds a stage in the cached pipelines, reading them again once
// when it is not there (a stage added since).
func (k *connector) stage(ctx context.Context, pipelineID, stageID string) (Stage, bool, error) {
	for _, fresh := range []bool{false, true} {
		pls, err := k.cachedPipelines(ctx, fresh)
		if err != nil {
			return Stage{}, false, err
		}
		for _, p := range pls {
			if pipelineID != "" && p.ID != pipelineID {
				continue
			}
			for _, s := range p.Stages {
				if s.ID == stageID {
					return s, true, nil
				}
			}
		}
	}
	return Stage{}, false, nil
}

// phoneDigits keeps a number's digits.
func phoneDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// phoneSpellings are the spellings of an E.164 number asked of the
// search: with "+", its digits, for a +7 number the domestic "8…", and
// the national number without the country code (for the calculated
// searchable properties). The country code's length is read from the
// number's first digits for the codes Switchboard meets most, else
// guessed as one to three digits.
func phoneSpellings(e164 string) (exact, national []string) {
	d := phoneDigits(e164)
	if len(d) < 6 {
		return nil, nil
	}
	exact = []string{"+" + d, d}
	if strings.HasPrefix(d, "7") && len(d) == 11 {
		exact = append(exact, "8"+d[1:])
	}
	for _, cc := range countryCodes(d) {
		national = append(national, d[len(cc):])
	}
	national = append(national, d)
	if strings.HasPrefix(d, "7") && len(d) == 11 {
		national = append(national, "8"+d[1:])
	}
	return exact, national
}

// countryCodes are the possible country codes at the start of digits.
func countryCodes(d string) []string {
	switch {
	case d[0] == '1' || d[0] == '7':
		return []string{d[:1]}
	}
	return []string{d[:2], d[:3]}
}

// FindContact searches contacts whose phone or mobilephone is one of the
// number's spellings (IN), or whose calculated searchable phone or mobile
// number (digits without the country code) is one of the national
// spellings: one search request of four filter groups (when HubSpot
// refuses it as invalid, a second one of the first two). Every phone and
// mobilephone returned is judged with same; the first contact by id with
// an accepted number is returned. A contact created seconds ago may not
// be indexed yet (the search lags writes).
func (k *connector) FindContact(ctx context.Context, phone string, same func(raw string) bool) (*crm.Contact, error) {
	exact, national := phoneSpellings(phone)
	if len(exact) == 0 {
		return nil, nil
	}
	groups := []FilterGroup{
		{Filters: []Filter{{PropertyName: propPhone, Operator: "IN", Values: exact}}},
		{Filters: []Filter{{PropertyName: propMobile, Operator: "IN", Values: exact}}},
		{Filters: []Filter{{PropertyName: propSearchPhone, Operator: "IN", Values: national}}},
		{Filters: []Filter{{PropertyName: propSearchMobile, Operator: "IN", Values: national}}},
	}
	props := []string{propFirstName, propLastName, propPhone, propMobile, propOwner}
	objs, err := k.c.Search(ctx, Contacts, groups, props)
	if IsPermanent(err) {
		// An account whose search refuses the calculated properties is
		// still searched on the stored spellings.
		objs, err = k.c.Search(ctx, Contacts, groups[:2], props)
	}
	if err != nil {
		return nil, seam(err)
	}
	for _, o := range objs {
		for _, p := range []string{propPhone, propMobile} {
			if raw := o.Properties[p]; raw != "" && same(raw) {
				name := strings.TrimSpace(o.Properties[propFirstName] + " " + o.Properties[propLastName])
				return &crm.Contact{ID: o.ID, Name: name, ResponsibleID: o.Properties[propOwner]}, nil
			}
		}
	}
	return nil, nil
}

// dealName is the deal's name with the record's marker.
func dealName(rec crm.ClientRecord) string {
	return strings.TrimSpace(rec.DealName + " " + rec.Marker)
}

// splitName puts a client's name in firstname (the first word) and
// lastname (the rest).
func splitName(name string) (first, last string) {
	name = strings.TrimSpace(name)
	first, last, _ = strings.Cut(name, " ")
	return first, strings.TrimSpace(last)
}

// placement is the pipeline and stage of a new deal: rec's, else the main
// pipeline and its first stage that is not closed.
func (k *connector) placement(ctx context.Context, rec crm.ClientRecord) (pipeline, stage string, err error) {
	pipeline, stage = rec.PipelineID, rec.StageID
	if pipeline != "" && stage != "" {
		return pipeline, stage, nil
	}
	pls, err := k.cachedPipelines(ctx, false)
	if err != nil {
		return "", "", err
	}
	if pipeline == "" {
		pipeline = mainPipeline(pls)
	}
	if stage == "" {
		for _, p := range pls {
			if p.ID != pipeline {
				continue
			}
			for _, s := range p.Stages {
				if !s.Closed {
					stage = s.ID
					break
				}
			}
		}
	}
	if pipeline == "" || stage == "" {
		return "", "", &Error{Op: "POST /crm/v3/objects/deals", Err: fmt.Errorf("no open stage in pipeline %q", pipeline), local: true}
	}
	return pipeline, stage, nil
}

// CreateClient creates the contact (POST /crm/v3/objects/contacts with
// firstname, lastname, phone, hubspot_owner_id and rec.Marker as its
// message), unless rec.ContactID links an existing one, then the deal
// (POST /crm/v3/objects/deals with dealname carrying rec.Marker,
// pipeline, dealstage and hubspot_owner_id) associated with the contact
// in the same request (deal→contact, type 3). HubSpot has no transaction
// across the two: when the deal fails after the contact was made, the
// contact is remembered by rec.Marker in this connector and a retry
// through it links that contact instead of making another; a retry
// through another connector (the outbox opens one per job) finds it by
// its marker in FindCreated.
func (k *connector) CreateClient(ctx context.Context, rec crm.ClientRecord) (crm.ClientRef, error) {
	pipeline, stage, err := k.placement(ctx, rec)
	if err != nil {
		return crm.ClientRef{}, seam(err)
	}
	contactID := rec.ContactID
	if contactID == "" {
		contactID = k.madeContact(rec.Marker)
	}
	made := false
	if contactID == "" {
		first, last := splitName(rec.Name)
		props := map[string]string{}
		for key, v := range map[string]string{propFirstName: first, propLastName: last, propPhone: rec.Phone,
			propOwner: rec.ResponsibleID, propContactMarker: rec.Marker} {
			if v != "" {
				props[key] = v
			}
		}
		ct, err := k.c.Create(ctx, Contacts, props)
		if err != nil {
			return crm.ClientRef{}, seam(err)
		}
		contactID, made = ct.ID, true
	}
	props := map[string]string{propDealName: dealName(rec), propPipeline: pipeline, propStage: stage}
	if rec.ResponsibleID != "" {
		props[propOwner] = rec.ResponsibleID
	}
	d, err := k.c.Create(ctx, Deals, props, Association{ToID: contactID, TypeID: AssocDealToContact})
	if err != nil {
		if rec.ContactID == "" && (made || !IsPermanent(err)) {
			k.rememberContact(rec.Marker, contactID)
		}
		return crm.ClientRef{}, seam(err)
	}
	return crm.ClientRef{ContactID: contactID, DealID: d.ID}, nil
}

// FindCreated searches deals whose dealname holds rec's marker as a token
// (CONTAINS_TOKEN), or is the name CreateClient gives (EQ: HubSpot's
// tokenizing of a marker like "#sb-1-42" is not documented), judged whole
// with crm.HasMarker, lowest id first; the contact is rec.ContactID or the
// deal's first associated contact. When the search finds none and the
// contact is not known (rec.ContactID, or the one an earlier attempt
// through this connector made), the contact an earlier attempt made (its
// message holds the marker) is searched for and remembered for the
// CreateClient that follows, which links it instead of making another.
// When a contact is known, its associated deals are read too:
// associations do not lag the way the search index does.
func (k *connector) FindCreated(ctx context.Context, rec crm.ClientRecord) (*crm.ClientRef, error) {
	if rec.Marker == "" {
		return nil, nil
	}
	groups := []FilterGroup{
		{Filters: []Filter{{PropertyName: propDealName, Operator: "CONTAINS_TOKEN", Value: rec.Marker}}},
		{Filters: []Filter{{PropertyName: propDealName, Operator: "EQ", Value: dealName(rec)}}},
	}
	deals, err := k.c.Search(ctx, Deals, groups, []string{propDealName})
	if err != nil {
		return nil, seam(err)
	}
	contact := rec.ContactID
	if contact == "" {
		k.mu.Lock()
		contact = k.made[rec.Marker]
		k.mu.Unlock()
	}
	if !hasMarked(deals, rec.Marker) && contact == "" {
		if contact, err = k.markedContact(ctx, rec.Marker); err != nil {
			return nil, seam(err)
		}
		if contact != "" {
			k.rememberContact(rec.Marker, contact)
		}
	}
	if !hasMarked(deals, rec.Marker) && contact != "" {
		ids, err := k.c.Associated(ctx, Contacts, contact, Deals)
		if err != nil {
			return nil, seam(err)
		}
		if deals, err = k.c.BatchRead(ctx, Deals, ids, propDealName); err != nil {
			return nil, seam(err)
		}
	}
	for _, d := range deals {
		if !crm.HasMarker(d.Properties[propDealName], rec.Marker) {
			continue
		}
		ref := &crm.ClientRef{ContactID: rec.ContactID, DealID: d.ID}
		if ref.ContactID == "" {
			ids, err := k.c.Associated(ctx, Deals, d.ID, Contacts)
			if err != nil {
				return nil, seam(err)
			}
			if len(ids) > 0 {
				ref.ContactID = ids[0]
			}
		}
		return ref, nil
	}
	return nil, nil
}

// markedContact searches the contact whose message holds marker (as a
// token, or whole), judged with crm.HasMarker, lowest id first; "" when
// none is found. A contact made seconds ago may not be indexed yet.
func (k *connector) markedContact(ctx context.Context, marker string) (string, error) {
	groups := []FilterGroup{
		{Filters: []Filter{{PropertyName: propContactMarker, Operator: "CONTAINS_TOKEN", Value: marker}}},
		{Filters: []Filter{{PropertyName: propContactMarker, Operator: "EQ", Value: marker}}},
	}
	cs, err := k.c.Search(ctx, Contacts, groups, []string{propContactMarker})
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if crm.HasMarker(c.Properties[propContactMarker], marker) {
			return c.ID, nil
		}
	}
	return "", nil
}

func hasMarked(os []Object, marker string) bool {
	for _, o := range os {
		if crm.HasMarker(o.Properties[propDealName], marker) {
			return true
		}
	}
	return false
}

// SetResponsible makes userID the owner (hubspot_owner_id) of the deal,
// then of the contact (PATCH each).
func (k *connector) SetResponsible(ctx context.Context, ref crm.ClientRef, userID string) error {
	props := map[string]string{propOwner: userID}
	if ref.DealID != "" {
		if err := k.c.Update(ctx, Deals, ref.DealID, props); err != nil {
			return seam(err)
		}
	}
	if ref.ContactID != "" {
		if err := k.c.Update(ctx, Contacts, ref.ContactID, props); err != nil {
			return seam(err)
		}
	}
	return nil
}

// Deal reads the deal's dealstage, pipeline and hubspot_owner_id; won and
// lost come from the stage's metadata in the cached pipelines. A missing
// deal is a plain (permanent) error.
func (k *connector) Deal(ctx context.Context, dealID string) (crm.DealState, error) {
	d, err := k.c.Get(ctx, Deals, dealID, propStage, propPipeline, propOwner)
	if err != nil {
		return crm.DealState{}, seam(err)
	}
	st := crm.DealState{ResponsibleID: d.Properties[propOwner]}
	s, ok, err := k.stage(ctx, d.Properties[propPipeline], d.Properties[propStage])
	if err != nil {
		return crm.DealState{}, seam(err)
	}
	if ok {
		st.Won, st.Lost = s.Won(), s.Lost()
	}
	return st, nil
}

// noteBody is the note's HTML body: text escaped, lines broken with
// <br>, the marker on a line of its own.
func noteBody(text, marker string) string {
	if marker != "" {
		text = text + "\n" + marker
	}
	return strings.ReplaceAll(html.EscapeString(text), "\n", "<br>")
}

// AddNote writes text and marker as a note (hs_note_body, hs_timestamp
// now) associated with the deal (note→deal, type 214), else the contact
// (note→contact, type 202). When maybeWritten, the object's associated
// notes are read first (associations, then a batch read of their bodies)
// and a note holding marker is not written again. Source:
// developers.hubspot.com docs/api-reference/crm-notes-v3/guide.
func (k *connector) AddNote(ctx context.Context, ref crm.ClientRef, text, marker string, maybeWritten bool) error {
	objType, id, assoc := Deals, ref.DealID, AssocNoteToDeal
	if id == "" {
		objType, id, assoc = Contacts, ref.ContactID, AssocNoteToContact
	}
	if marker != "" && maybeWritten {
		ids, err := k.c.Associated(ctx, objType, id, Notes)
		if err != nil {
			return seam(err)
		}
		notes, err := k.c.BatchRead(ctx, Notes, ids, propNoteBody)
		if err != nil {
			return seam(err)
		}
		for _, n := range notes {
			if crm.HasMarker(n.Properties[propNoteBody], marker) {
				return nil
			}
		}
	}
	props := map[string]string{
		propNoteBody: noteBody(text, marker),
		propNoteTime: k.c.now().UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	_, err := k.c.Create(ctx, Notes, props, Association{ToID: id, TypeID: assoc})
	return seam(err)
}
