package bitrix24

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/switchboardhq/switchboard/server/crm/crmhttp"
)

// User is a portal user (an employee on Switchboard's side).
type User struct {
	ID       string
	Name     string
	LastName string
	Email    string
	// Active is false for a dismissed user: a deactivated employee.
	Active bool
}

// FullName is "Name LastName", or the email when both are empty.
func (u User) FullName() string {
	if n := strings.TrimSpace(u.Name + " " + u.LastName); n != "" {
		return n
	}
	return u.Email
}

type userJSON struct {
	ID       crmhttp.String `json:"ID"`
	Active   flexBool       `json:"ACTIVE"`
	Name     string         `json:"NAME"`
	LastName string         `json:"LAST_NAME"`
	Email    string         `json:"EMAIL"`
}

// ListUsers returns the portal's employees, dismissed ones included
// (ACTIVE false), reading user.get page by page (50 a page, "start" from
// the previous answer's "next"), sorted by ID. Bots, e-mail and Open
// Channels users are never returned; FILTER USER_TYPE "employee" leaves
// out extranet users too. Source: apidocs.bitrix24.com
// api-reference/user/user-get.html.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	var out []User
	params := map[string]any{"FILTER": map[string]any{"USER_TYPE": "employee"}, "SORT": "ID", "ORDER": "ASC"}
	err := c.list(ctx, "user.get", params, func(raw json.RawMessage) (int, error) {
		page, err := decodeList[userJSON](raw)
		for _, u := range page {
			out = append(out, User{ID: string(u.ID), Name: u.Name, LastName: u.LastName, Email: u.Email, Active: bool(u.Active)})
		}
		return len(page), err
	})
	return out, err
}
