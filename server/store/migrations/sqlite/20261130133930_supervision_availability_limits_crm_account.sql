-- +goose Up
-- +goose NO TRANSACTION
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
BEGIN;
-- create "new_channels" table
CREATE TABLE `new_channels` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `kind` text NOT NULL, `name` text NOT NULL, `external_id` text NOT NULL DEFAULT (''), `in_integration` bool NOT NULL DEFAULT (true), `open_channels` bool NOT NULL DEFAULT (false), `distribution` text NOT NULL DEFAULT ('ROUND_ROBIN'), `repeat_client_policy` text NOT NULL DEFAULT ('CREATE_NEW_DEAL'), `entity_kind` text NOT NULL DEFAULT ('DEFAULT'), `absent_keep_turn` bool NOT NULL DEFAULT (false), `reply_deadline_minutes` integer NOT NULL DEFAULT (0), `max_passes` integer NOT NULL DEFAULT (0), `stream_grace_minutes` integer NOT NULL DEFAULT (0), `pipeline_id` integer NULL, `stage_id` integer NULL, `lead_status_id` integer NULL, CONSTRAINT `channels_pipelines_pipeline` FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines` (`id`) ON DELETE SET NULL, CONSTRAINT `channels_stages_stage` FOREIGN KEY (`stage_id`) REFERENCES `stages` (`id`) ON DELETE SET NULL, CONSTRAINT `channels_lead_status_lead_status` FOREIGN KEY (`lead_status_id`) REFERENCES `lead_status` (`id`) ON DELETE SET NULL);
-- copy rows from old table "channels" to new temporary table "new_channels"
INSERT INTO `new_channels` (`id`, `account_id`, `created_at`, `kind`, `name`, `external_id`, `in_integration`, `open_channels`, `distribution`, `repeat_client_policy`, `entity_kind`, `pipeline_id`, `stage_id`, `lead_status_id`) SELECT `id`, `account_id`, `created_at`, `kind`, `name`, `external_id`, `in_integration`, `open_channels`, `distribution`, `repeat_client_policy`, `entity_kind`, `pipeline_id`, `stage_id`, `lead_status_id` FROM `channels`;
-- drop "channels" table after copying rows
DROP TABLE `channels`;
-- rename temporary table "new_channels" to "channels"
ALTER TABLE `new_channels` RENAME TO `channels`;
-- create index "channel_account_id" to table: "channels"
CREATE INDEX `channel_account_id` ON `channels` (`account_id`);
-- create "new_channel_members" table
CREATE TABLE `new_channel_members` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `role` text NOT NULL DEFAULT ('SALES_REP'), `access` text NOT NULL DEFAULT ('READ_ONLY'), `receives_new_clients` bool NOT NULL DEFAULT (false), `weight` integer NOT NULL DEFAULT (1), `position` integer NOT NULL DEFAULT (0), `capacity` integer NOT NULL DEFAULT (0), `channel_id` integer NOT NULL, `employee_id` integer NOT NULL, CONSTRAINT `channel_members_channels_members` FOREIGN KEY (`channel_id`) REFERENCES `channels` (`id`) ON DELETE NO ACTION, CONSTRAINT `channel_members_employees_memberships` FOREIGN KEY (`employee_id`) REFERENCES `employees` (`id`) ON DELETE NO ACTION);
-- copy rows from old table "channel_members" to new temporary table "new_channel_members"
INSERT INTO `new_channel_members` (`id`, `account_id`, `role`, `access`, `receives_new_clients`, `weight`, `position`, `channel_id`, `employee_id`) SELECT `id`, `account_id`, `role`, `access`, `receives_new_clients`, `weight`, `position`, `channel_id`, `employee_id` FROM `channel_members`;
-- drop "channel_members" table after copying rows
DROP TABLE `channel_members`;
-- rename temporary table "new_channel_members" to "channel_members"
ALTER TABLE `new_channel_members` RENAME TO `channel_members`;
-- create index "channelmember_account_id" to table: "channel_members"
CREATE INDEX `channelmember_account_id` ON `channel_members` (`account_id`);
-- create index "channelmember_channel_id_employee_id" to table: "channel_members"
CREATE UNIQUE INDEX `channelmember_channel_id_employee_id` ON `channel_members` (`channel_id`, `employee_id`);
-- create index "channelmember_employee_id" to table: "channel_members"
CREATE INDEX `channelmember_employee_id` ON `channel_members` (`employee_id`);
-- create "new_chats" table
CREATE TABLE `new_chats` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `channel_id` integer NOT NULL, `deal_id` integer NULL, `last_message_at` datetime NOT NULL, `crm_logged_message_id` integer NOT NULL DEFAULT (0), `crm_flush_until` datetime NULL, `unanswered_since` datetime NULL, `waiting_since` datetime NULL, `contact_id` integer NOT NULL, CONSTRAINT `chats_contacts_chats` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE);
-- copy rows from old table "chats" to new temporary table "new_chats"
INSERT INTO `new_chats` (`id`, `account_id`, `created_at`, `channel_id`, `deal_id`, `last_message_at`, `crm_logged_message_id`, `crm_flush_until`, `contact_id`) SELECT `id`, `account_id`, `created_at`, `channel_id`, `deal_id`, `last_message_at`, `crm_logged_message_id`, `crm_flush_until`, `contact_id` FROM `chats`;
-- drop "chats" table after copying rows
DROP TABLE `chats`;
-- rename temporary table "new_chats" to "chats"
ALTER TABLE `new_chats` RENAME TO `chats`;
-- create index "chat_channel_id_contact_id" to table: "chats"
CREATE UNIQUE INDEX `chat_channel_id_contact_id` ON `chats` (`channel_id`, `contact_id`);
-- create index "chat_account_id_last_message_at_id" to table: "chats"
CREATE INDEX `chat_account_id_last_message_at_id` ON `chats` (`account_id`, `last_message_at`, `id`);
-- create index "chat_channel_id_last_message_at_id" to table: "chats"
CREATE INDEX `chat_channel_id_last_message_at_id` ON `chats` (`channel_id`, `last_message_at`, `id`);
-- create index "chat_account_id_unanswered_since" to table: "chats"
CREATE INDEX `chat_account_id_unanswered_since` ON `chats` (`account_id`, `unanswered_since`) WHERE unanswered_since IS NOT NULL;
-- create index "chat_channel_id_waiting_since_id" to table: "chats"
CREATE INDEX `chat_channel_id_waiting_since_id` ON `chats` (`channel_id`, `waiting_since`, `id`);
-- create "new_credentials" table
CREATE TABLE `new_credentials` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `kind` text NOT NULL, `employee_id` integer NULL, `name` text NOT NULL, `prefix` text NOT NULL, `secret_hash` blob NOT NULL, `revoked_at` datetime NULL, `rate_limit` integer NOT NULL DEFAULT (0));
-- copy rows from old table "credentials" to new temporary table "new_credentials"
INSERT INTO `new_credentials` (`id`, `account_id`, `created_at`, `kind`, `employee_id`, `name`, `prefix`, `secret_hash`, `revoked_at`) SELECT `id`, `account_id`, `created_at`, `kind`, `employee_id`, `name`, `prefix`, `secret_hash`, `revoked_at` FROM `credentials`;
-- drop "credentials" table after copying rows
DROP TABLE `credentials`;
-- rename temporary table "new_credentials" to "credentials"
ALTER TABLE `new_credentials` RENAME TO `credentials`;
-- create index "credentials_secret_hash_key" to table: "credentials"
CREATE UNIQUE INDEX `credentials_secret_hash_key` ON `credentials` (`secret_hash`);
-- create index "credential_account_id" to table: "credentials"
CREATE INDEX `credential_account_id` ON `credentials` (`account_id`);
-- add column "crm_account" to table: "crm_connections"
ALTER TABLE `crm_connections` ADD COLUMN `crm_account` text NULL;
-- create index "deal_channel_id_state" to table: "deals"
CREATE INDEX `deal_channel_id_state` ON `deals` (`channel_id`, `state`);
-- create "new_employees" table
CREATE TABLE `new_employees` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL, `crm_user_id` text NULL, `email` text NOT NULL DEFAULT (''), `active` bool NOT NULL DEFAULT (true), `chat_admin` bool NOT NULL DEFAULT (false), `presence` text NOT NULL DEFAULT ('ONLINE'), `working_hours` json NULL, `default_outgoing_channel_id` integer NULL, CONSTRAINT `employees_channels_default_outgoing_channel` FOREIGN KEY (`default_outgoing_channel_id`) REFERENCES `channels` (`id`) ON DELETE SET NULL);
-- copy rows from old table "employees" to new temporary table "new_employees"
INSERT INTO `new_employees` (`id`, `account_id`, `created_at`, `name`, `crm_user_id`, `email`, `active`, `chat_admin`, `default_outgoing_channel_id`) SELECT `id`, `account_id`, `created_at`, `name`, `crm_user_id`, `email`, `active`, `chat_admin`, `default_outgoing_channel_id` FROM `employees`;
-- drop "employees" table after copying rows
DROP TABLE `employees`;
-- rename temporary table "new_employees" to "employees"
ALTER TABLE `new_employees` RENAME TO `employees`;
-- create index "employee_account_id" to table: "employees"
CREATE INDEX `employee_account_id` ON `employees` (`account_id`);
-- create index "employee_account_id_crm_user_id" to table: "employees"
CREATE UNIQUE INDEX `employee_account_id_crm_user_id` ON `employees` (`account_id`, `crm_user_id`);
-- create "assignment_events" table
CREATE TABLE `assignment_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `cause` text NOT NULL, `contact_id` integer NULL, `channel_id` integer NULL, `from_employee_id` integer NULL, `to_employee_id` integer NULL, `distribution_mode` text NOT NULL DEFAULT (''), `position` integer NOT NULL DEFAULT (0), `actor_kind` text NOT NULL DEFAULT ('SYSTEM'), `actor_id` text NOT NULL DEFAULT (''), `actor_name` text NOT NULL DEFAULT (''), `explanation` text NOT NULL DEFAULT (''), `changes` text NOT NULL DEFAULT (''));
-- create index "assignmentevent_account_id_id" to table: "assignment_events"
CREATE INDEX `assignmentevent_account_id_id` ON `assignment_events` (`account_id`, `id`);
-- create index "assignmentevent_account_id_contact_id_id" to table: "assignment_events"
CREATE INDEX `assignmentevent_account_id_contact_id_id` ON `assignment_events` (`account_id`, `contact_id`, `id`);
-- create index "assignmentevent_account_id_from_employee_id_id" to table: "assignment_events"
CREATE INDEX `assignmentevent_account_id_from_employee_id_id` ON `assignment_events` (`account_id`, `from_employee_id`, `id`) WHERE from_employee_id IS NOT NULL;
-- create index "assignmentevent_account_id_to_employee_id_id" to table: "assignment_events"
CREATE INDEX `assignmentevent_account_id_to_employee_id_id` ON `assignment_events` (`account_id`, `to_employee_id`, `id`) WHERE to_employee_id IS NOT NULL;
-- create index "assignmentevent_created_at" to table: "assignment_events"
CREATE INDEX `assignmentevent_created_at` ON `assignment_events` (`created_at`);
-- chats waiting for an answer before counters existed: since the client's
-- first message after the last reply
UPDATE `chats` SET `unanswered_since` = (
  SELECT min(m.`created_at`) FROM `messages` m
  WHERE m.`chat_id` = `chats`.`id` AND m.`direction` = 'IN' AND m.`created_at` > COALESCE(
    (SELECT max(o.`created_at`) FROM `messages` o WHERE o.`chat_id` = `chats`.`id` AND o.`direction` = 'OUT'), ''))
WHERE `unanswered_since` IS NULL;
-- enable back the enforcement of foreign-keys constraints
COMMIT;
PRAGMA foreign_keys = on;
