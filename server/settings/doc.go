// Package settings owns an account's integration settings (SPEC §2): reading
// and saving them as a whole under one revision, the member lists and the
// revision that directory's access grid and default outgoing channels
// change too, deleting the integration, connecting an external CRM and
// refreshing from the account's CRM. It serves IntegrationService: the
// handlers convert, the package's functions (Get, Save, Delete, Refresh,
// Connect, …) do the work.
package settings
