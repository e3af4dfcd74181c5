package amocrm

import (
	"context"
	"net/url"
)

// User is an account user (an employee on Switchboard's side).
type User struct {
	ID    int64
	Name  string
	Email string
	// Active is rights.is_active; an inactive user is a deactivated
	// employee, never a deleted one.
	Active bool
	Admin  bool
	// GroupID is rights.group_id, 0 for the main group.
	GroupID int64
}

type userJSON struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Rights struct {
		IsActive bool  `json:"is_active"`
		IsAdmin  bool  `json:"is_admin"`
		GroupID  int64 `json:"group_id"`
	} `json:"rights"`
}

// ListUsers returns every user of the account, reading GET /api/v4/users
// page by page (250 a page). Only an admin's token may list users: others
// get a 403 (IsUnauthorized).
// Source: https://www.amocrm.ru/developers/content/crm_platform/users-api
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	raw, err := collect[userJSON](ctx, c, "/api/v4/users", url.Values{}, "users")
	if err != nil {
		return nil, err
	}
	users := make([]User, 0, len(raw))
	for _, u := range raw {
		users = append(users, User{
			ID: u.ID, Name: u.Name, Email: u.Email,
			Active: u.Rights.IsActive, Admin: u.Rights.IsAdmin, GroupID: u.Rights.GroupID,
		})
	}
	return users, nil
}
