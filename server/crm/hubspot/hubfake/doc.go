// Package hubfake is an in-memory HubSpot account for tests and demos,
// written from the public CRM API v3 reference (developers.hubspot.com
// docs/api/crm/…): the endpoints Switchboard's connector calls with a
// private app token (GET /crm/v3/owners, GET /crm/v3/pipelines/deals,
// POST /crm/v3/objects/{type}/search, POST, GET and PATCH of
// /crm/v3/objects/{type}[/{id}], POST /crm/v3/objects/{type}/batch/read,
// GET /crm/v4/objects/{type}/{id}/associations/{toType}) and outgoing
// webhooks (a JSON array of events signed with X-HubSpot-Signature-v3).
//
// It keeps the API's shapes: string ids, "properties" maps of strings,
// {"results", "paging":{"next":{"after"}}} lists, owners listed active or
// archived (archived=true), pipelines with stage metadata (isClosed,
// probability as strings), associations with HUBSPOT_DEFINED type ids,
// and {"status":"error","message","correlationId","category"} errors with
// HubSpot's statuses. A rolling 10-second window (100 requests by
// default) and a search limit (5 a second) answer 429 with the
// RATE_LIMITS body and its policyName; an optional daily limit answers
// DAILY. The search index can lag writes (WithSearchLag).
//
// For tests it adds programmable faults (an error status for the next
// requests, a slow answer, a dropped connection, a write kept while its
// answer is lost), a revocable token and missing scopes, and inspection
// of its state. State is in memory and safe for concurrent use. Where the
// reference is silent the fake picks one behaviour and says so.
package hubfake
