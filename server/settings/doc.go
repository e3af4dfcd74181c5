// Package settings owns an account's integration settings (SPEC §2): reading
// and saving them as a whole under one revision, the bulk access grid and
// default outgoing channels, deleting the integration and checking it
// against the CRM. It serves IntegrationService.
package settings
