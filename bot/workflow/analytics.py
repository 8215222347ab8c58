"""Standard-time analytics: real working time per completed step against the SOP's standard.

Completed steps are folded into per-day aggregates (``storage.sla``) as they complete (the clock
tick does it each minute, for steps completed more than ``FOLD_MARGIN`` ago, so a transaction still
committing is never skipped). A report reads the aggregates plus the few steps past the fold, so its
cost does not grow with history. The medians are exact: the aggregates keep histograms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import storage
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.storage.db import Database, Reader
from bot.storage.records import FinishedStep
from bot.storage.sla import DailyStats

FOLD_MARGIN = timedelta(minutes=5)
FOLD_BATCH = 500
"""Steps folded per transaction: a first fold over a long history returns to the event loop often."""


@dataclass(frozen=True)
class StepStats:
    sop_id: str
    sop_title: str
    step_no: str
    role: str
    standard_text: str
    standard_minutes: int | None
    count: int
    median_minutes: float
    within_standard: int

    @property
    def within_share(self) -> float | None:
        return self.within_standard / self.count if self.count and self.standard_minutes is not None else None


def _step_order(step_no: str) -> tuple[int, str]:
    digits = "".join(ch for ch in step_no if ch.isdigit())
    return (int(digits) if digits else 10**6, step_no)


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _measure(done: FinishedStep, calendar: WorkCalendar) -> tuple[int, int | None, bool] | None:
    step = done.step
    opened, completed, due = step.opened_at, step.completed_at, step.due_at
    assert completed is not None
    if due is None and completed == opened:
        return None  # the requester's filing step, done the moment the case opened
    taken = calendar.working_minutes(opened, completed)
    standard = calendar.working_minutes(opened, due) if due else None
    return taken, standard, due is not None and completed <= due


def _fold_into(groups: dict[tuple[str, str, str], DailyStats], rows: Iterable[FinishedStep],
               calendar: WorkCalendar) -> None:
    for done in rows:
        measured = _measure(done, calendar)
        if measured is None:
            continue
        step = done.step
        assert step.completed_at is not None
        day = _day(step.completed_at)
        key = (done.sop_id, step.step_no, day)
        stats = groups.get(key)
        if stats is None:
            stats = groups[key] = DailyStats(done.sop_id, step.step_no, day, step.role)
        stats.role = step.role
        stats.add(*measured)


async def fold_sla(db: Database, calendar: WorkCalendar, now: datetime, *, batch: int = FOLD_BATCH) -> int:
    """Fold steps completed before ``now - FOLD_MARGIN`` into the aggregates; how many were folded."""
    upto = now - FOLD_MARGIN
    folded = 0
    while True:
        mark = await storage.sla.watermark(db)
        rows = await storage.sla.completed_after(db, mark, upto=upto, limit=batch)
        if not rows:
            return folded
        groups: dict[tuple[str, str, str], DailyStats] = {}
        _fold_into(groups, rows, calendar)
        last = rows[-1].step
        assert last.completed_at is not None
        async with db.transaction() as tx:
            if await storage.sla.watermark(tx) != mark:
                continue  # another process folded meanwhile: start again from its mark
            await storage.sla.add_daily(tx, groups.values(), (last.completed_at, last.id))
        folded += len(rows)
        if len(rows) < batch:
            return folded


def _median(hist: dict[int, int]) -> float:
    total = sum(hist.values())
    ordered = sorted(hist.items())
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    lower = upper = None
    seen = 0
    for value, n in ordered:
        if lower is None and seen + n > lower_rank:
            lower = value
        if seen + n > upper_rank:
            upper = value
            break
        seen += n
    assert lower is not None and upper is not None
    return (lower + upper) / 2


async def sla_report(
    db: Reader, catalog: Catalog, calendar: WorkCalendar, *, since: datetime | None = None
) -> list[StepStats]:
    """Per SOP step: how many were completed, median working minutes taken, standard, share on time."""
    mark = await storage.sla.watermark(db)
    merged: dict[tuple[str, str], DailyStats] = {}

    def take(stats: DailyStats) -> None:
        key = (stats.sop_id, stats.step_no)
        if key not in merged:
            merged[key] = DailyStats(stats.sop_id, stats.step_no, "", stats.role)
        merged[key].merge(stats)

    for stats in await storage.sla.daily(db, after_day=_day(since) if since else None):
        take(stats)
    loose: dict[tuple[str, str, str], DailyStats] = {}
    if since is not None:  # the first day of the range, from its own rows (the aggregate covers all of it)
        first = since.astimezone(UTC)
        next_day = datetime.combine(first.date() + timedelta(days=1), datetime.min.time(), UTC)
        _fold_into(loose, await storage.sla.completed_between(db, since, next_day, mark), calendar)
    _fold_into(loose, await storage.sla.completed_after(db, mark, since=since), calendar)
    for stats in loose.values():
        take(stats)
    out: list[StepStats] = []
    for (sop_id, step_no), stats in sorted(merged.items(), key=lambda kv: (kv[0][0], _step_order(kv[0][1]))):
        if not stats.count:
            continue
        sop = catalog.get(sop_id)
        step = sop.step(step_no) if sop and sop.has_step(step_no) else None
        out.append(
            StepStats(
                sop_id=sop_id,
                sop_title=sop.title if sop else sop_id,
                step_no=step_no,
                role=catalog.roles.name(stats.role),
                standard_text=(step.duration_text or "-") if step else "-",
                standard_minutes=int(_median(stats.standard)) if stats.standard else None,
                count=stats.count,
                median_minutes=_median(stats.taken),
                within_standard=stats.within,
            )
        )
    return out
