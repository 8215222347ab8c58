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


async def record_updates(tx: Tx, updates: Sequence[tuple[int, str]], now: datetime) -> list[tuple[int, bool]]:
    """Remember updates as they arrive, counted as one attempt; (update_id, new?) for each.

    An update id already in the ledger (Telegram delivering it again) is left as it is.
    """
    out = []
    for update_id, payload in updates:
        cur = await tx.execute(
            "INSERT INTO updates (update_id, received_at, payload, attempts) VALUES (?, ?, ?, 1) "
            "ON CONFLICT DO NOTHING",
            (update_id, iso(now), payload),
        )
        out.append((update_id, cur.rowcount == 1))
    return out


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
