-- +goose Up
-- +goose NO TRANSACTION
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
BEGIN;
-- create "new_distribution_cursors" table
CREATE TABLE `new_distribution_cursors` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `channel_id` integer NOT NULL, `last_employee_id` integer NULL, `streak` integer NOT NULL DEFAULT (0), `assigned` integer NOT NULL DEFAULT (0), `edits` integer NOT NULL DEFAULT (0));
-- copy rows from old table "distribution_cursors" to new temporary table "new_distribution_cursors"
INSERT INTO `new_distribution_cursors` (`id`, `account_id`, `channel_id`, `last_employee_id`, `streak`, `assigned`) SELECT `id`, `account_id`, `channel_id`, `last_employee_id`, `streak`, `assigned` FROM `distribution_cursors`;
-- drop "distribution_cursors" table after copying rows
DROP TABLE `distribution_cursors`;
-- rename temporary table "new_distribution_cursors" to "distribution_cursors"
ALTER TABLE `new_distribution_cursors` RENAME TO `distribution_cursors`;
-- create index "distributioncursor_account_id" to table: "distribution_cursors"
CREATE INDEX `distributioncursor_account_id` ON `distribution_cursors` (`account_id`);
-- create index "distributioncursor_channel_id" to table: "distribution_cursors"
CREATE UNIQUE INDEX `distributioncursor_channel_id` ON `distribution_cursors` (`channel_id`);
-- enable back the enforcement of foreign-keys constraints
COMMIT;
PRAGMA foreign_keys = on;
