-- +goose Up
-- drop index "accountsettings_account_id" from table: "account_settings"
DROP INDEX "accountsettings_account_id";
