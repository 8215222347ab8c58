-- PostgreSQL twin of ../0014_shared_workers.sql: the claim columns, and the pacing rows all workers
-- share so Telegram's limits hold for the bot as a whole (storage.pacing).

ALTER TABLE updates ADD COLUMN chat_key TEXT COLLATE "C";
ALTER TABLE updates ADD COLUMN worker TEXT COLLATE "C";
ALTER TABLE updates ADD COLUMN lease_until TIMESTAMPTZ;
CREATE INDEX updates_waiting ON updates (chat_key, update_id) WHERE state = 'received';

CREATE TABLE send_pacing (
    key         TEXT COLLATE "C" PRIMARY KEY,
    next_at     TIMESTAMPTZ NOT NULL
);
INSERT INTO send_pacing (key, next_at) VALUES ('*', now());

-- One send's moment. A chat still paced (or with a send in flight) reserves nothing: minus the
-- seconds until it is free (the caller asks again then), so a send waiting for its chat never holds
-- up other chats. A free chat takes the next bot-wide slot, which moves on by its interval, and is
-- marked in flight (for at most IN_FLIGHT seconds, should its worker die) until alur_sent says
-- Telegram answered: the chat's next send is then paced from that answer, as on one process.
CREATE FUNCTION alur_reserve_send(chat TEXT, chat_interval DOUBLE PRECISION, overall_interval DOUBLE PRECISION)
RETURNS DOUBLE PRECISION LANGUAGE plpgsql AS $$
DECLARE
    overall TIMESTAMPTZ;
    mine TIMESTAMPTZ;
    at TIMESTAMPTZ;
BEGIN
    SELECT next_at INTO overall FROM send_pacing WHERE key = '*' FOR UPDATE;
    INSERT INTO send_pacing (key, next_at) VALUES (chat, clock_timestamp()) ON CONFLICT (key) DO NOTHING;
    SELECT next_at INTO mine FROM send_pacing WHERE key = chat FOR UPDATE;
    IF mine > clock_timestamp() THEN
        RETURN -GREATEST(0.001, EXTRACT(EPOCH FROM mine - clock_timestamp()));
    END IF;
    at := GREATEST(clock_timestamp(), overall);
    UPDATE send_pacing SET next_at = at + make_interval(secs => overall_interval) WHERE key = '*';
    UPDATE send_pacing SET next_at = at + make_interval(secs => GREATEST(chat_interval, 30)) WHERE key = chat;
    RETURN GREATEST(0, EXTRACT(EPOCH FROM at - clock_timestamp()));
END
$$;

CREATE FUNCTION alur_sent(chat TEXT, pause DOUBLE PRECISION) RETURNS VOID LANGUAGE sql AS $$
    UPDATE send_pacing SET next_at = clock_timestamp() + make_interval(secs => pause) WHERE key = chat;
$$;
