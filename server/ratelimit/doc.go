// Package ratelimit limits how many requests each credential (an account
// API key or an employee token) makes: by default 500 per 5 s, a key's own
// limit when it has one, on every replica together. The budgets live in the
// store (store.Limits): a row per credential on PostgreSQL, memory on
// SQLite. A call over the limit fails with RESOURCE_EXHAUSTED and a
// google.rpc.RetryInfo detail; a stream counts once, when it opens.
package ratelimit
