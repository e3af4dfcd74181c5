// Package directory serves DirectoryService: the channels, employees,
// pipelines, stages and lead statuses that settings refer to, and the two
// settings edits made from the directory (the access grid and default
// outgoing channels), which move the settings revision through package
// settings. Handlers convert; the functions beside them do the work.
package directory
