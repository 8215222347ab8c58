-- The updates table is a queue: every row is inserted 'received', claimed, then marked handled,
-- and each of those writes leaves a dead index entry behind until VACUUM. A bitmap index scan
-- visits every dead entry on every call, so under churn a claim cost milliseconds of the server's
-- CPU and grew with the traffic since the last vacuum (measured: 3-5 ms per empty claim after a
-- 6,000-update run, 0.06 ms once the dead entries were marked). A plain index scan marks the
-- entries it finds dead (kill_prior_tuple), so the next claim skips them: the claim function
-- plans without bitmap scans.
ALTER FUNCTION alur_claim_chats(TEXT, DOUBLE PRECISION, INTEGER, TEXT[]) SET enable_bitmapscan = off;

-- Vacuum the two queue tables after a fixed number of dead rows, not a fifth of the table (the
-- default), so a large table's queue scans do not wait for hundreds of thousands of dead rows.
ALTER TABLE updates SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 5000,
                         autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 5000,
                        autovacuum_analyze_scale_factor = 0.05);
