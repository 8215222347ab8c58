"""The SOP versions cases pinned (content hash and snapshot)."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.storage.db import Reader, Tx


async def ensure_sop_version(tx: Tx, *, sop_id: str, sop_hash: str, snapshot: str, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO sop_versions (hash, sop_id, snapshot, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (sop_hash, sop_id, snapshot, iso(now)),
    )


async def sop_snapshot(r: Reader, sop_hash: str) -> str | None:
    row = await r.fetchone("SELECT snapshot FROM sop_versions WHERE hash = ?", (sop_hash,))
    return row["snapshot"] if row else None
