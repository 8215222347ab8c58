-- What the bot is waiting for from a person (an intake answer, an output document, a reason):
-- kept in the database so a prompt survives a restart like the intake drafts do.

CREATE TABLE prompts (
    person_id   INTEGER PRIMARY KEY REFERENCES people (id),
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX prompts_kind ON prompts (kind, updated_at);
