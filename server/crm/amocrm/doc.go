// Package amocrm is a thin client for the amoCRM / Kommo REST API v4: the
// few calls Switchboard's CRM connector needs (users, pipelines, contacts
// by phone, leads with their contact, responsible changes, notes) and the
// parser for the form-encoded webhooks the CRM sends back.
//
// amoCRM (https://{sub}.amocrm.ru) and Kommo (https://{sub}.kommo.com) are
// one API on two hosts. The client makes exactly one HTTP request per call
// (list calls one per page) and never retries: retries, backoff and
// deduplication belong to the outbox that calls it. Every error it returns
// is an *Error that says whether a retry can help (see IsRetryable,
// IsPermanent, IsUnauthorized, IsAmbiguous and RetryAfter).
//
// Reference: https://www.amocrm.ru/developers/content/crm_platform/api-reference
// and https://developers.kommo.com/reference/.
package amocrm
