-- +goose Up
-- create "accounts" table
CREATE TABLE `accounts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `name` text NOT NULL);
-- create "account_settings" table
CREATE TABLE `account_settings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `revision` integer NOT NULL DEFAULT (1), `directory_version` integer NOT NULL DEFAULT (1), `crm_kind` text NOT NULL DEFAULT ('NATIVE'), `saved_once` bool NOT NULL DEFAULT (false), `save_messages` text NOT NULL DEFAULT ('HOURLY'), `convert_8_to_plus7` bool NOT NULL DEFAULT (true), `notify_managers_all_messages` bool NOT NULL DEFAULT (false), `global_chat_visibility` text NOT NULL DEFAULT ('OWN'), `time_zone` text NOT NULL DEFAULT (''), `home_region` text NULL, `updated_at` datetime NOT NULL, `pruned_txid` integer NOT NULL DEFAULT (0), `pruned_id` integer NOT NULL DEFAULT (0));
-- create index "accountsettings_account_id" to table: "account_settings"
CREATE INDEX `accountsettings_account_id` ON `account_settings` (`account_id`);
-- create index "account_settings_one_per_account" to table: "account_settings"
CREATE UNIQUE INDEX `account_settings_one_per_account` ON `account_settings` (`account_id`);
-- create "channels" table
CREATE TABLE `channels` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `kind` text NOT NULL, `name` text NOT NULL, `external_id` text NOT NULL DEFAULT (''), `in_integration` bool NOT NULL DEFAULT (true), `open_channels` bool NOT NULL DEFAULT (false), `distribution` text NOT NULL DEFAULT ('ROUND_ROBIN'), `repeat_client_policy` text NOT NULL DEFAULT ('CREATE_NEW_DEAL'), `entity_kind` text NOT NULL DEFAULT ('DEFAULT'), `pipeline_id` integer NULL, `stage_id` integer NULL, `lead_status_id` integer NULL, CONSTRAINT `channels_pipelines_pipeline` FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines` (`id`) ON DELETE SET NULL, CONSTRAINT `channels_stages_stage` FOREIGN KEY (`stage_id`) REFERENCES `stages` (`id`) ON DELETE SET NULL, CONSTRAINT `channels_lead_status_lead_status` FOREIGN KEY (`lead_status_id`) REFERENCES `lead_status` (`id`) ON DELETE SET NULL);
-- create index "channel_account_id" to table: "channels"
CREATE INDEX `channel_account_id` ON `channels` (`account_id`);
-- create "channel_members" table
CREATE TABLE `channel_members` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `role` text NOT NULL DEFAULT ('SALES_REP'), `access` text NOT NULL DEFAULT ('READ_ONLY'), `receives_new_clients` bool NOT NULL DEFAULT (false), `weight` integer NOT NULL DEFAULT (1), `position` integer NOT NULL DEFAULT (0), `channel_id` integer NOT NULL, `employee_id` integer NOT NULL, CONSTRAINT `channel_members_channels_members` FOREIGN KEY (`channel_id`) REFERENCES `channels` (`id`) ON DELETE NO ACTION, CONSTRAINT `channel_members_employees_memberships` FOREIGN KEY (`employee_id`) REFERENCES `employees` (`id`) ON DELETE NO ACTION);
-- create index "channelmember_account_id" to table: "channel_members"
CREATE INDEX `channelmember_account_id` ON `channel_members` (`account_id`);
-- create index "channelmember_channel_id_employee_id" to table: "channel_members"
CREATE UNIQUE INDEX `channelmember_channel_id_employee_id` ON `channel_members` (`channel_id`, `employee_id`);
-- create index "channelmember_employee_id" to table: "channel_members"
CREATE INDEX `channelmember_employee_id` ON `channel_members` (`employee_id`);
-- create "chats" table
CREATE TABLE `chats` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `channel_id` integer NOT NULL, `deal_id` integer NULL, `last_message_at` datetime NOT NULL, `crm_logged_message_id` integer NOT NULL DEFAULT (0), `crm_flush_until` datetime NULL, `contact_id` integer NOT NULL, CONSTRAINT `chats_contacts_chats` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE);
-- create index "chat_channel_id_contact_id" to table: "chats"
CREATE UNIQUE INDEX `chat_channel_id_contact_id` ON `chats` (`channel_id`, `contact_id`);
-- create index "chat_account_id_last_message_at_id" to table: "chats"
CREATE INDEX `chat_account_id_last_message_at_id` ON `chats` (`account_id`, `last_message_at`, `id`);
-- create index "chat_channel_id_last_message_at_id" to table: "chats"
CREATE INDEX `chat_channel_id_last_message_at_id` ON `chats` (`channel_id`, `last_message_at`, `id`);
-- create "contacts" table
CREATE TABLE `contacts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `identity` text NOT NULL, `phone` text NOT NULL DEFAULT (''), `handle` text NOT NULL DEFAULT (''), `name` text NOT NULL DEFAULT (''), `claimed_at` datetime NULL, `is_test` bool NOT NULL DEFAULT (false), `crm_id` text NULL, `responsible_id` integer NULL, CONSTRAINT `contacts_employees_responsible` FOREIGN KEY (`responsible_id`) REFERENCES `employees` (`id`) ON DELETE SET NULL);
-- create index "contact_account_id_identity" to table: "contacts"
CREATE UNIQUE INDEX `contact_account_id_identity` ON `contacts` (`account_id`, `identity`);
-- create "credentials" table
CREATE TABLE `credentials` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `kind` text NOT NULL, `employee_id` integer NULL, `name` text NOT NULL, `prefix` text NOT NULL, `secret_hash` blob NOT NULL, `revoked_at` datetime NULL);
-- create index "credentials_secret_hash_key" to table: "credentials"
CREATE UNIQUE INDEX `credentials_secret_hash_key` ON `credentials` (`secret_hash`);
-- create index "credential_account_id" to table: "credentials"
CREATE INDEX `credential_account_id` ON `credentials` (`account_id`);
-- create "crm_connections" table
CREATE TABLE `crm_connections` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `kind` text NOT NULL, `base_url` text NOT NULL, `token_sealed` blob NOT NULL, `webhook_key_hash` blob NOT NULL, `webhook_token_hash` blob NULL, `webhook_secret_sealed` blob NULL, `webhook_key_sealed` blob NULL, `subscribed_until` datetime NULL, `refreshed_at` datetime NULL);
-- create index "crm_connections_webhook_key_hash_key" to table: "crm_connections"
CREATE UNIQUE INDEX `crm_connections_webhook_key_hash_key` ON `crm_connections` (`webhook_key_hash`);
-- create index "crm_connections_one_per_account" to table: "crm_connections"
CREATE UNIQUE INDEX `crm_connections_one_per_account` ON `crm_connections` (`account_id`);
-- create "deals" table
CREATE TABLE `deals` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `channel_id` integer NOT NULL, `kind` text NOT NULL, `pipeline_id` integer NULL, `stage_id` integer NULL, `lead_status_id` integer NULL, `state` text NOT NULL DEFAULT ('OPEN'), `closed_at` datetime NULL, `crm_id` text NULL, `crm_sync_until` datetime NULL, `contact_id` integer NOT NULL, CONSTRAINT `deals_contacts_deals` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE);
-- create index "deal_contact_id_state" to table: "deals"
CREATE INDEX `deal_contact_id_state` ON `deals` (`contact_id`, `state`);
-- create index "deal_account_id_crm_id" to table: "deals"
CREATE INDEX `deal_account_id_crm_id` ON `deals` (`account_id`, `crm_id`);
-- create "distribution_cursors" table
CREATE TABLE `distribution_cursors` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `channel_id` integer NOT NULL, `last_employee_id` integer NULL, `streak` integer NOT NULL DEFAULT (0), `assigned` integer NOT NULL DEFAULT (0));
-- create index "distributioncursor_account_id" to table: "distribution_cursors"
CREATE INDEX `distributioncursor_account_id` ON `distribution_cursors` (`account_id`);
-- create index "distributioncursor_channel_id" to table: "distribution_cursors"
CREATE UNIQUE INDEX `distributioncursor_channel_id` ON `distribution_cursors` (`channel_id`);
-- create "employees" table
CREATE TABLE `employees` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL, `crm_user_id` text NULL, `email` text NOT NULL DEFAULT (''), `active` bool NOT NULL DEFAULT (true), `chat_admin` bool NOT NULL DEFAULT (false), `default_outgoing_channel_id` integer NULL, CONSTRAINT `employees_channels_default_outgoing_channel` FOREIGN KEY (`default_outgoing_channel_id`) REFERENCES `channels` (`id`) ON DELETE SET NULL);
-- create index "employee_account_id" to table: "employees"
CREATE INDEX `employee_account_id` ON `employees` (`account_id`);
-- create index "employee_account_id_crm_user_id" to table: "employees"
CREATE UNIQUE INDEX `employee_account_id_crm_user_id` ON `employees` (`account_id`, `crm_user_id`);
-- create "lead_status" table
CREATE TABLE `lead_status` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `name` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `crm_id` text NULL);
-- create index "leadstatus_account_id" to table: "lead_status"
CREATE INDEX `leadstatus_account_id` ON `lead_status` (`account_id`);
-- create "messages" table
CREATE TABLE `messages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `direction` text NOT NULL, `text` text NOT NULL DEFAULT (''), `attachments` json NULL, `employee_id` integer NULL, `gateway_message_id` text NULL, `decision` blob NULL, `chat_id` integer NOT NULL, CONSTRAINT `messages_chats_messages` FOREIGN KEY (`chat_id`) REFERENCES `chats` (`id`) ON DELETE CASCADE);
-- create index "message_account_id_direction_gateway_message_id" to table: "messages"
CREATE UNIQUE INDEX `message_account_id_direction_gateway_message_id` ON `messages` (`account_id`, `direction`, `gateway_message_id`);
-- create index "message_chat_id_id" to table: "messages"
CREATE INDEX `message_chat_id_id` ON `messages` (`chat_id`, `id`);
-- create "notifications" table
CREATE TABLE `notifications` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `txid` integer NULL DEFAULT (0), `employee_id` integer NULL, `reason` text NOT NULL, `chat_id` integer NOT NULL, `contact_id` integer NOT NULL, `contact_name` text NOT NULL DEFAULT (''), `channel_id` integer NOT NULL, `channel_name` text NOT NULL DEFAULT (''), `channel_kind` text NOT NULL DEFAULT (''), `message_id` integer NULL, `preview` text NOT NULL DEFAULT (''), `explanation` text NOT NULL DEFAULT (''));
-- create index "notification_txid_id" to table: "notifications"
CREATE INDEX `notification_txid_id` ON `notifications` (`txid`, `id`);
-- create index "notification_account_id_employee_id_txid_id" to table: "notifications"
CREATE INDEX `notification_account_id_employee_id_txid_id` ON `notifications` (`account_id`, `employee_id`, `txid`, `id`);
-- create index "notification_created_at" to table: "notifications"
CREATE INDEX `notification_created_at` ON `notifications` (`created_at`);
-- create "pipelines" table
CREATE TABLE `pipelines` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `crm_id` text NULL);
-- create index "pipeline_account_id" to table: "pipelines"
CREATE INDEX `pipeline_account_id` ON `pipelines` (`account_id`);
-- create "stages" table
CREATE TABLE `stages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `name` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `crm_id` text NULL, `kind` text NOT NULL DEFAULT ('OPEN'), `pipeline_id` integer NOT NULL, CONSTRAINT `stages_pipelines_stages` FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines` (`id`) ON DELETE NO ACTION);
-- create index "stage_account_id" to table: "stages"
CREATE INDEX `stage_account_id` ON `stages` (`account_id`);
-- What ent's schema does not describe (written by hand):
-- An account's sync state lists its outbox jobs by state (outbox.Sync); the
-- account is in each job's metadata. River's tables are migrated before
-- these files.
CREATE INDEX IF NOT EXISTS river_job_account ON river_job ((metadata ->> 'account'), state, id);
