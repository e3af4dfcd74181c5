// Package zoho is a thin client for the Zoho CRM REST API v7: the few
// calls Switchboard's CRM connector needs (users, Deals layouts and
// pipelines, contacts by phone, contacts and deals created, owners
// changed, notes) and the parser for the JSON notifications the CRM
// POSTs to a channel opened with /crm/v7/actions/watch.
//
// An org lives in one data centre, whose domain ("com", "eu", "in",
// "com.au", "jp", "ca", "com.cn", "sa", …) gives both the API host
// https://www.zohoapis.{dc} and the accounts server
// https://accounts.zoho.{dc} that issues access tokens. The stored
// credential is a self-client's (or connected app's) client id, client
// secret and refresh token (see Credential); one-hour access tokens are
// got with the refresh-token grant, shared by every call and every client
// of the same org in the process, and refreshed before they expire. No
// token or secret ever appears in an error or a log line.
//
// Zoho meters calls in API credits per rolling 24 hours per org (by
// edition). The client counts what it spends (see Budget; with a
// crm.Meter, WithMeter, for every server replica together), stops short
// of the limit by a reserve, and reports the wait until credits come back.
// It makes one HTTP request per call (list calls one per page), besides a
// token refresh and the one retry after a 401 INVALID_TOKEN, and never
// retries otherwise: retries belong to the outbox. Every error it returns
// is an *Error that says whether a retry can help.
//
// Reference: https://www.zoho.com/crm/developer/docs/api/v7/ (the pages
// named in the docstrings here) and the OAuth pages of Zoho Accounts.
package zoho
