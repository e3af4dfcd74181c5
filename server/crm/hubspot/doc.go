// Package hubspot is a thin client for HubSpot's CRM API v3 at
// https://api.hubapi.com, reached with a private app's access token
// (Authorization: Bearer …): the few calls Switchboard's CRM connector
// needs (owners, deal pipelines, contacts and deals searched, created and
// patched, notes with their associations) and the parser of the webhook
// events (deal.creation, deal.propertyChange, …) HubSpot POSTs back.
//
// The token is sent only in the Authorization header and never appears
// in an error or a log line. Every request waits on the account's burst
// limit (DefaultBurst requests per DefaultWindow, see WithBurstLimit),
// every search request also on the search limit (DefaultSearchPerSecond,
// see WithSearchLimit), and, when given, on a shared Limiter. The client
// makes one HTTP request per call (lists one per page) and never retries:
// retries and their backoff belong to the outbox that calls it. Every
// error it returns is an *Error that says whether a retry can help
// (Retryable, Permanent, Unauthorized, Ambiguous, RetryAfter).
//
// HubSpot's search index is eventually consistent: a record created or
// changed a moment ago may be missing from search results for a few
// seconds (developers.hubspot.com docs/api/crm/search). The connector
// copes in two ways: a retry after an ambiguous write looks for what it
// made only after the wait crm.Ambiguous asks for, and FindCreated also
// reads the deals associated with a known contact through the
// associations API, which is not searched and does not lag.
//
// Webhooks: HubSpot POSTs a JSON array of events and signs each request
// with an HMAC of its method, URI, body and timestamp (X-HubSpot-
// Signature-v3), keyed with the app's client secret. No token repeats
// from one request to the next, so the parsed crm.Events carry no Token;
// the receiver checks the signature with VerifyWebhook before acting.
//
// Reference: https://developers.hubspot.com/docs/api/ (CRM API v3), the
// source of the pages named in the docstrings here.
package hubspot
