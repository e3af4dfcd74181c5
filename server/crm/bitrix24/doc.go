// Package bitrix24 is a thin client for the Bitrix24 REST API reached
// through an incoming webhook (https://{portal}/rest/{user}/{secret}/
// {method}.json): the few methods Switchboard's CRM connector needs
// (user.get, crm.category.list, crm.status.list, crm.duplicate.findbycomm,
// crm.contact.*, crm.deal.*, crm.timeline.comment.*, batch) and the parser
// for the form-encoded events (ONCRMDEALUPDATE, …) the portal sends back.
//
// The webhook's path segment "{user}/{secret}" is the credential: it is
// sent only in the request path and never appears in an error or a log
// line. Every request waits on the portal's leaky bucket (2 requests per
// second, 50 in a burst by default; see WithPortalLimit) and, when given,
// on a shared Limiter. The client makes one HTTP request per call (list
// calls one per page of 50; a batch of up to 50 commands is one request)
// and never retries: retries and their backoff belong to the outbox that
// calls it. Every error it returns is an *Error that says whether a retry
// can help (IsRetryable, IsPermanent, IsUnauthorized, IsAmbiguous,
// RetryAfter).
//
// Reference: https://apidocs.bitrix24.com/ (REST API), the source of the
// method pages named in the docstrings here.
package bitrix24
