-- Half-filled requests survive a restart; incoming updates are recorded before Telegram
-- forgets them; a supervisor's digest is sent once per day.

CREATE TABLE drafts (
    person_id   INTEGER PRIMARY KEY REFERENCES people (id),
    sop_id      TEXT NOT NULL,
    answers     TEXT NOT NULL DEFAULT '{}',
    uploads     TEXT NOT NULL DEFAULT '{}',
    position    INTEGER NOT NULL DEFAULT 0,
    last_message_id INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL
);

CREATE TABLE updates (
    update_id   INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'handled', 'failed')),
    handled_at  TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX updates_unfinished ON updates (state, update_id);

CREATE TABLE digests (
    person_id   INTEGER NOT NULL REFERENCES people (id),
    day         TEXT NOT NULL,
    outbox_id   INTEGER REFERENCES outbox (id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (person_id, day)
);

-- A message caught between sending and being marked sent by a crash is re-sent once; a
-- second such crash marks it sent rather than risk a third copy.
ALTER TABLE outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_chat_queue ON outbox (chat_id, state, priority, id);
