// Package switchboard holds what the server embeds from the repository's
// generated files: the OpenAPI document of the REST mapping.
package switchboard

import _ "embed"

// OpenAPI is the OpenAPI 2.0 document of the switchboard.v1 REST mapping,
// generated from api/ (google.api.http) by make generate.
//
//go:embed gen/openapi/switchboard.swagger.json
var OpenAPI []byte
