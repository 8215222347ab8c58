-- PostgreSQL only (an index for `alur doctor`'s recent claimers, storage.workers.recent_claimers);
-- SQLite runs one process and never claims. Kept so both backends count the same schema versions.
SELECT 1;
