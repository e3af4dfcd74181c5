// Package webhooks receives what external CRMs report back (SPEC §8a): a
// deal moved to a won or lost stage closes it here; a responsible changed
// there changes it here, with the pushes of a transfer. Each account's
// webhook URL carries an unguessable key (stored as a SHA-256 hash);
// anything else is answered 404 and changes nothing.
//
// A webhook only says that a deal changed: the deal's current state is
// read from the CRM and applied, one webhook per deal at a time (a lease on
// the deal). So webhooks replayed, out of order or at once change nothing
// twice and never bring back an older state, whatever their timestamps
// say: the last one applied reads the newest state.
package webhooks
