// Package directory serves DirectoryService: the channels, employees,
// pipelines, stages and lead statuses that settings refer to. The two RPCs
// that edit settings (the access grid and default outgoing channels) are
// delegated to package settings, which owns the settings revision.
package directory
