package pipedrive

import (
	"context"
	"encoding/json"
	"net/http"
)

// User is a Pipedrive user.
type User struct {
	ID, Name, Email string
	// Active is active_flag: false for a deactivated user.
	Active bool
	Admin  bool
}

type userJSON struct {
	ID         ID     `json:"id"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	ActiveFlag *bool  `json:"active_flag"`
	IsAdmin    any    `json:"is_admin"`
}

// ListUsers returns every user of the company (GET /v1/users, one answer
// without paging), deactivated ones included with Active false. Source:
// developers.pipedrive.com docs/api/v1/Users#getUsers.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	r := request{method: http.MethodGet, path: "/v1/users"}
	a, err := c.call(ctx, r)
	if err != nil {
		return nil, err
	}
	var js []userJSON
	if err := decode(r.op(), a.Data, &js); err != nil {
		return nil, err
	}
	out := make([]User, 0, len(js))
	for _, j := range js {
		if j.ID == "" {
			continue
		}
		out = append(out, User{ID: string(j.ID), Name: j.Name, Email: j.Email,
			Active: j.ActiveFlag == nil || *j.ActiveFlag, Admin: truthy(j.IsAdmin)})
	}
	return out, nil
}

// truthy reads true, 1 or "1".
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x == "1" || x == "true"
	case json.Number:
		return x.String() != "0"
	}
	return false
}
