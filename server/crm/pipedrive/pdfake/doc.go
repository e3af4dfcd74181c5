// Package pdfake is an in-memory Pipedrive company account for tests and
// demos, written from the public API reference (developers.pipedrive.com
// docs/api/v1 and docs/api/v2, pipedrive.readme.io): the endpoints
// Switchboard's connector calls — GET /v1/users, GET /api/v2/pipelines,
// GET /api/v2/stages, /api/v2/persons (add, get, update, search),
// /api/v2/deals (add, get, list, update, search), /v1/notes (add, list) — and
// the v2 webhooks the account POSTs with HTTP Basic credentials.
//
// It keeps the API's shapes: {"success", "data", "additional_data"}
// answers, numeric ids, phones as [{value, primary, label}] on persons
// and as plain strings in search results, v2 cursor paging
// (additional_data.next_cursor, limit at most 500), v1 start/limit paging
// (additional_data.pagination), and errors as {"success": false, "error",
// "error_info", "errorCode"}. The token goes in the x-api-token header
// (or the api_token query parameter).
//
// Its limits answer 429 as Pipedrive does: a fixed 2-second window per
// token (DefaultWindowLimit requests, DefaultSearchLimit searches), every
// answer carrying x-ratelimit-limit, x-ratelimit-remaining and
// x-ratelimit-reset; and a daily budget of writes (DefaultDailyBudget
// POST, PUT and PATCH requests, reset at midnight UTC) shown in
// x-daily-requests-left.
//
// For tests it adds programmable faults (a status for the next requests
// of a route, a slow answer, a dropped connection, a write kept while its
// answer is lost), a revocable token, user actions that send webhooks
// (CloseDeal, ChangeDealOwner), and inspection of its state. State is in
// memory and safe for concurrent use. Where the reference is silent (how
// phone spellings match a search term, which limit is checked first) the
// fake picks one behaviour and says so.
package pdfake
