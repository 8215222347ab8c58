-- PostgreSQL only (the claim function and the queue tables' vacuum settings); SQLite has no
-- planner settings per function and no autovacuum. Kept so both backends count the same schema versions.
SELECT 1;
