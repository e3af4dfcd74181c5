// Package routing owns SPEC §3–§5 at work: routing a client's message
// (RouteIncomingMessage), authorizing and claiming with an employee's
// message (RouteOutgoingMessage), access checks and the visible chat list,
// transfers and closing deals. It serves RoutingService. The rules
// themselves are pure functions in packages access, distribution and push;
// this package loads their inputs and stores their results in one
// transaction per request.
package routing
