// Package distribution owns SPEC §5, choosing the responsible for a new
// client, as pure functions over a channel's member list and its cursor. The
// caller (package routing) loads both under the channel's cursor lock and
// stores the new cursor in the same transaction, which makes the sequences
// exact under concurrency.
package distribution
