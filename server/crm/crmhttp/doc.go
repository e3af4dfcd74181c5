// Package crmhttp holds what every CRM connector (crm/amocrm, crm/bitrix24,
// crm/hubspot, crm/pipedrive, crm/zoho) does the same way over HTTP:
// reading Retry-After, clipping a body for an error message, decoding
// numbers and strings the CRMs send in either form, sending one request
// and reading its answer with a size cap, and the part of classifying a
// failed call that does not depend on the vendor (timeouts and dropped
// connections are ambiguous, a cancelled context is not retryable, a
// *url.Error loses its URL), and the two ends of the crm seam every
// connector has: the client options a crm.Config asks for, and wrapping an
// error with crm.ErrUnauthorized or crm.ErrUnreachable. What a vendor's
// codes and statuses mean stays in its connector.
package crmhttp
