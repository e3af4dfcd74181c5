// Package native is the built-in CRM (NATIVE): Switchboard's own store is
// the CRM. Its users are the account's employees, its pipelines and stages
// the account's own, and so are its lead statuses, all edited through
// DirectoryService; a refresh has nothing to read and reports what the
// store holds. Nothing goes to or comes from elsewhere: it has no
// connector to open, no webhooks and no outbox queue, and the chat log of
// SPEC §7 is the store's own feed (ListClientFeed).
package native
