package bitrix24

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboardhq/switchboard/server/crm"
	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

func init() {
	crm.Register(crm.Bitrix24, crm.Vendor{Open: open, ParseWebhook: parseWebhook, Credentials: credentials,
		Rate:    crm.Rate{PerSecond: DefaultDrain, Burst: DefaultBurst},
		Address: "the portal's address, https://{portal}.bitrix24.ru (or .com, .de, …), with the incoming webhook's URL https://{portal}.bitrix24.ru/rest/{user}/{secret}/ as the token"})
}

// credentials reads what an admin pasted: the token may be the whole
// incoming webhook URL, whose portal must be baseURL's (or gives it when
// baseURL is empty); what is stored is the portal's address in clear and
// "{user}/{secret}" sealed. Errors never hold the secret.
func credentials(baseURL, token string) (string, string, error) {
	base := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	token = strings.TrimSpace(token)
	if strings.Contains(base, "/rest/") {
		return "", "", fmt.Errorf("%w: bitrix24: the address is the portal's alone; the webhook URL goes in the token", crm.ErrBadAddress)
	}
	if !strings.Contains(token, "://") {
		return base, token, nil
	}
	b, cred, err := SplitWebhookURL(token)
	if err != nil {
		return "", "", err
	}
	if base == "" {
		return b, cred, nil
	}
	if !strings.EqualFold(base, b) {
		return "", "", fmt.Errorf("%w: bitrix24: the webhook URL is of the portal %s, not of the address given", crm.ErrBadAddress, b)
	}
	return base, cred, nil
}

// connector is Bitrix24 behind the crm seam.
type connector struct{ c *Client }

// open makes a connector from cfg: BaseURL is the portal
// ("https://example.bitrix24.ru") and Token the incoming webhook's
// "{user}/{secret}"; Token may also be the whole webhook URL, whose portal
// must then be BaseURL's (or gives it, when BaseURL is empty).
func open(cfg crm.Config) (crm.Connector, error) {
	return Open(cfg.BaseURL, cfg.Token, crmhttp.Options(cfg, AllowAnyHost, WithHTTPClient, WithLimiter)...)
}

// Open returns the connector of the portal at baseURL reached as the
// incoming webhook cred (see open for the forms it takes). A bad address
// or credential is crm.ErrBadAddress.
func Open(baseURL, cred string, opts ...Option) (crm.Connector, error) {
	cred = strings.TrimSpace(cred)
	if strings.Contains(cred, "://") {
		b, c, err := SplitWebhookURL(cred)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", crm.ErrBadAddress, err)
		}
		if strings.TrimSpace(baseURL) == "" {
			baseURL = b
		} else if !strings.EqualFold(strings.TrimRight(strings.TrimSpace(baseURL), "/"), b) {
			return nil, fmt.Errorf("%w: bitrix24: the webhook URL is not of the portal %s", crm.ErrBadAddress, b)
		}
		cred = c
	}
	c, err := New(baseURL, cred, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", crm.ErrBadAddress, err)
	}
	return connector{c}, nil
}

// seam translates the client's errors into the seam's.
func seam(err error) error {
	e, ok := asError(err)
	return crmhttp.Seam(err, ok && e.Unauthorized(),
		ok && (e.Retryable() || e.Status == 0 && e.Command == "" && !e.local))
}

// Directory reads the employees (user.get; a dismissed one is inactive)
// and the deal pipelines with their stages (crm.category.list, then
// crm.status.list in one batch): SEMANTICS "S" is won, "F" lost, any
// other a working stage. The default pipeline (id 0) is Main.
func (k connector) Directory(ctx context.Context) (crm.Directory, error) {
	users, err := k.c.ListUsers(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	cats, err := k.c.ListCategories(ctx)
	if err != nil {
		return crm.Directory{}, seam(err)
	}
	var out crm.Directory
	for _, u := range users {
		out.Users = append(out.Users, crm.User{ID: u.ID, Name: u.FullName(), Email: u.Email, Active: u.Active})
	}
	for _, c := range cats {
		p := crm.Pipeline{ID: fmt.Sprint(c.ID), Name: c.Name, Main: c.Default}
		for _, s := range c.Stages {
			kind := crm.Working
			switch s.Semantics {
			case SemanticsWon:
				kind = crm.Won
			case SemanticsLost:
				kind = crm.Lost
			}
			p.Stages = append(p.Stages, crm.Stage{ID: s.StatusID, Name: s.Name, Kind: kind})
		}
		out.Pipelines = append(out.Pipelines, p)
	}
	return out, nil
}

// phoneValues are the spellings of an E.164 number asked of the duplicate
// search: as given, its digits, and for a +7 number the domestic "8…".
func phoneValues(e164 string) []string {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, e164)
	if d == "" {
		return nil
	}
	out := []string{"+" + d, d}
	if strings.HasPrefix(d, "7") && len(d) == 11 {
		out = append(out, "8"+d[1:])
	}
	return out
}

// FindContact asks the duplicate search for the number's spellings
// (crm.duplicate.findbycomm), reads the contacts it names (crm.contact.get,
// several in one batch) and returns the first, by id, whose PHONE value
// same accepts.
func (k connector) FindContact(ctx context.Context, phone string, same func(raw string) bool) (*crm.Contact, error) {
	values := phoneValues(phone)
	if len(values) == 0 {
		return nil, nil
	}
	ids, err := k.c.FindContactIDsByPhone(ctx, values)
	if err != nil || len(ids) == 0 {
		return nil, seam(err)
	}
	cs, err := k.c.GetContacts(ctx, ids)
	if err != nil {
		return nil, seam(err)
	}
	for _, c := range cs {
		for _, raw := range c.Phones {
			if same(raw) {
				return &crm.Contact{ID: c.ID, Name: c.FullName(), ResponsibleID: c.AssignedBy}, nil
			}
		}
	}
	return nil, nil
}

// dealTitle is the deal's title with the record's marker.
func dealTitle(rec crm.ClientRecord) string {
	return strings.TrimSpace(rec.DealName + " " + rec.Marker)
}

// CreateClient creates the contact and its deal in one halting batch
// (crm.contact.add, crm.deal.add with CONTACT_IDS ["$result[contact]"]),
// or only the deal when rec.ContactID links an existing contact. The
// deal's TITLE carries rec.Marker for FindCreated.
func (k connector) CreateClient(ctx context.Context, rec crm.ClientRecord) (crm.ClientRef, error) {
	d := NewDeal{Title: dealTitle(rec), CategoryID: rec.PipelineID, StageID: rec.StageID, AssignedBy: rec.ResponsibleID}
	if rec.ContactID != "" {
		d.ContactIDs = []string{rec.ContactID}
		id, err := k.c.AddDeal(ctx, d)
		if err != nil {
			return crm.ClientRef{}, seam(err)
		}
		return crm.ClientRef{ContactID: rec.ContactID, DealID: id}, nil
	}
	ct := NewContact{Name: rec.Name, Phone: rec.Phone, AssignedBy: rec.ResponsibleID}
	contactID, dealID, err := k.c.AddContactWithDeal(ctx, ct, d)
	if err != nil {
		return crm.ClientRef{}, seam(err)
	}
	return crm.ClientRef{ContactID: contactID, DealID: dealID}, nil
}

// FindCreated looks for a deal whose title holds rec's marker
// (crm.deal.list with filter "%TITLE"), lowest id first.
func (k connector) FindCreated(ctx context.Context, rec crm.ClientRecord) (*crm.ClientRef, error) {
	if rec.Marker == "" {
		return nil, nil
	}
	deals, err := k.c.FindDeals(ctx, rec.Marker)
	if err != nil {
		return nil, seam(err)
	}
	for _, d := range deals {
		if crm.HasMarker(d.Title, rec.Marker) {
			ref := &crm.ClientRef{ContactID: d.ContactID, DealID: d.ID}
			if ref.ContactID == "" {
				ref.ContactID = rec.ContactID
			}
			return ref, nil
		}
	}
	return nil, nil
}

// SetResponsible makes userID the deal's and the contact's responsible
// (crm.deal.update and crm.contact.update, in one batch when both).
func (k connector) SetResponsible(ctx context.Context, ref crm.ClientRef, userID string) error {
	switch {
	case ref.DealID != "" && ref.ContactID != "":
		cmds := []Command{
			{Key: "deal", Method: "crm.deal.update", Params: updateAssigned(ref.DealID, userID)},
			{Key: "contact", Method: "crm.contact.update", Params: updateAssigned(ref.ContactID, userID)},
		}
		b, err := k.c.Batch(ctx, false, cmds)
		if err == nil {
			err = b.Err(cmds)
		}
		return seam(err)
	case ref.DealID != "":
		return seam(k.c.SetDealAssigned(ctx, ref.DealID, userID))
	case ref.ContactID != "":
		return seam(k.c.SetContactAssigned(ctx, ref.ContactID, userID))
	}
	return nil
}

// Deal reads the deal's stage semantics and responsible (crm.deal.get).
func (k connector) Deal(ctx context.Context, dealID string) (crm.DealState, error) {
	d, err := k.c.GetDeal(ctx, dealID)
	if err != nil {
		return crm.DealState{}, seam(err)
	}
	return crm.DealState{Won: d.Won(), Lost: d.Lost(), ResponsibleID: d.AssignedBy}, nil
}

// AddNote writes text and marker as a timeline comment of the deal (else
// the contact); when maybeWritten, not if a comment with marker is there
// already (crm.timeline.comment.list).
func (k connector) AddNote(ctx context.Context, ref crm.ClientRef, text, marker string, maybeWritten bool) error {
	owner, id := OwnerDeal, ref.DealID
	if id == "" {
		owner, id = OwnerContact, ref.ContactID
	}
	if marker != "" && maybeWritten {
		cs, err := k.c.ListComments(ctx, owner, id)
		if err != nil {
			return seam(err)
		}
		for _, c := range cs {
			if crm.HasMarker(c.Comment, marker) {
				return nil
			}
		}
	}
	if marker != "" {
		text = text + "\n" + marker
	}
	_, err := k.c.AddComment(ctx, owner, id, text)
	return seam(err)
}
