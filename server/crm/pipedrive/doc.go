// Package pipedrive is a thin client for the Pipedrive REST API and
// Switchboard's CRM connector on top of it (crm.Kind "PIPEDRIVE"): users,
// pipelines and stages, persons by phone, deals with their person,
// owner changes, notes, and the parser for the JSON webhooks (v2) the
// account sends back.
//
// Every call goes to the company's own host, https://{company}.pipedrive.com,
// authenticated with the API token in the x-api-token header (never in
// the URL, so the token never appears in an error or a log line). The v2
// endpoints are used where they exist: /api/v2/pipelines, /api/v2/stages,
// /api/v2/persons (add, update, search) and /api/v2/deals (add, get,
// list, update, search). Users (/v1/users) and notes (/v1/notes) have no v2
// endpoint and stay on v1. Source: developers.pipedrive.com/docs/api/v1
// and /docs/api/v2 (the pages of each endpoint named in the docstrings).
//
// Pipedrive has no won or lost stages: a deal's status is "open", "won"
// or "lost", set apart from its stage. Directory therefore lists, after
// every pipeline's real stages, two status stages with the ids StageWon
// ("won") and StageLost ("lost") of kinds crm.Won and crm.Lost; a new
// client's deal placed in one of them is created in the pipeline with
// that status. Deal reads the status.
//
// The client makes one HTTP request per call (a list one per page) and
// never retries: retries and their backoff belong to the outbox that
// calls it. It paces itself per token (see WithWindowLimit, WithSearchLimit
// and DefaultWindowLimit), obeys the x-ratelimit-remaining and
// x-ratelimit-reset headers of every answer, and waits on a shared limiter
// when given one. Every error it returns is an *Error that says whether a
// retry can help (Retryable, Permanent, Unauthorized, Ambiguous,
// RetryAfter).
//
// Opened through crm.Open, a crm.Config with Kind crm.Pipedrive gives
// BaseURL (https://{company}.pipedrive.com; any host with AllowAnyHost),
// Token (the API token), HTTP (the client to send with) and Limiter (the
// account's share of the rate limit across replicas, waited on after the
// token's own pacing).
//
// Webhooks carry no signature: Pipedrive sends the HTTP Basic credentials
// chosen when the webhook was created (http_auth_user, http_auth_password;
// source: pipedrive.readme.io docs/guide-for-webhooks-v2). ParseWebhook
// returns the Basic password as crm.Event.Token, for the receiver to
// compare with the stored one (crm.TokenMatches).
package pipedrive
