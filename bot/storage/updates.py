"""The update ledger's rows: updates recorded before Telegram forgets them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.clock import iso
from bot.core.states import UpdateState
from bot.storage.db import Reader, Tx
from bot.storage.records import RecordedUpdate


async def record_updates(tx: Tx, updates: Sequence[tuple[int, str]], now: datetime) -> int:
    """Remember updates as they arrive, before Telegram is told they were received."""
    count = 0
    for update_id, payload in updates:
        cur = await tx.execute(
            "INSERT INTO updates (update_id, received_at, payload) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (update_id, iso(now), payload),
        )
        count += cur.rowcount
    return count


async def begin_update(tx: Tx, update_id: int) -> tuple[UpdateState, int] | None:
    """Count one more attempt at handling an update; (state, attempts) or None if it was never recorded."""
    await tx.execute("UPDATE updates SET attempts = attempts + 1 WHERE update_id = ? AND state = 'received'",
                     (update_id,))
    row = await tx.fetchone("SELECT state, attempts FROM updates WHERE update_id = ?", (update_id,))
    return (UpdateState(row["state"]), int(row["attempts"])) if row else None


async def finish_update(tx: Tx, update_id: int, state: UpdateState, now: datetime) -> None:
    await tx.execute("UPDATE updates SET state = ?, handled_at = ? WHERE update_id = ?", (state, iso(now), update_id))


async def unfinished_updates(r: Reader) -> list[RecordedUpdate]:
    rows = await r.fetchall("SELECT * FROM updates WHERE state = 'received' ORDER BY update_id")
    return [RecordedUpdate.from_row(row) for row in rows]


async def prune_updates(tx: Tx, before: datetime) -> int:
    cur = await tx.execute("DELETE FROM updates WHERE state != 'received' AND received_at < ?", (iso(before),))
    return cur.rowcount
