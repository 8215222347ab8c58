-- The workers that claimed updates lately (`alur doctor`, storage.workers.recent_claimers) are the rows
-- whose lease ran until the last minutes. Handled updates keep their worker and lease and are kept for
-- the retention period, so without this index the query read the whole table (a month of updates).
CREATE INDEX updates_claimed ON updates (lease_until) WHERE worker IS NOT NULL;
