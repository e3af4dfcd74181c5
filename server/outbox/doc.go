// Package outbox owns the durable outbox through which every write to an
// external CRM leaves Switchboard: a job inserted in the same transaction
// as the decision that calls for it (it exists if and only if that
// transaction commits), worked at least once by the replicas' workers,
// retried with backoff while the CRM fails, paced within the CRM's rate
// limit for all replicas together, and made effective exactly once by
// handlers that deduplicate (see docs/ARCHITECTURE.md, "The outbox").
//
// The queue is River (github.com/riverqueue/river) on both stores, with
// its tables in the store's schema (store.River, store.SQLTx).
package outbox
