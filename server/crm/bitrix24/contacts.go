package bitrix24

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// MaxDuplicateValues is how many values one crm.duplicate.findbycomm takes.
const MaxDuplicateValues = 20

// Contact is a CRM contact with the parts Switchboard reads.
type Contact struct {
	ID         string
	Name       string
	LastName   string
	AssignedBy string
	// Phones are the PHONE multi-field's values as the portal stores them
	// (any notation); normalize before comparing.
	Phones []string
}

// FullName is "Name LastName".
func (c Contact) FullName() string { return strings.TrimSpace(c.Name + " " + c.LastName) }

// multiField is one value of a multi-field (PHONE, EMAIL, IM):
// {ID, VALUE_TYPE, VALUE, TYPE_ID} on read.
type multiField struct {
	Value     crmhttp.String `json:"VALUE"`
	ValueType string         `json:"VALUE_TYPE"`
}

type contactJSON struct {
	ID         crmhttp.String `json:"ID"`
	Name       string         `json:"NAME"`
	LastName   string         `json:"LAST_NAME"`
	AssignedBy crmhttp.String `json:"ASSIGNED_BY_ID"`
	Phone      []multiField   `json:"PHONE"`
}

func (j contactJSON) contact() Contact {
	c := Contact{ID: string(j.ID), Name: j.Name, LastName: j.LastName, AssignedBy: string(j.AssignedBy)}
	for _, p := range j.Phone {
		if p.Value != "" {
			c.Phones = append(c.Phones, string(p.Value))
		}
	}
	return c
}

// FindContactIDsByPhone returns the ids of the contacts with one of the
// phone numbers in values (at most MaxDuplicateValues), ascending:
// crm.duplicate.findbycomm {entity_type: "CONTACT", type: "PHONE",
// values}, which answers {"CONTACT": [ids]}, or an empty array when
// nothing matches. The portal compares numbers as it normalized them,
// ignoring extensions; it gives nothing for a type once 20 or more match.
// Source: apidocs.bitrix24.com
// api-reference/crm/duplicates/crm-duplicate-find-by-comm.html.
func (c *Client) FindContactIDsByPhone(ctx context.Context, values []string) ([]string, error) {
	const method = "crm.duplicate.findbycomm"
	if len(values) == 0 || len(values) > MaxDuplicateValues {
		return nil, &Error{Method: method, Err: fmt.Errorf("%d values; 1 to %d per call", len(values), MaxDuplicateValues), local: true}
	}
	a, err := c.Call(ctx, method, map[string]any{"entity_type": "CONTACT", "type": "PHONE", "values": values})
	if err != nil {
		return nil, err
	}
	m, err := decodeMap[[]crmhttp.Int](a.Result)
	if err != nil {
		return nil, &Error{Method: method, Status: http.StatusOK, Err: err}
	}
	ids := m["CONTACT"]
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		if i > 0 && ids[i-1] == id {
			continue
		}
		out = append(out, strconv.FormatInt(int64(id), 10))
	}
	return out, nil
}

// GetContact returns one contact (crm.contact.get {id}). A missing
// contact is an error matching ErrNotFound. Source: apidocs.bitrix24.com
// api-reference/crm/contacts/crm-contact-get.html.
func (c *Client) GetContact(ctx context.Context, id string) (Contact, error) {
	a, err := c.Call(ctx, "crm.contact.get", map[string]any{"id": id})
	if err != nil {
		return Contact{}, err
	}
	var j contactJSON
	if err := json.Unmarshal(a.Result, &j); err != nil {
		return Contact{}, &Error{Method: "crm.contact.get", Status: http.StatusOK, Err: fmt.Errorf("decode result: %w", err)}
	}
	return j.contact(), nil
}

// GetContacts returns the contacts with ids, in the ids' order, reading up
// to MaxBatch with one batch of crm.contact.get (one plain call for a
// single id). Missing contacts are left out.
func (c *Client) GetContacts(ctx context.Context, ids []string) ([]Contact, error) {
	var out []Contact
	if len(ids) == 1 {
		ct, err := c.GetContact(ctx, ids[0])
		if IsNotFoundErr(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []Contact{ct}, nil
	}
	for from := 0; from < len(ids); from += MaxBatch {
		part := ids[from:min(from+MaxBatch, len(ids))]
		cmds := make([]Command, len(part))
		for i, id := range part {
			cmds[i] = Command{Key: fmt.Sprintf("c%d", i), Method: "crm.contact.get", Params: map[string]any{"id": id}}
		}
		b, err := c.Batch(ctx, false, cmds)
		if err != nil {
			return nil, err
		}
		for _, cmd := range cmds {
			if e := b.Errors[cmd.Key]; e != nil {
				if e.notFound() {
					continue
				}
				return nil, e
			}
			raw, ok := b.Results[cmd.Key]
			if !ok {
				continue
			}
			var j contactJSON
			if err := json.Unmarshal(raw, &j); err != nil {
				return nil, &Error{Method: "crm.contact.get", Command: cmd.Key, Err: fmt.Errorf("decode result: %w", err)}
			}
			out = append(out, j.contact())
		}
	}
	return out, nil
}

// IsNotFoundErr reports whether err says a record does not exist.
func IsNotFoundErr(err error) bool {
	e, ok := asError(err)
	return ok && e.notFound()
}

// NewContact is a contact to create.
type NewContact struct {
	Name, LastName string
	// Phone (E.164 preferred) is stored as the PHONE multi-field's one
	// value, of VALUE_TYPE PhoneType ("WORK" when empty; also "MOBILE",
	// "HOME", …).
	Phone, PhoneType string
	AssignedBy       string
}

func (n NewContact) fields() map[string]any {
	f := map[string]any{}
	if n.Name != "" {
		f["NAME"] = n.Name
	}
	if n.LastName != "" {
		f["LAST_NAME"] = n.LastName
	}
	if n.AssignedBy != "" {
		f["ASSIGNED_BY_ID"] = n.AssignedBy
	}
	if n.Phone != "" {
		t := n.PhoneType
		if t == "" {
			t = "WORK"
		}
		f["PHONE"] = []any{map[string]any{"VALUE": n.Phone, "VALUE_TYPE": t}}
	}
	return f
}

// AddContact creates a contact (crm.contact.add {fields}) and returns its
// id. Source: apidocs.bitrix24.com
// api-reference/crm/contacts/crm-contact-add.html.
func (c *Client) AddContact(ctx context.Context, n NewContact) (string, error) {
	a, err := c.Call(ctx, "crm.contact.add", map[string]any{"fields": n.fields()})
	if err != nil {
		return "", err
	}
	return idResult("crm.contact.add", a.Result)
}

// idResult reads a created record's id, a number (or a string holding one).
func idResult(method string, raw json.RawMessage) (string, error) {
	var id crmhttp.Int
	_ = json.Unmarshal(raw, &id)
	if id <= 0 {
		return "", &Error{Method: method, Status: http.StatusOK, Err: fmt.Errorf("no id in the answer")}
	}
	return strconv.FormatInt(int64(id), 10), nil
}

// SetContactAssigned makes userID the contact's responsible
// (crm.contact.update {id, fields: {ASSIGNED_BY_ID}}).
func (c *Client) SetContactAssigned(ctx context.Context, contactID, userID string) error {
	_, err := c.Call(ctx, "crm.contact.update", updateAssigned(contactID, userID))
	return err
}

func updateAssigned(id, userID string) map[string]any {
	return map[string]any{"id": id, "fields": map[string]any{"ASSIGNED_BY_ID": userID}}
}
