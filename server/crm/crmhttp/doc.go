// Package crmhttp holds what the CRM connectors (crm/amocrm, crm/bitrix24,
// crm/hubspot, crm/pipedrive, crm/zoho) do alike:
//
//   - over HTTP: reading Retry-After, clipping a body for an error message,
//     decoding numbers and strings sent in either form, building a JSON
//     request and reading its answer with a size cap;
//   - in judging a failed call, the part no vendor changes: 408, 429 and
//     5xx are retryable, timeouts and dropped connections are ambiguous, a
//     cancelled context is not retryable, a *url.Error loses its URL, and
//     the IsRetryable-style predicates over a connector's *Error;
//   - at the crm seam: the client options a crm.Config asks for, and
//     wrapping an error with crm.ErrUnauthorized or crm.ErrUnreachable.
//
// What a vendor's codes and statuses mean stays in its connector.
package crmhttp
