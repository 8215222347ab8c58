"""Standard-time aggregates per SOP step and day, folded in as steps complete.

Each row holds, for one (SOP, step, UTC day of completion): how many were completed, how many
within their due time, and exact histograms (minutes -> count) of the working time taken and of
the standard time. Medians over any range of days come from merged histograms, so a report costs
the number of (step, day) rows, not the number of completed steps. A watermark (completed_at, id)
says how far the fold has gone; what lies beyond it is read from ``step_instances`` directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.clock import iso, parse_iso
from bot.storage.db import Reader, Tx
from bot.storage.records import FinishedStep

_STEP_COLUMNS = "s.*, c.sop_id, c.sop_hash, c.unit, c.institution"


@dataclass
class DailyStats:
    sop_id: str
    step_no: str
    day: str
    role: str
    count: int = 0
    within: int = 0
    taken: dict[int, int] = field(default_factory=dict)
    standard: dict[int, int] = field(default_factory=dict)

    def add(self, taken: int, standard: int | None, on_time: bool) -> None:
        self.count += 1
        self.within += int(on_time)
        self.taken[taken] = self.taken.get(taken, 0) + 1
        if standard is not None:
            self.standard[standard] = self.standard.get(standard, 0) + 1

    def merge(self, other: DailyStats) -> None:
        self.count += other.count
        self.within += other.within
        self.role = other.role or self.role
        for mine, theirs in ((self.taken, other.taken), (self.standard, other.standard)):
            for minutes, n in theirs.items():
                mine[minutes] = mine.get(minutes, 0) + n


def _hist(text: str) -> dict[int, int]:
    return {int(k): int(v) for k, v in json.loads(text or "{}").items()}


def _row(row: Any) -> DailyStats:
    return DailyStats(row["sop_id"], row["step_no"], row["day"], row["role"], int(row["count"]), int(row["within"]),
                      _hist(row["taken"]), _hist(row["standard"]))


async def watermark(r: Reader) -> tuple[datetime, int] | None:
    row = await r.fetchone("SELECT completed_at, step_id FROM sla_watermark WHERE id = 1")
    if row is None:
        return None
    at = parse_iso(row["completed_at"])
    assert at is not None
    return at, int(row["step_id"])


async def completed_after(
    r: Reader, after: tuple[datetime, int] | None, *, upto: datetime | None = None, since: datetime | None = None,
    limit: int | None = None,
) -> list[FinishedStep]:
    """Completed steps past the watermark (in completion order), optionally up to ``upto`` and from ``since``."""
    sql = f"SELECT {_STEP_COLUMNS} FROM step_instances s JOIN cases c ON c.id = s.case_id WHERE s.state = 'done'"
    params: list[Any] = []
    if after is not None:
        sql += " AND (s.completed_at > ? OR (s.completed_at = ? AND s.id > ?))"
        params += [iso(after[0]), iso(after[0]), after[1]]
    if upto is not None:
        sql += " AND s.completed_at <= ?"
        params.append(iso(upto))
    if since is not None:
        sql += " AND s.completed_at >= ?"
        params.append(iso(since))
    sql += " ORDER BY s.completed_at, s.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [FinishedStep.from_row(row) for row in await r.fetchall(sql, params)]


async def completed_between(
    r: Reader, start: datetime, before: datetime, end: tuple[datetime, int] | None
) -> list[FinishedStep]:
    """Completed steps from ``start`` to before ``before``, up to and including the watermark ``end``."""
    if end is None:
        return []
    sql = (f"SELECT {_STEP_COLUMNS} FROM step_instances s JOIN cases c ON c.id = s.case_id WHERE s.state = 'done' "
           "AND s.completed_at >= ? AND s.completed_at < ? "
           "AND (s.completed_at < ? OR (s.completed_at = ? AND s.id <= ?))")
    params: list[Any] = [iso(start), iso(before), iso(end[0]), iso(end[0]), end[1]]
    return [FinishedStep.from_row(row) for row in await r.fetchall(sql, params)]


async def daily(r: Reader, *, after_day: str | None = None) -> list[DailyStats]:
    """Aggregates of every day after ``after_day`` (all days without it)."""
    if after_day is None:
        rows = await r.fetchall("SELECT * FROM sla_daily")
    else:
        rows = await r.fetchall("SELECT * FROM sla_daily WHERE day > ?", (after_day,))
    return [_row(row) for row in rows]


async def add_daily(tx: Tx, stats: Iterable[DailyStats], mark: tuple[datetime, int]) -> None:
    """Merge freshly folded stats into their rows and move the watermark, in one transaction."""
    for s in stats:
        row = await tx.fetchone("SELECT * FROM sla_daily WHERE sop_id = ? AND step_no = ? AND day = ?",
                                (s.sop_id, s.step_no, s.day))
        merged = _row(row) if row else DailyStats(s.sop_id, s.step_no, s.day, s.role)
        merged.merge(s)
        await tx.execute(
            "INSERT INTO sla_daily (sop_id, step_no, day, role, count, within, taken, standard) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sop_id, step_no, day) DO UPDATE SET role = excluded.role, "
            "count = excluded.count, within = excluded.within, taken = excluded.taken, standard = excluded.standard",
            (merged.sop_id, merged.step_no, merged.day, merged.role, merged.count, merged.within,
             json.dumps(merged.taken, sort_keys=True), json.dumps(merged.standard, sort_keys=True)))
    await tx.execute("INSERT INTO sla_watermark (id, completed_at, step_id) VALUES (1, ?, ?) ON CONFLICT (id) "
                     "DO UPDATE SET completed_at = excluded.completed_at, step_id = excluded.step_id",
                     (iso(mark[0]), mark[1]))
