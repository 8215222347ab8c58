-- PostgreSQL twin of ../0011_transport_retention.sql. SQLite rebuilds the updates table to change
-- its constraints; PostgreSQL alters them in place.

UPDATE updates SET payload = NULL WHERE state != 'received';
ALTER TABLE updates ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE updates DROP CONSTRAINT updates_state_check;
ALTER TABLE updates ADD CONSTRAINT updates_state_check
    CHECK (state IN ('received', 'handled', 'failed', 'dropped'));
CREATE INDEX updates_received ON updates (received_at);

CREATE INDEX step_instances_completer ON step_instances (completed_by, case_id);
CREATE INDEX step_instances_done_at ON step_instances (completed_at, id) WHERE state = 'done';
CREATE INDEX events_actor ON events (actor_id, case_id);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_closed ON cases (state, closed_at);
CREATE INDEX outbox_finished ON outbox (state, sent_at);

CREATE TABLE sla_daily (
    sop_id      TEXT COLLATE "C" NOT NULL,
    step_no     TEXT COLLATE "C" NOT NULL,
    day         TEXT COLLATE "C" NOT NULL,
    role        TEXT COLLATE "C" NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    within      INTEGER NOT NULL DEFAULT 0,
    taken       TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    standard    TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    PRIMARY KEY (sop_id, step_no, day)
);
CREATE INDEX sla_daily_day ON sla_daily (day);

CREATE TABLE sla_watermark (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    completed_at    TEXT COLLATE "C" NOT NULL,
    step_id         BIGINT NOT NULL
);

CREATE TABLE events_archive (
    id                  BIGINT PRIMARY KEY,
    at                  TEXT COLLATE "C" NOT NULL,
    case_id             BIGINT,
    step_instance_id    BIGINT,
    actor_id            BIGINT,
    on_behalf_of        BIGINT,
    type                TEXT COLLATE "C" NOT NULL,
    data                TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    archived_at         TEXT COLLATE "C" NOT NULL
);
CREATE INDEX events_archive_case ON events_archive (case_id, id);
CREATE FUNCTION events_archive_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'archived events are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_archive_no_update BEFORE UPDATE ON events_archive
    FOR EACH ROW EXECUTE FUNCTION events_archive_append_only();
CREATE TRIGGER events_archive_no_delete BEFORE DELETE ON events_archive
    FOR EACH ROW EXECUTE FUNCTION events_archive_append_only();
CREATE TRIGGER events_archive_no_truncate BEFORE TRUNCATE ON events_archive
    FOR EACH STATEMENT EXECUTE FUNCTION events_archive_append_only();

-- An event may leave the hot table only once an identical copy is in the archive.
DROP TRIGGER events_no_delete ON events;
CREATE FUNCTION events_delete_only_archived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM events_archive a WHERE a.id = OLD.id AND a.type = OLD.type AND a.at = OLD.at) THEN
        RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_delete_only_archived();

CREATE TABLE app_settings (
    key         TEXT COLLATE "C" PRIMARY KEY,
    value       TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL
);
