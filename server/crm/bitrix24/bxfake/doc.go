// Package bxfake is an in-memory Bitrix24 portal for tests and demos,
// written from the public REST reference (apidocs.bitrix24.com): the REST
// methods Switchboard calls through an incoming webhook (user.get,
// crm.category.list, crm.status.list, crm.duplicate.findbycomm,
// crm.contact.*, crm.deal.*, crm.timeline.comment.*, batch) and outgoing
// events (ONCRMDEALUPDATE, …) POSTed form-encoded with the application
// token.
//
// It keeps the portal's shapes and quirks: {"result", "next", "total",
// "time"} answers, string ids in records and numbers from *.add, PHP's
// empty array ([]) for an empty object, PHONE as a multi-field array,
// the default pipeline 0 with its unprefixed stages ("NEW") beside
// "C{n}:"-prefixed ones, pages of 50, and {"error", "error_description"}
// with the portal's status codes. Its leaky bucket (2 requests a second
// drained, 50 held) answers 503 QUERY_LIMIT_EXCEEDED when full, a batch
// counting as one request.
//
// For tests it adds programmable faults (an error status for the next
// calls of a method, a slow answer, a dropped connection, a write kept
// while its answer is lost), a revocable webhook, and inspection of its
// state. State is in memory and safe for concurrent use. Where the
// reference is silent the fake picks one behaviour and says so.
package bxfake
