-- A claim in one call (storage.updates.claim_chats): the three statements of a claim ran as a
-- transaction of five round trips per claim, a cost every worker paid on every wake-up. A VOLATILE
-- plpgsql function under READ COMMITTED takes a new snapshot for each statement, so the lease check
-- still sees every claim committed before this call's chat locks were granted. ``p_skip``: chats
-- the caller holds back (webhook mode: an earlier update of theirs may still be on its way in).
CREATE FUNCTION alur_claim_chats(p_worker TEXT, p_lease DOUBLE PRECISION, p_max INTEGER, p_skip TEXT[])
RETURNS TABLE (update_id BIGINT, payload TEXT, state TEXT, attempts INTEGER, received_at TEXT)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    candidates TEXT[];
    mine TEXT[];
BEGIN
    SELECT array_agg(c.k ORDER BY c.first) INTO candidates FROM (
        SELECT COALESCE(w.chat_key, '') AS k, MIN(w.update_id) AS first FROM updates w
        WHERE w.state = 'received' AND (w.lease_until IS NULL OR w.lease_until < now())
          AND COALESCE(w.chat_key, '') <> ALL(p_skip)
        GROUP BY w.chat_key ORDER BY first LIMIT p_max) c;
    IF candidates IS NULL THEN
        RETURN;
    END IF;
    SELECT array_agg(k) INTO mine FROM unnest(candidates) AS k
    WHERE pg_try_advisory_xact_lock(hashtextextended('alur-chat:' || k, 0));
    IF mine IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    UPDATE updates u SET worker = p_worker, lease_until = now() + make_interval(secs => p_lease),
        attempts = u.attempts + CASE WHEN u.worker IS NULL THEN 0 ELSE 1 END
    WHERE u.state = 'received' AND COALESCE(u.chat_key, '') = ANY(mine)
      AND (u.lease_until IS NULL OR u.lease_until < now())
      AND NOT EXISTS (SELECT 1 FROM updates o WHERE o.state = 'received'
                      AND o.chat_key IS NOT DISTINCT FROM u.chat_key AND o.lease_until >= now()
                      AND o.worker <> p_worker)
    RETURNING u.update_id, u.payload, u.state, u.attempts, u.received_at;
END
$$;
