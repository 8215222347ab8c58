-- PostgreSQL twin of ../0010_identity_snapshots.sql.

ALTER TABLE cases ADD COLUMN requester_name TEXT COLLATE "C";
ALTER TABLE cases ADD COLUMN requester_opd TEXT COLLATE "C";
ALTER TABLE cases ADD COLUMN requester_agency TEXT COLLATE "C";
UPDATE cases SET
    requester_name = (SELECT p.name FROM people p WHERE p.id = cases.requester_id),
    requester_opd = (SELECT p.opd FROM people p WHERE p.id = cases.requester_id);

ALTER TABLE drafts ADD COLUMN intake_hash TEXT COLLATE "C";

ALTER TABLE invites ADD COLUMN person_id BIGINT REFERENCES people (id);
