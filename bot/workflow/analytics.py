"""Standard-time analytics: real working time per completed step against the SOP's standard."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from bot import storage
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.storage.db import Database


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


async def sla_report(
    db: Database, catalog: Catalog, calendar: WorkCalendar, *, since: datetime | None = None
) -> list[StepStats]:
    """Per SOP step: how many were completed, median working minutes taken, standard, share on time."""
    groups: dict[tuple[str, str], list[tuple[int, int | None, bool]]] = {}
    roles: dict[tuple[str, str], str] = {}
    for done in await storage.steps.completed_steps(db, since=since):
        step = done.step
        opened, completed, due = step.opened_at, step.completed_at, step.due_at
        assert completed is not None
        if due is None and completed == opened:
            continue  # the requester's filing step, done the moment the case opened
        taken = calendar.working_minutes(opened, completed)
        standard = calendar.working_minutes(opened, due) if due else None
        key = (done.sop_id, step.step_no)
        groups.setdefault(key, []).append((taken, standard, due is not None and completed <= due))
        roles[key] = step.role
    out: list[StepStats] = []
    for (sop_id, step_no), rows in sorted(groups.items(), key=lambda kv: (kv[0][0], _step_order(kv[0][1]))):
        sop = catalog.get(sop_id)
        step = sop.step(step_no) if sop and sop.has_step(step_no) else None
        standards = [s for _, s, _ in rows if s is not None]
        out.append(
            StepStats(
                sop_id=sop_id,
                sop_title=sop.title if sop else sop_id,
                step_no=step_no,
                role=catalog.roles.name(roles[(sop_id, step_no)]),
                standard_text=(step.duration_text or "-") if step else "-",
                standard_minutes=int(statistics.median(standards)) if standards else None,
                count=len(rows),
                median_minutes=float(statistics.median(t for t, _, _ in rows)),
                within_standard=sum(1 for _, _, ok in rows if ok),
            )
        )
    return out
