"""Retention: what the bot may forget, and the archive of old audit events.

* sent (and dead) outbox rows older than the retention period are deleted (a digest's link to its
  outbox row is cleared first);
* handled updates are deleted by ``storage.updates.prune_updates`` (their payloads are gone already);
* on PostgreSQL, the shared pacing rows of chats free for an hour (``storage.pacing.prune_pacing``);
* events of cases closed before the cut-off move to ``events_archive``: same rows, append-only
  too, so ``/riwayat`` and an audit still find them; only the hot ``events`` table shrinks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import iso
from bot.storage.db import Reader, Tx
from bot.storage.dialect import Dialect


@dataclass(frozen=True)
class Pruned:
    outbox: int = 0
    updates: int = 0
    events_archived: int = 0
    pacing: int = 0


async def prune_outbox(tx: Tx, before: datetime) -> int:
    """Delete delivered (and given-up) messages created before ``before``."""
    cut = iso(before)
    await tx.execute(
        "UPDATE digests SET outbox_id = NULL WHERE outbox_id IN "
        "(SELECT id FROM outbox WHERE state IN ('sent', 'dead') AND created_at < ?)", (cut,))
    cur = await tx.execute("DELETE FROM outbox WHERE state IN ('sent', 'dead') AND created_at < ?", (cut,))
    return cur.rowcount


async def archive_events(tx: Tx, closed_before: datetime, now: datetime, limit: int = 50_000) -> int:
    """Move the events of cases closed before ``closed_before`` to the archive (at most ``limit`` per call)."""
    cases = "SELECT id FROM cases WHERE state != 'open' AND closed_at IS NOT NULL AND closed_at < ?"
    rows = await tx.fetchall(
        f"SELECT id FROM events WHERE case_id IN ({cases}) ORDER BY id LIMIT ?", (iso(closed_before), limit))
    ids = [int(r["id"]) for r in rows]
    if not ids:
        return 0
    moved = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        await tx.execute(
            "INSERT INTO events_archive (id, at, case_id, step_instance_id, actor_id, on_behalf_of, type, "
            f"data, archived_at) SELECT id, at, case_id, step_instance_id, actor_id, on_behalf_of, type, data, ? "
            f"FROM events WHERE id IN ({marks}) ON CONFLICT DO NOTHING", (iso(now), *chunk))
        cur = await tx.execute(f"DELETE FROM events WHERE id IN ({marks})", chunk)
        moved += cur.rowcount
        await asyncio.sleep(0)  # statements run on the event loop's thread: a large backlog leaves it between chunks
    return moved


async def counts(r: Reader) -> dict[str, int]:
    out = {}
    for table in ("outbox", "updates", "events", "events_archive"):
        row = await r.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
        out[table] = int(row["n"]) if row else 0
    return out


async def prune(db: Any, now: datetime, days: int, *, archive: bool = True) -> Pruned:
    """Apply the retention period: delete old sent outbox rows and handled updates, archive old events;
    on PostgreSQL also forget the pacing of chats long free."""
    from bot.storage import pacing, updates

    before = now - timedelta(days=days)
    async with db.transaction() as tx:
        outbox = await prune_outbox(tx, before)
        pruned_updates = await updates.prune_updates(tx, before)
        paced = await pacing.prune_pacing(tx) if db.dialect == Dialect.POSTGRESQL else 0
    archived = 0
    while archive:
        async with db.transaction() as tx:
            moved = await archive_events(tx, before, now, limit=20_000)
        archived += moved
        if moved < 20_000:
            break
    return Pruned(outbox, pruned_updates, archived, paced)
