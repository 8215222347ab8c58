"""Which supervisor got which day's digest (one per day, across restarts)."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.storage.db import Reader, Tx


async def claim_digest(tx: Tx, person_id: int, day: str, now: datetime) -> bool:
    """True the first time a person's digest for ``day`` is claimed (once per day, across restarts)."""
    cur = await tx.execute(
        "INSERT INTO digests (person_id, day, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (person_id, day, iso(now)),
    )
    return cur.rowcount == 1


async def set_digest_outbox(tx: Tx, person_id: int, day: str, outbox_id: int | None) -> None:
    await tx.execute("UPDATE digests SET outbox_id = ? WHERE person_id = ? AND day = ?", (outbox_id, person_id, day))


async def digests_on(r: Reader, day: str) -> set[int]:
    rows = await r.fetchall("SELECT person_id FROM digests WHERE day = ?", (day,))
    return {int(row["person_id"]) for row in rows}


async def last_digest_at(r: Reader, person_id: int) -> str | None:
    row = await r.fetchone("SELECT MAX(created_at) AS t FROM digests WHERE person_id = ?", (person_id,))
    return row["t"] if row else None
