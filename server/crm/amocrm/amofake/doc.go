// Package amofake is an in-memory amoCRM / Kommo API v4 server for tests
// and demos, written from the public API reference: users, pipelines,
// contacts (with the full-text query and its 204 on no match), complex
// lead creation, responsible changes, notes, webhook registration and
// outgoing form-encoded webhooks.
//
// Beside the documented behaviour it has what a connector's tests need:
// the account's real rate limit (429 when exceeded, with a non-JSON body
// by default), token expiry, and programmable faults (5xx and 429 bursts,
// slow answers, a write committed before the connection drops, validation
// errors). State is in memory and safe for concurrent use.
//
// Where the reference is silent the fake picks one behaviour and says so
// in a comment.
package amofake
