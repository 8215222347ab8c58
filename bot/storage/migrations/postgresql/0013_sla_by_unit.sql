-- PostgreSQL twin of ../0013_sla_by_unit.sql: the daily aggregates keyed by place as well; the rows
-- are rebuilt by the next fold (the watermark is cleared).
CREATE TABLE sla_daily_new (
    institution TEXT COLLATE "C" NOT NULL,
    unit        TEXT COLLATE "C" NOT NULL,
    sop_id      TEXT COLLATE "C" NOT NULL,
    step_no     TEXT COLLATE "C" NOT NULL,
    day         TEXT COLLATE "C" NOT NULL,
    role        TEXT COLLATE "C" NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    within      INTEGER NOT NULL DEFAULT 0,
    taken       TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    standard    TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    PRIMARY KEY (institution, unit, sop_id, step_no, day)
);
DROP TABLE sla_daily;
ALTER TABLE sla_daily_new RENAME TO sla_daily;
CREATE INDEX sla_daily_day ON sla_daily (day);
DELETE FROM sla_watermark;
