-- PostgreSQL only (several workers claim updates through alur_claim_chats); SQLite runs one
-- process and has nothing to claim. Kept so both backends count the same schema versions.
SELECT 1;
