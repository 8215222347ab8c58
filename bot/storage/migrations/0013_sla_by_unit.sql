-- Standard-time aggregates per place as well: the supervisors' board reads them for one unit or one
-- institution, and a case keeps the unit it was filed in even when its SOP later moves, so the SOP
-- alone does not say whose work a row is. The rows are rebuilt by the next fold (the watermark is
-- cleared); until then every report reads the completed steps themselves, so no number is wrong meanwhile.
CREATE TABLE sla_daily_new (
    institution TEXT NOT NULL,
    unit        TEXT NOT NULL,
    sop_id      TEXT NOT NULL,
    step_no     TEXT NOT NULL,
    day         TEXT NOT NULL,
    role        TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    within      INTEGER NOT NULL DEFAULT 0,
    taken       TEXT NOT NULL DEFAULT '{}',
    standard    TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (institution, unit, sop_id, step_no, day)
);
DROP TABLE sla_daily;
ALTER TABLE sla_daily_new RENAME TO sla_daily;
CREATE INDEX sla_daily_day ON sla_daily (day);
DELETE FROM sla_watermark;
