// Package bus tells the other server replicas what changed, through the
// store's notifier (store.Notifier: PostgreSQL LISTEN/NOTIFY). It is a
// doorbell, never the truth: every message only makes a replica look at the
// database again (new push decisions, a changed directory, a client's new
// responsible, a revoked credential), and after a lost connection every
// handler is told to assume it missed something. On SQLite there is one
// process and no bus.
package bus
