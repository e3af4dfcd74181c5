// Package crmsync does the CRM's side of Switchboard's decisions (SPEC
// §8a): a new client's contact and deal, a responsible changed here, a chat
// log entry. Each is one idempotent step that the outbox runs (and runs
// again after a failure) after the decision committed: a step that finds
// its work done does nothing, and a step whose previous run's outcome is
// unknown looks for what that run made before making it again.
package crmsync
