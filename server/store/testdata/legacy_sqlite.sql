-- What the server ran on an empty SQLite database on its first start before
-- versioned migrations: ent's automatic migration (Schema.Create, captured
-- with Schema.WriteTo at the last release without versioned migrations),
-- then River's migrations, then its own statements. The adoption test
-- rebuilds such a database from this file; never change it.
PRAGMA foreign_keys = off;
CREATE TABLE `accounts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `name` text NOT NULL);
CREATE TABLE `account_settings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `revision` integer NOT NULL DEFAULT (1), `directory_version` integer NOT NULL DEFAULT (1), `crm_kind` text NOT NULL DEFAULT ('NATIVE'), `saved_once` bool NOT NULL DEFAULT (false), `save_messages` text NOT NULL DEFAULT ('HOURLY'), `convert_8_to_plus7` bool NOT NULL DEFAULT (true), `notify_managers_all_messages` bool NOT NULL DEFAULT (false), `global_chat_visibility` text NOT NULL DEFAULT ('OWN'), `time_zone` text NOT NULL DEFAULT (''), `home_region` text NULL, `updated_at` datetime NOT NULL, `pruned_txid` integer NOT NULL DEFAULT (0), `pruned_id` integer NOT NULL DEFAULT (0));
CREATE INDEX `accountsettings_account_id` ON `account_settings` (`account_id`);
CREATE UNIQUE INDEX `account_settings_one_per_account` ON `account_settings` (`account_id`);
CREATE TABLE `channels` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `kind` text NOT NULL, `name` text NOT NULL, `external_id` text NOT NULL DEFAULT (''), `in_integration` bool NOT NULL DEFAULT (true), `open_channels` bool NOT NULL DEFAULT (false), `distribution` text NOT NULL DEFAULT ('ROUND_ROBIN'), `repeat_client_policy` text NOT NULL DEFAULT ('CREATE_NEW_DEAL'), `entity_kind` text NOT NULL DEFAULT ('DEFAULT'), `pipeline_id` integer NULL, `stage_id` integer NULL, `lead_status_id` integer NULL, CONSTRAINT `channels_pipelines_pipeline` FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines` (`id`) ON DELETE SET NULL, CONSTRAINT `channels_stages_stage` FOREIGN KEY (`stage_id`) REFERENCES `stages` (`id`) ON DELETE SET NULL, CONSTRAINT `channels_lead_status_lead_status` FOREIGN KEY (`lead_status_id`) REFERENCES `lead_status` (`id`) ON DELETE SET NULL);
CREATE INDEX `channel_account_id` ON `channels` (`account_id`);
CREATE TABLE `channel_members` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `role` text NOT NULL DEFAULT ('SALES_REP'), `access` text NOT NULL DEFAULT ('READ_ONLY'), `receives_new_clients` bool NOT NULL DEFAULT (false), `weight` integer NOT NULL DEFAULT (1), `position` integer NOT NULL DEFAULT (0), `channel_id` integer NOT NULL, `employee_id` integer NOT NULL, CONSTRAINT `channel_members_channels_members` FOREIGN KEY (`channel_id`) REFERENCES `channels` (`id`) ON DELETE NO ACTION, CONSTRAINT `channel_members_employees_memberships` FOREIGN KEY (`employee_id`) REFERENCES `employees` (`id`) ON DELETE NO ACTION);
CREATE INDEX `channelmember_account_id` ON `channel_members` (`account_id`);
CREATE UNIQUE INDEX `channelmember_channel_id_employee_id` ON `channel_members` (`channel_id`, `employee_id`);
CREATE INDEX `channelmember_employee_id` ON `channel_members` (`employee_id`);
CREATE TABLE `chats` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `channel_id` integer NOT NULL, `deal_id` integer NULL, `last_message_at` datetime NOT NULL, `crm_logged_message_id` integer NOT NULL DEFAULT (0), `crm_flush_until` datetime NULL, `contact_id` integer NOT NULL, CONSTRAINT `chats_contacts_chats` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE);
CREATE UNIQUE INDEX `chat_channel_id_contact_id` ON `chats` (`channel_id`, `contact_id`);
CREATE INDEX `chat_account_id_last_message_at_id` ON `chats` (`account_id`, `last_message_at`, `id`);
CREATE INDEX `chat_channel_id_last_message_at_id` ON `chats` (`channel_id`, `last_message_at`, `id`);
CREATE TABLE `contacts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `identity` text NOT NULL, `phone` text NOT NULL DEFAULT (''), `handle` text NOT NULL DEFAULT (''), `name` text NOT NULL DEFAULT (''), `claimed_at` datetime NULL, `is_test` bool NOT NULL DEFAULT (false), `crm_id` text NULL, `responsible_id` integer NULL, CONSTRAINT `contacts_employees_responsible` FOREIGN KEY (`responsible_id`) REFERENCES `employees` (`id`) ON DELETE SET NULL);
CREATE UNIQUE INDEX `contact_account_id_identity` ON `contacts` (`account_id`, `identity`);
CREATE TABLE `credentials` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `kind` text NOT NULL, `employee_id` integer NULL, `name` text NOT NULL, `prefix` text NOT NULL, `secret_hash` blob NOT NULL, `revoked_at` datetime NULL);
CREATE UNIQUE INDEX `credentials_secret_hash_key` ON `credentials` (`secret_hash`);
CREATE INDEX `credential_account_id` ON `credentials` (`account_id`);
CREATE TABLE `crm_connections` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `kind` text NOT NULL, `base_url` text NOT NULL, `token_sealed` blob NOT NULL, `webhook_key_hash` blob NOT NULL, `webhook_token_hash` blob NULL, `webhook_secret_sealed` blob NULL, `webhook_key_sealed` blob NULL, `subscribed_until` datetime NULL, `refreshed_at` datetime NULL);
CREATE UNIQUE INDEX `crm_connections_webhook_key_hash_key` ON `crm_connections` (`webhook_key_hash`);
CREATE UNIQUE INDEX `crm_connections_one_per_account` ON `crm_connections` (`account_id`);
CREATE TABLE `deals` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `channel_id` integer NOT NULL, `kind` text NOT NULL, `pipeline_id` integer NULL, `stage_id` integer NULL, `lead_status_id` integer NULL, `state` text NOT NULL DEFAULT ('OPEN'), `closed_at` datetime NULL, `crm_id` text NULL, `crm_sync_until` datetime NULL, `contact_id` integer NOT NULL, CONSTRAINT `deals_contacts_deals` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE);
CREATE INDEX `deal_contact_id_state` ON `deals` (`contact_id`, `state`);
CREATE INDEX `deal_account_id_crm_id` ON `deals` (`account_id`, `crm_id`);
CREATE TABLE `distribution_cursors` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `channel_id` integer NOT NULL, `last_employee_id` integer NULL, `streak` integer NOT NULL DEFAULT (0), `assigned` integer NOT NULL DEFAULT (0));
CREATE INDEX `distributioncursor_account_id` ON `distribution_cursors` (`account_id`);
CREATE UNIQUE INDEX `distributioncursor_channel_id` ON `distribution_cursors` (`channel_id`);
CREATE TABLE `employees` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL, `crm_user_id` text NULL, `email` text NOT NULL DEFAULT (''), `active` bool NOT NULL DEFAULT (true), `chat_admin` bool NOT NULL DEFAULT (false), `default_outgoing_channel_id` integer NULL, CONSTRAINT `employees_channels_default_outgoing_channel` FOREIGN KEY (`default_outgoing_channel_id`) REFERENCES `channels` (`id`) ON DELETE SET NULL);
CREATE INDEX `employee_account_id` ON `employees` (`account_id`);
CREATE UNIQUE INDEX `employee_account_id_crm_user_id` ON `employees` (`account_id`, `crm_user_id`);
CREATE TABLE `lead_status` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `name` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `crm_id` text NULL);
CREATE INDEX `leadstatus_account_id` ON `lead_status` (`account_id`);
CREATE TABLE `messages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `direction` text NOT NULL, `text` text NOT NULL DEFAULT (''), `attachments` json NULL, `employee_id` integer NULL, `gateway_message_id` text NULL, `decision` blob NULL, `chat_id` integer NOT NULL, CONSTRAINT `messages_chats_messages` FOREIGN KEY (`chat_id`) REFERENCES `chats` (`id`) ON DELETE CASCADE);
CREATE UNIQUE INDEX `message_account_id_direction_gateway_message_id` ON `messages` (`account_id`, `direction`, `gateway_message_id`);
CREATE INDEX `message_chat_id_id` ON `messages` (`chat_id`, `id`);
CREATE TABLE `notifications` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `txid` integer NULL DEFAULT (0), `employee_id` integer NULL, `reason` text NOT NULL, `chat_id` integer NOT NULL, `contact_id` integer NOT NULL, `contact_name` text NOT NULL DEFAULT (''), `channel_id` integer NOT NULL, `channel_name` text NOT NULL DEFAULT (''), `channel_kind` text NOT NULL DEFAULT (''), `message_id` integer NULL, `preview` text NOT NULL DEFAULT (''), `explanation` text NOT NULL DEFAULT (''));
CREATE INDEX `notification_txid_id` ON `notifications` (`txid`, `id`);
CREATE INDEX `notification_account_id_employee_id_txid_id` ON `notifications` (`account_id`, `employee_id`, `txid`, `id`);
CREATE INDEX `notification_created_at` ON `notifications` (`created_at`);
CREATE TABLE `pipelines` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `crm_id` text NULL);
CREATE INDEX `pipeline_account_id` ON `pipelines` (`account_id`);
CREATE TABLE `stages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `name` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `crm_id` text NULL, `kind` text NOT NULL DEFAULT ('OPEN'), `pipeline_id` integer NOT NULL, CONSTRAINT `stages_pipelines_stages` FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines` (`id`) ON DELETE NO ACTION);
CREATE INDEX `stage_account_id` ON `stages` (`account_id`);
PRAGMA foreign_keys = on;
-- after River's migrations
CREATE INDEX IF NOT EXISTS river_job_account ON river_job ((metadata ->> 'account'), state, id);
