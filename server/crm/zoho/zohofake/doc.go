// Package zohofake is an in-memory Zoho CRM REST API v7 org for tests and
// demos, written from the public API reference: the accounts server's
// refresh-token grant with access tokens that expire, users, Deals
// layouts and pipelines, contacts searched by phone (204 when nothing
// matches), deals searched by name, inserts and updates answered with one
// status per record, owners as {id,name,email} objects, string ids, and
// notes.
//
// Beside the documented behaviour it has what a connector's tests need: a
// daily credit counter that answers LIMIT_REACHED once spent, a request
// rate that answers 429 TOO_MANY_REQUESTS when exceeded, and
// programmable faults (a status for the next calls, a record refused
// inside a 2xx answer, a slow answer, a connection dropped before or
// after the write is kept), revoked credentials and access tokens expired
// on demand. State is in memory and safe for concurrent use.
//
// Where the reference is silent the fake picks one behaviour and says so
// in a comment: the phone search's matching, the HTTP status of
// LIMIT_REACHED, and a read by a missing id.
package zohofake
