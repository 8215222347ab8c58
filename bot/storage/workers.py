"""What the workers sharing a database are doing, as the database sees it (for `alur doctor`); reads only.

* the updates waiting to be handled, how many of them a live worker has claimed (PostgreSQL), and
  the oldest;
* the live workers (PostgreSQL): each worker keeps one session named ``alur-leader`` for as long
  as it runs (``Database.lead``), and the elected roles are session advisory locks on it, so
  ``pg_stat_activity`` joined with ``pg_locks`` shows who runs and who holds which role;
* the workers that claimed updates lately, by the name they wrote on their leases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import parse_iso
from bot.core.states import Role
from bot.storage.db import Reader
from bot.storage.dialect import Dialect

LEADER_APPLICATION = "alur-leader"
"""The ``application_name`` of a worker's leadership session (bot/storage/postgres.py)."""


@dataclass(frozen=True)
class WaitingUpdates:
    waiting: int
    """Recorded, not yet handled (state 'received')."""
    leased: int
    """Of those, held by a live worker's unexpired lease (always 0 on SQLite)."""
    oldest: datetime | None
    """When the oldest waiting update was recorded."""

    @property
    def unclaimed(self) -> int:
        return self.waiting - self.leased


@dataclass(frozen=True)
class LiveWorker:
    pid: int
    """The server process of the worker's leadership session."""
    address: str | None
    """Where it connects from (None: a Unix socket, or a session this user may not inspect)."""
    since: datetime | None
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class Claimer:
    worker: str
    """The name the worker writes on its leases (host:pid:random)."""
    holding: int
    """Waiting updates under its unexpired lease now."""
    lease_until: datetime


async def waiting_updates(r: Reader, dialect: Dialect) -> WaitingUpdates:
    if dialect == Dialect.POSTGRESQL:
        row = await r.fetchone(
            "SELECT COUNT(*) AS waiting, COUNT(*) FILTER (WHERE lease_until >= now()) AS leased, "
            "MIN(received_at) AS oldest FROM updates WHERE state = 'received'")
    else:
        row = await r.fetchone(
            "SELECT COUNT(*) AS waiting, 0 AS leased, MIN(received_at) AS oldest FROM updates WHERE state = 'received'")
    assert row is not None
    return WaitingUpdates(int(row["waiting"]), int(row["leased"]), parse_iso(row["oldest"]))


async def live_workers(r: Reader) -> list[LiveWorker]:
    """The workers running now, with the roles each holds (PostgreSQL), oldest session first."""
    from bot.storage.postgres import lock_key  # asyncpg is loaded only by those who use it

    sessions = await r.fetchall(
        "SELECT pid, client_addr::text AS address, backend_start FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = ? ORDER BY backend_start, pid",
        (LEADER_APPLICATION,))
    # A bigint advisory key shows as its high half in classid and its low half in objid (objsubid 1).
    locks = await r.fetchall(
        "SELECT l.pid, l.classid::bigint AS high, l.objid::bigint AS low FROM pg_locks l "
        "JOIN pg_database d ON d.oid = l.database AND d.datname = current_database() "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1")
    by_key = {lock_key(role) & 0xFFFF_FFFF_FFFF_FFFF: role for role in Role}
    held: dict[int, list[Role]] = {}
    for lock in locks:
        role = by_key.get((int(lock["high"]) << 32) | int(lock["low"]))
        if role is not None:
            held.setdefault(int(lock["pid"]), []).append(role)
    return [LiveWorker(int(s["pid"]), s["address"], s["backend_start"],
                       tuple(sorted(held.get(int(s["pid"]), []), key=list(Role).index)))
            for s in sessions]


RECENT_CLAIMERS = (
    "SELECT worker, COUNT(*) FILTER (WHERE state = 'received' AND lease_until >= now()) AS holding, "
    "MAX(lease_until) AS lease_until FROM updates WHERE worker IS NOT NULL "
    "AND lease_until >= now() - make_interval(secs => ?) GROUP BY worker ORDER BY MAX(lease_until) DESC"
)
"""Read through the index ``updates_claimed`` (migration 0016): handled updates keep their worker and lease
for the retention period, so a scan would read a month of updates."""


async def recent_claimers(r: Reader, within_seconds: float) -> list[Claimer]:
    """Workers whose leases ran until at least ``within_seconds`` ago (PostgreSQL), the latest first."""
    rows = await r.fetchall(RECENT_CLAIMERS, (float(within_seconds),))
    return [Claimer(row["worker"], int(row["holding"]), row["lease_until"]) for row in rows]
