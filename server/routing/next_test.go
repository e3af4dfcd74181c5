package routing_test

import "sync/atomic"

// next0 keeps phone numbers of successive helpers distinct.
var next0 atomic.Int64
