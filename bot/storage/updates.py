"""The update ledger's rows: updates recorded before Telegram forgets them.

A payload is kept only while the update may still need handling (names, phone numbers and
message texts are in it): handling, dropping or giving up on an update clears it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.clock import iso
from bot.core.states import UpdateState
from bot.storage.db import Reader, Tx
from bot.storage.records import RecordedUpdate


async def record_updates(
    tx: Tx, updates: Sequence[tuple[int, str] | tuple[int, str, str]], now: datetime
) -> list[tuple[int, bool]]:
    """Remember updates as they arrive, counted as one attempt; (update_id, new?) for each.

    Each is (update_id, payload) or (update_id, payload, chat key): the key by which workers sharing
    PostgreSQL claim a chat's updates together (``claim_chats``). An update id already in the
    ledger (Telegram delivering it again) is left as it is.
    """
    out = []
    for update_id, payload, *key in updates:
        cur = await tx.execute(
            "INSERT INTO updates (update_id, received_at, payload, attempts, chat_key) VALUES (?, ?, ?, 1, ?) "
            "ON CONFLICT DO NOTHING",
            (update_id, iso(now), payload, key[0] if key else None),
        )
        out.append((update_id, cur.rowcount == 1))
    return out


# ---------------------------------------------------------------- several workers (PostgreSQL only)


async def claim_chats(db: Reader, worker: str, lease_seconds: float, max_chats: int = 64) -> list[RecordedUpdate]:
    """Take every waiting update of chats that no other live worker holds, in update order (PostgreSQL).

    A worker holds a chat while any of the chat's waiting updates carries its unexpired lease, so a
    chat is never handled by two workers at once, and a chat's updates go to one worker together,
    whose per-chat queue keeps their order. Candidate chats are locked for this transaction
    (``pg_try_advisory_xact_lock``: a chat another worker is claiming right now is skipped); the
    lease check then runs as a new statement, which under READ COMMITTED sees every claim committed
    before the lock was granted. An update taken again after its worker's lease ran out counts one
    more attempt. All of it is one call of ``alur_claim_chats`` (migration 0015): one round trip, its
    own transaction. Should its answer be lost, what it claimed is not renewed (``renew_leases``
    renews only what the worker holds) and is taken over once the lease runs out.
    """
    rows = await db.fetchall("SELECT * FROM alur_claim_chats(?, ?, ?)", (worker, float(lease_seconds), max_chats))
    return sorted((RecordedUpdate.from_row(row) for row in rows), key=lambda u: u.update_id)


async def renew_leases(tx: Tx, worker: str, lease_seconds: float, update_ids: Sequence[int]) -> set[int]:
    """The worker is alive: the waiting updates it holds stay its own for another lease (PostgreSQL);
    which of them are still waiting."""
    if not update_ids:
        return set()
    rows = await tx.fetchall(
        "UPDATE updates SET lease_until = now() + make_interval(secs => ?) "
        "WHERE worker = ? AND state = 'received' AND update_id = ANY(?::bigint[]) RETURNING update_id",
        (float(lease_seconds), worker, list(update_ids)))
    return {int(row["update_id"]) for row in rows}


async def announce_updates(tx: Tx) -> None:
    """Wake the workers waiting for updates to claim (PostgreSQL NOTIFY, delivered at commit)."""
    await tx.execute(f"NOTIFY {UPDATES_CHANNEL}")


UPDATES_CHANNEL = "alur_updates"


async def update_states(r: Reader, update_ids: Sequence[int]) -> dict[int, tuple[UpdateState, int]]:
    if not update_ids:
        return {}
    marks = ",".join("?" for _ in update_ids)
    rows = await r.fetchall(f"SELECT update_id, state, attempts FROM updates WHERE update_id IN ({marks})",
                            list(update_ids))
    return {int(row["update_id"]): (UpdateState(row["state"]), int(row["attempts"])) for row in rows}


async def count_attempt(tx: Tx, update_id: int) -> int:
    """One more attempt at an update still waiting to be handled; the attempts so far."""
    await tx.execute("UPDATE updates SET attempts = attempts + 1 WHERE update_id = ? AND state = 'received'",
                     (update_id,))
    row = await tx.fetchone("SELECT attempts FROM updates WHERE update_id = ?", (update_id,))
    return int(row["attempts"]) if row else 0


async def begin_update(tx: Tx, update_id: int) -> tuple[UpdateState, int] | None:
    """Count one more attempt at handling an update; (state, attempts) or None if it was never recorded."""
    await tx.execute("UPDATE updates SET attempts = attempts + 1 WHERE update_id = ? AND state = 'received'",
                     (update_id,))
    row = await tx.fetchone("SELECT state, attempts FROM updates WHERE update_id = ?", (update_id,))
    return (UpdateState(row["state"]), int(row["attempts"])) if row else None


async def finish_update(tx: Tx, update_id: int, state: UpdateState, now: datetime) -> None:
    await finish_updates(tx, [(update_id, state)], now)


async def finish_updates(tx: Tx, finished: Sequence[tuple[int, UpdateState]], now: datetime) -> None:
    """Mark updates handled, dropped or failed, and forget their payloads."""
    await tx.executemany(
        "UPDATE updates SET state = ?, handled_at = ?, payload = NULL WHERE update_id = ?",
        [(state, iso(now), update_id) for update_id, state in finished],
    )


async def unfinished_updates(r: Reader) -> list[RecordedUpdate]:
    rows = await r.fetchall("SELECT * FROM updates WHERE state = 'received' ORDER BY update_id")
    return [RecordedUpdate.from_row(row) for row in rows]


async def prune_updates(tx: Tx, before: datetime) -> int:
    cur = await tx.execute("DELETE FROM updates WHERE state != 'received' AND received_at < ?", (iso(before),))
    return cur.rowcount
