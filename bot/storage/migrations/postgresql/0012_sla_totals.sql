-- PostgreSQL twin of ../0012_sla_totals.sql: all-history aggregates, one row per SOP step; the
-- daily rows are folded again from the start (the next clock tick does it).
CREATE TABLE sla_total (
    sop_id      TEXT COLLATE "C" NOT NULL,
    step_no     TEXT COLLATE "C" NOT NULL,
    role        TEXT COLLATE "C" NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    within      INTEGER NOT NULL DEFAULT 0,
    taken       TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    standard    TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    PRIMARY KEY (sop_id, step_no)
);
DELETE FROM sla_daily;
DELETE FROM sla_watermark;
