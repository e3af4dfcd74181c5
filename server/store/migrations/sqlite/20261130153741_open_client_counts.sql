-- +goose Up
-- create "open_client_counts" table
CREATE TABLE `open_client_counts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account_id` integer NOT NULL, `channel_id` integer NOT NULL, `employee_id` integer NOT NULL, `clients` integer NOT NULL DEFAULT (0));
-- create index "openclientcount_channel_id_employee_id" to table: "open_client_counts"
CREATE UNIQUE INDEX `openclientcount_channel_id_employee_id` ON `open_client_counts` (`channel_id`, `employee_id`);
-- Open clients per channel and employee (ent/schema/open_client_count.go),
-- kept by triggers in the writing transaction: a client counts once on a
-- channel while it has an OPEN deal there and a responsible. (SQLite runs
-- one writer at a time.) A later migration that rebuilds the deals or
-- contacts table must create these triggers again.
-- +goose StatementBegin
CREATE TRIGGER open_clients_deal_insert AFTER INSERT ON deals WHEN NEW.state = 'OPEN'
BEGIN
  INSERT INTO open_client_counts (account_id, channel_id, employee_id, clients)
  SELECT NEW.account_id, NEW.channel_id, c.responsible_id, 1 FROM contacts c
  WHERE c.id = NEW.contact_id AND c.responsible_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deals x
    WHERE x.contact_id = NEW.contact_id AND x.channel_id = NEW.channel_id AND x.state = 'OPEN' AND x.id <> NEW.id)
  ON CONFLICT (channel_id, employee_id) DO UPDATE SET clients = clients + excluded.clients;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER open_clients_deal_state AFTER UPDATE OF state ON deals WHEN (OLD.state = 'OPEN') <> (NEW.state = 'OPEN')
BEGIN
  INSERT INTO open_client_counts (account_id, channel_id, employee_id, clients)
  SELECT NEW.account_id, NEW.channel_id, c.responsible_id, CASE WHEN NEW.state = 'OPEN' THEN 1 ELSE -1 END FROM contacts c
  WHERE c.id = NEW.contact_id AND c.responsible_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deals x
    WHERE x.contact_id = NEW.contact_id AND x.channel_id = NEW.channel_id AND x.state = 'OPEN' AND x.id <> NEW.id)
  ON CONFLICT (channel_id, employee_id) DO UPDATE SET clients = clients + excluded.clients;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER open_clients_deal_delete AFTER DELETE ON deals WHEN OLD.state = 'OPEN'
BEGIN
  INSERT INTO open_client_counts (account_id, channel_id, employee_id, clients)
  SELECT OLD.account_id, OLD.channel_id, c.responsible_id, -1 FROM contacts c
  WHERE c.id = OLD.contact_id AND c.responsible_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deals x
    WHERE x.contact_id = OLD.contact_id AND x.channel_id = OLD.channel_id AND x.state = 'OPEN' AND x.id <> OLD.id)
  ON CONFLICT (channel_id, employee_id) DO UPDATE SET clients = clients + excluded.clients;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER open_clients_contact AFTER UPDATE OF responsible_id ON contacts
  WHEN OLD.responsible_id IS NOT NEW.responsible_id
BEGIN
  INSERT INTO open_client_counts (account_id, channel_id, employee_id, clients)
  SELECT DISTINCT OLD.account_id, d.channel_id, OLD.responsible_id, -1 FROM deals d
  WHERE d.contact_id = OLD.id AND d.state = 'OPEN' AND OLD.responsible_id IS NOT NULL
  ON CONFLICT (channel_id, employee_id) DO UPDATE SET clients = clients + excluded.clients;
  INSERT INTO open_client_counts (account_id, channel_id, employee_id, clients)
  SELECT DISTINCT NEW.account_id, d.channel_id, NEW.responsible_id, 1 FROM deals d
  WHERE d.contact_id = NEW.id AND d.state = 'OPEN' AND NEW.responsible_id IS NOT NULL
  ON CONFLICT (channel_id, employee_id) DO UPDATE SET clients = clients + excluded.clients;
END;
-- +goose StatementEnd
-- +goose StatementBegin
-- Before the row goes: its deals go after it and find no responsible.
CREATE TRIGGER open_clients_contact_delete BEFORE DELETE ON contacts WHEN OLD.responsible_id IS NOT NULL
BEGIN
  INSERT INTO open_client_counts (account_id, channel_id, employee_id, clients)
  SELECT DISTINCT OLD.account_id, d.channel_id, OLD.responsible_id, -1 FROM deals d
  WHERE d.contact_id = OLD.id AND d.state = 'OPEN'
  ON CONFLICT (channel_id, employee_id) DO UPDATE SET clients = clients + excluded.clients;
END;
-- +goose StatementEnd
-- The counts of the clients open now.
INSERT INTO open_client_counts (account_id, channel_id, employee_id, clients)
SELECT c.account_id, d.channel_id, c.responsible_id, count(DISTINCT c.id)
FROM deals d JOIN contacts c ON c.id = d.contact_id
WHERE d.state = 'OPEN' AND c.responsible_id IS NOT NULL
GROUP BY c.account_id, d.channel_id, c.responsible_id;
