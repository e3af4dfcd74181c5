// Package supervise owns what a supervisor sees (SPEC §12): the unanswered
// counters, read from the chats' unanswered_since that routing sets and
// clears in each message's own transaction, and pushed to the employees'
// streams when they change; and the assignment history, written by routing
// and settings in the transaction of each change.
package supervise
