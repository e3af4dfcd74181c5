-- +goose Up
-- add column "streams_closed_at" to table: "employees"
ALTER TABLE `employees` ADD COLUMN `streams_closed_at` datetime NULL;
-- create "notification_streams" table
CREATE TABLE `notification_streams` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `employee_id` integer NOT NULL, `renewed_at` datetime NOT NULL, `expires_at` datetime NOT NULL);
-- create index "notificationstream_account_id_employee_id" to table: "notification_streams"
CREATE INDEX `notificationstream_account_id_employee_id` ON `notification_streams` (`account_id`, `employee_id`);
-- create index "notificationstream_expires_at" to table: "notification_streams"
CREATE INDEX `notificationstream_expires_at` ON `notification_streams` (`expires_at`);
