-- Flat costs at agency scale and retention:
-- * the update ledger may forget a payload once the update is handled (or dropped in a flood);
-- * indexes for every per-person query (staff /status reads who completed a step and who acted);
-- * standard-time aggregates per SOP step and day, folded in as steps complete;
-- * events of long-closed cases move to an append-only archive table (the audit trail is kept,
--   the hot table stays small); settings the bot generates for itself (the webhook secret).

CREATE TABLE updates_new (
    update_id   INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    payload     TEXT,
    state       TEXT NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'handled', 'failed', 'dropped')),
    handled_at  TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO updates_new (update_id, received_at, payload, state, handled_at, attempts)
    SELECT update_id, received_at, CASE WHEN state = 'received' THEN payload END, state, handled_at, attempts
    FROM updates;
DROP TABLE updates;
ALTER TABLE updates_new RENAME TO updates;
CREATE INDEX updates_unfinished ON updates (state, update_id);
CREATE INDEX updates_received ON updates (received_at);

CREATE INDEX step_instances_completer ON step_instances (completed_by, case_id);
CREATE INDEX step_instances_done_at ON step_instances (completed_at, id) WHERE state = 'done';
CREATE INDEX events_actor ON events (actor_id, case_id);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_closed ON cases (state, closed_at);
CREATE INDEX outbox_finished ON outbox (state, sent_at);

CREATE TABLE sla_daily (
    sop_id      TEXT NOT NULL,
    step_no     TEXT NOT NULL,
    day         TEXT NOT NULL,
    role        TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    within      INTEGER NOT NULL DEFAULT 0,
    taken       TEXT NOT NULL DEFAULT '{}',
    standard    TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (sop_id, step_no, day)
);
CREATE INDEX sla_daily_day ON sla_daily (day);

CREATE TABLE sla_watermark (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    completed_at    TEXT NOT NULL,
    step_id         INTEGER NOT NULL
);

CREATE TABLE events_archive (
    id                  INTEGER PRIMARY KEY,
    at                  TEXT NOT NULL,
    case_id             INTEGER,
    step_instance_id    INTEGER,
    actor_id            INTEGER,
    on_behalf_of        INTEGER,
    type                TEXT NOT NULL,
    data                TEXT NOT NULL DEFAULT '{}',
    archived_at         TEXT NOT NULL
);
CREATE INDEX events_archive_case ON events_archive (case_id, id);
CREATE TRIGGER events_archive_no_update BEFORE UPDATE ON events_archive
BEGIN SELECT RAISE (ABORT, 'archived events are append-only'); END;
CREATE TRIGGER events_archive_no_delete BEFORE DELETE ON events_archive
BEGIN SELECT RAISE (ABORT, 'archived events are append-only'); END;

-- An event may leave the hot table only once an identical copy is in the archive.
DROP TRIGGER events_no_delete;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN NOT EXISTS (SELECT 1 FROM events_archive a WHERE a.id = OLD.id AND a.type = OLD.type AND a.at = OLD.at)
BEGIN SELECT RAISE (ABORT, 'events are append-only'); END;

CREATE TABLE app_settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
