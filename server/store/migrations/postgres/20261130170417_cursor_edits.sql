-- +goose Up
-- modify "distribution_cursors" table
ALTER TABLE "distribution_cursors" ADD COLUMN "edits" bigint NOT NULL DEFAULT 0;
