-- PostgreSQL twin of ../0003_prompts.sql.

CREATE TABLE prompts (
    person_id   BIGINT PRIMARY KEY REFERENCES people (id),
    kind        TEXT COLLATE "C" NOT NULL,
    data        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX prompts_kind ON prompts (kind, updated_at);
