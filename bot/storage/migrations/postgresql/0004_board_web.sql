-- PostgreSQL twin of ../0004_board_web.sql.

CREATE TABLE web_sessions (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people (id),
    via         TEXT COLLATE "C" NOT NULL CHECK (via IN ('webapp', 'link')),
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

CREATE TABLE web_logins (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people (id),
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    used_at     TEXT COLLATE "C"
);

CREATE INDEX step_instances_completed ON step_instances (completed_at, case_id, step_no, role, opened_at, due_at)
    WHERE state = 'done';
