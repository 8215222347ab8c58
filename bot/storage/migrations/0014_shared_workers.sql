-- Several `alur run` workers on one PostgreSQL (issue 15): an update is claimed per chat by one
-- worker for a lease it renews while it lives. SQLite (one process) keeps the columns empty.

ALTER TABLE updates ADD COLUMN chat_key TEXT;
ALTER TABLE updates ADD COLUMN worker TEXT;
ALTER TABLE updates ADD COLUMN lease_until TEXT;
