"""Standard-time aggregates per SOP step and day, and per SOP step over all history, folded in as steps complete.

Each ``sla_daily`` row holds, for one (institution, unit, SOP, step, UTC day of completion) — the
place is the case's, so a unit's or an institution's numbers are a filter on the rows: how many were
completed, how many within their due time, and histograms (minutes -> count) of the working time taken
and of the standard time; ``sla_total`` holds the same per (SOP, step) over all days and places.
Medians over any range of days come from merged histograms, so a report costs the number of rows it
reads, not the number of completed steps. Minutes are kept exactly below 50 and to about 1% above
(:func:`bucket`): an exact histogram grows with every distinct duration ever seen, so a report over a
busy agency's history would still grow with its size. A watermark (completed_at, id) says how far the
fold has gone; what lies beyond it is read from ``step_instances`` directly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.clock import iso, parse_iso
from bot.storage.db import Reader, Tx
from bot.storage.records import FinishedStep

_STEP_COLUMNS = "s.*, c.sop_id, c.sop_hash, c.unit, c.institution"
EXACT_BELOW = 50
RATIO = 1.02
"""From ``EXACT_BELOW`` minutes on (where a 2% step is a minute or more) a histogram keeps one value per 2%
step, each within 1% of the truth: at most about 300 values per histogram for durations up to a month."""


def bucket(minutes: int) -> int:
    """The value a histogram keeps for ``minutes``: itself below 50, else the nearest 2% step."""
    if minutes < EXACT_BELOW:
        return minutes
    k = round(math.log(minutes / EXACT_BELOW) / math.log(RATIO))
    return round(EXACT_BELOW * RATIO**k)


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
    institution: str = ""
    unit: str = ""

    def add(self, taken: int, standard: int | None, on_time: bool) -> None:
        self.count += 1
        self.within += int(on_time)
        taken = bucket(taken)
        self.taken[taken] = self.taken.get(taken, 0) + 1
        if standard is not None:
            standard = bucket(standard)
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
    keys = row.keys()
    return DailyStats(row["sop_id"], row["step_no"], row["day"] if "day" in keys else "", row["role"],
                      int(row["count"]), int(row["within"]), _hist(row["taken"]), _hist(row["standard"]),
                      row["institution"] if "institution" in keys else "", row["unit"] if "unit" in keys else "")


def daily_row(row: Any) -> DailyStats:
    """A stored aggregate row as stats (a daily row, or an all-history one with an empty day and place)."""
    return _row(row)


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
        # the range on completed_at stands alone so the index is sought, not scanned (an OR alone scans it)
        sql += " AND s.completed_at >= ? AND (s.completed_at > ? OR s.id > ?)"
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


async def daily(r: Reader, *, from_day: str | None = None) -> list[DailyStats]:
    """Aggregates of every day from ``from_day`` on (all days without it)."""
    if from_day is None:
        rows = await r.fetchall("SELECT * FROM sla_daily")
    else:
        rows = await r.fetchall("SELECT * FROM sla_daily WHERE day >= ?", (from_day,))
    return [_row(row) for row in rows]


async def totals(r: Reader) -> list[DailyStats]:
    """The all-history aggregate of every SOP step (``day`` empty)."""
    return [_row(row) for row in await r.fetchall("SELECT * FROM sla_total")]


async def add_daily(tx: Tx, stats: Iterable[DailyStats], mark: tuple[datetime, int]) -> None:
    """Merge freshly folded stats into their day rows and their steps' totals, and move the watermark, in one
    transaction."""
    by_step: dict[tuple[str, str], DailyStats] = {}
    for s in stats:
        row = await tx.fetchone("SELECT * FROM sla_daily WHERE institution = ? AND unit = ? AND sop_id = ? "
                                "AND step_no = ? AND day = ?", (s.institution, s.unit, s.sop_id, s.step_no, s.day))
        merged = daily_row(row) if row else DailyStats(s.sop_id, s.step_no, s.day, s.role,
                                                       institution=s.institution, unit=s.unit)
        merged.merge(s)
        await tx.execute(
            "INSERT INTO sla_daily (institution, unit, sop_id, step_no, day, role, count, within, taken, "
            "standard) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (institution, unit, sop_id, step_no, day) "
            "DO UPDATE SET role = excluded.role, count = excluded.count, within = excluded.within, "
            "taken = excluded.taken, standard = excluded.standard",
            (merged.institution, merged.unit, merged.sop_id, merged.step_no, merged.day, merged.role, merged.count,
             merged.within, json.dumps(merged.taken, sort_keys=True), json.dumps(merged.standard, sort_keys=True)))
        step = by_step.setdefault((s.sop_id, s.step_no), DailyStats(s.sop_id, s.step_no, "", s.role))
        step.merge(s)
    for s in by_step.values():
        row = await tx.fetchone("SELECT * FROM sla_total WHERE sop_id = ? AND step_no = ?", (s.sop_id, s.step_no))
        merged = _row(row) if row else DailyStats(s.sop_id, s.step_no, "", s.role)
        merged.merge(s)
        await tx.execute(
            "INSERT INTO sla_total (sop_id, step_no, role, count, within, taken, standard) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sop_id, step_no) DO UPDATE SET role = excluded.role, "
            "count = excluded.count, within = excluded.within, taken = excluded.taken, standard = excluded.standard",
            (merged.sop_id, merged.step_no, merged.role, merged.count, merged.within,
             json.dumps(merged.taken, sort_keys=True), json.dumps(merged.standard, sort_keys=True)))
    await tx.execute("INSERT INTO sla_watermark (id, completed_at, step_id) VALUES (1, ?, ?) ON CONFLICT (id) "
                     "DO UPDATE SET completed_at = excluded.completed_at, step_id = excluded.step_id",
                     (iso(mark[0]), mark[1]))
