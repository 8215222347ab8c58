-- Security (issue 11): cases keep the requester's name and agency as filed; drafts remember the
-- intake form their answers belong to; an invite can prove the identity of a person the people
-- file lists by @username.

ALTER TABLE cases ADD COLUMN requester_name TEXT;
ALTER TABLE cases ADD COLUMN requester_opd TEXT;
ALTER TABLE cases ADD COLUMN requester_agency TEXT;
-- Cases filed before this migration: the requester as stored now is the best record there is.
UPDATE cases SET
    requester_name = (SELECT p.name FROM people p WHERE p.id = cases.requester_id),
    requester_opd = (SELECT p.opd FROM people p WHERE p.id = cases.requester_id);

ALTER TABLE drafts ADD COLUMN intake_hash TEXT;

ALTER TABLE invites ADD COLUMN person_id INTEGER REFERENCES people (id);
