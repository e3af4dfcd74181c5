// Package web holds the built settings page (clients/web/dist), embedded
// into the server binary and served at "/".
package web

import "embed"

// Dist is the built page; index.html is its entry point.
//
//go:embed all:dist
var Dist embed.FS
