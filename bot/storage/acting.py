"""Acting officials (Plt/Plh): who acts for whom, and when."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.storage.db import Reader, Tx
from bot.storage.records import ActingArrangement


async def insert_acting(
    tx: Tx, *, absent_id: int, acting_id: int, kind: str, start: str, end: str, reason: str, now: datetime
) -> int:
    return await tx.insert(
        "INSERT INTO acting (absent_id, acting_id, kind, start_date, end_date, reason, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (absent_id, acting_id, kind, start, end, reason, iso(now)),
    )


async def acting_for(r: Reader, absent_id: int, day: str) -> ActingArrangement | None:
    """The latest acting arrangement covering ``day`` (ISO date) for an absent person."""
    row = await r.fetchone(
        "SELECT * FROM acting WHERE absent_id = ? AND start_date <= ? AND end_date >= ? ORDER BY id DESC LIMIT 1",
        (absent_id, day, day),
    )
    return ActingArrangement.from_row(row) if row else None
