-- Numbered 0004: main already has a 0003 (prompts).
-- The supervisors' board: browser sessions, one-time login links, and an index for the standard-time table.
-- Tokens are stored as SHA-256 hashes; the token itself lives only in the link or the browser cookie.

CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    via         TEXT NOT NULL CHECK (via IN ('webapp', 'link')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

CREATE TABLE web_logins (
    token_hash  TEXT PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

-- Covering: the standard-time table reads only these columns of the steps completed in a period.
CREATE INDEX step_instances_completed ON step_instances (completed_at, case_id, step_no, role, opened_at, due_at)
    WHERE state = 'done';
