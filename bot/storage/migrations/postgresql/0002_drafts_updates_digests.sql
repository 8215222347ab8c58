-- PostgreSQL twin of ../0002_drafts_updates_digests.sql.

CREATE TABLE drafts (
    person_id   BIGINT PRIMARY KEY REFERENCES people (id),
    sop_id      TEXT COLLATE "C" NOT NULL,
    answers     TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    uploads     TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    position    INTEGER NOT NULL DEFAULT 0,
    last_message_id BIGINT NOT NULL DEFAULT 0,
    updated_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE updates (
    update_id   BIGINT PRIMARY KEY,
    received_at TEXT COLLATE "C" NOT NULL,
    payload     TEXT COLLATE "C" NOT NULL,
    state       TEXT COLLATE "C" NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'handled', 'failed')),
    handled_at  TEXT COLLATE "C",
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX updates_unfinished ON updates (state, update_id);

CREATE TABLE digests (
    person_id   BIGINT NOT NULL REFERENCES people (id),
    day         TEXT COLLATE "C" NOT NULL,
    outbox_id   BIGINT REFERENCES outbox (id),
    created_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (person_id, day)
);

ALTER TABLE outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_chat_queue ON outbox (chat_id, state, priority, id);
