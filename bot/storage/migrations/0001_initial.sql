-- People, cases, step instances, attachments, the event log and the outbox.
-- Times are ISO-8601 UTC strings ('2026-11-23T03:30:00+00:00'), so text order is time order.

CREATE TABLE people (
    id              INTEGER PRIMARY KEY,
    telegram_id     INTEGER UNIQUE,
    username        TEXT,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('staff', 'officer')),
    institution     TEXT,
    unit            TEXT,
    opd             TEXT,
    active          INTEGER NOT NULL DEFAULT 1,
    reachable       INTEGER NOT NULL DEFAULT 1,
    source          TEXT NOT NULL DEFAULT 'manual',
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX people_username ON people (username) WHERE username IS NOT NULL;

CREATE TABLE person_roles (
    person_id   INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);
CREATE INDEX person_roles_role ON person_roles (role);

CREATE TABLE invites (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    roles       TEXT NOT NULL,
    institution TEXT NOT NULL,
    unit        TEXT,
    created_at  TEXT NOT NULL,
    created_by  INTEGER REFERENCES people (id),
    used_by     INTEGER REFERENCES people (id),
    used_at     TEXT
);

CREATE TABLE acting (
    id              INTEGER PRIMARY KEY,
    absent_id       INTEGER NOT NULL REFERENCES people (id),
    acting_id       INTEGER NOT NULL REFERENCES people (id),
    kind            TEXT NOT NULL DEFAULT 'plh' CHECK (kind IN ('plt', 'plh')),
    start_date      TEXT NOT NULL,
    end_date        TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);
CREATE INDEX acting_absent ON acting (absent_id, start_date, end_date);

CREATE TABLE sop_versions (
    hash        TEXT PRIMARY KEY,
    sop_id      TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE register_counters (
    prefix  TEXT NOT NULL,
    year    INTEGER NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    register_no     TEXT NOT NULL UNIQUE,
    sop_id          TEXT NOT NULL,
    sop_hash        TEXT NOT NULL REFERENCES sop_versions (hash),
    institution     TEXT NOT NULL,
    unit            TEXT NOT NULL,
    requester_id    INTEGER NOT NULL REFERENCES people (id),
    title           TEXT NOT NULL,
    intake          TEXT NOT NULL DEFAULT '{}',
    state           TEXT NOT NULL CHECK (state IN ('open', 'completed', 'rejected', 'cancelled')),
    unassigned      INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    closed_at       TEXT,
    closed_reason   TEXT
);
CREATE INDEX cases_requester ON cases (requester_id, state);
CREATE INDEX cases_state ON cases (state, institution, unit);

CREATE TABLE step_instances (
    id                  INTEGER PRIMARY KEY,
    case_id             INTEGER NOT NULL REFERENCES cases (id),
    step_no             TEXT NOT NULL,
    role                TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('open', 'done', 'cancelled')),
    holder_id           INTEGER REFERENCES people (id),
    acting_for_id       INTEGER REFERENCES people (id),
    opened_at           TEXT NOT NULL,
    due_at              TEXT,
    remind_at           TEXT,
    prewarn_at          TEXT,
    escalate_at         TEXT,
    escalation_level    INTEGER NOT NULL DEFAULT 0,
    reminded_at         TEXT,
    prewarned_at        TEXT,
    due_notified_at     TEXT,
    next_alarm_at       TEXT,
    completed_at        TEXT,
    completed_by        INTEGER REFERENCES people (id),
    outcome             TEXT,
    branch_label        TEXT,
    note                TEXT
);
CREATE INDEX step_instances_case ON step_instances (case_id, id);
CREATE INDEX step_instances_holder ON step_instances (holder_id, state, due_at);
CREATE INDEX step_instances_alarm ON step_instances (next_alarm_at) WHERE state = 'open';
CREATE INDEX step_instances_due ON step_instances (state, due_at);

CREATE TABLE attachments (
    id                  INTEGER PRIMARY KEY,
    case_id             INTEGER NOT NULL REFERENCES cases (id),
    step_instance_id    INTEGER REFERENCES step_instances (id),
    purpose             TEXT NOT NULL CHECK (purpose IN ('intake', 'output')),
    field               TEXT,
    file_id             TEXT NOT NULL,
    file_unique_id      TEXT,
    file_name           TEXT,
    mime_type           TEXT,
    file_size           INTEGER,
    uploaded_by         INTEGER REFERENCES people (id),
    created_at          TEXT NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id);

CREATE TABLE events (
    id                  INTEGER PRIMARY KEY,
    at                  TEXT NOT NULL,
    case_id             INTEGER REFERENCES cases (id),
    step_instance_id    INTEGER REFERENCES step_instances (id),
    actor_id            INTEGER REFERENCES people (id),
    on_behalf_of        INTEGER REFERENCES people (id),
    type                TEXT NOT NULL,
    data                TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_case ON events (case_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE (ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE (ABORT, 'events are append-only'); END;

CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    created_at          TEXT NOT NULL,
    person_id           INTEGER REFERENCES people (id),
    chat_id             INTEGER,
    priority            INTEGER NOT NULL DEFAULT 1,
    kind                TEXT NOT NULL,
    payload             TEXT NOT NULL DEFAULT '{}',
    dedupe_key          TEXT UNIQUE,
    state               TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'dead', 'held')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    not_before          TEXT NOT NULL,
    last_error          TEXT,
    sent_at             TEXT,
    telegram_message_id INTEGER
);
CREATE INDEX outbox_pending ON outbox (state, priority, not_before, id);
CREATE INDEX outbox_chat ON outbox (chat_id, state, id);
