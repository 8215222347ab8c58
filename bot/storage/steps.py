"""Step instances: the open and finished steps of each case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.storage.db import Reader, Tx
from bot.storage.records import FinishedStep, OpenStepView, StepInstance, StepTiming


async def insert_step(
    tx: Tx, *, case_id: int, step_no: str, role: str, holder_id: int | None, acting_for_id: int | None,
    now: datetime, due_at: datetime | None, remind_at: datetime | None, prewarn_at: datetime | None,
    escalate_at: datetime | None,
) -> int:
    alarms = [t for t in (remind_at, prewarn_at, due_at, escalate_at) if t is not None]
    return await tx.insert(
        "INSERT INTO step_instances (case_id, step_no, role, state, holder_id, acting_for_id, opened_at, due_at, "
        "remind_at, prewarn_at, escalate_at, next_alarm_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, step_no, role, holder_id, acting_for_id, iso(now), iso(due_at), iso(remind_at), iso(prewarn_at),
         iso(escalate_at), iso(min(alarms)) if alarms else None),
    )


async def step(r: Reader, step_id: int) -> StepInstance | None:
    row = await r.fetchone("SELECT * FROM step_instances WHERE id = ?", (step_id,))
    return StepInstance.from_row(row) if row else None


async def steps_of_case(r: Reader, case_id: int) -> list[StepInstance]:
    rows = await r.fetchall("SELECT * FROM step_instances WHERE case_id = ? ORDER BY id", (case_id,))
    return [StepInstance.from_row(row) for row in rows]


async def open_steps_of_case(r: Reader, case_id: int) -> list[StepInstance]:
    rows = await r.fetchall(
        "SELECT * FROM step_instances WHERE case_id = ? AND state = 'open' ORDER BY id", (case_id,)
    )
    return [StepInstance.from_row(row) for row in rows]


async def open_steps_held_by(r: Reader, person_id: int) -> list[StepInstance]:
    rows = await r.fetchall(
        "SELECT * FROM step_instances WHERE holder_id = ? AND state = 'open' "
        "ORDER BY due_at IS NULL, due_at, id",
        (person_id,),
    )
    return [StepInstance.from_row(row) for row in rows]


async def unassigned_open_steps(r: Reader) -> list[StepInstance]:
    rows = await r.fetchall("SELECT * FROM step_instances WHERE state = 'open' AND holder_id IS NULL ORDER BY id")
    return [StepInstance.from_row(row) for row in rows]


async def unassigned_open_steps_of_case(r: Reader, case_id: int) -> list[StepInstance]:
    rows = await r.fetchall(
        "SELECT * FROM step_instances WHERE case_id = ? AND state = 'open' AND holder_id IS NULL", (case_id,)
    )
    return [StepInstance.from_row(row) for row in rows]


async def finish_step(
    tx: Tx, step_id: int, *, by: int, now: datetime, outcome: str, branch_label: str | None, note: str | None,
) -> bool:
    """Close an open step; False when it was not open any more (someone else won)."""
    cur = await tx.execute(
        "UPDATE step_instances SET state = 'done', completed_at = ?, completed_by = ?, outcome = ?, branch_label = ?, "
        "note = ?, next_alarm_at = NULL WHERE id = ? AND state = 'open'",
        (iso(now), by, outcome, branch_label, note, step_id),
    )
    return cur.rowcount == 1


async def cancel_open_steps(tx: Tx, case_id: int, now: datetime) -> list[int]:
    rows = await tx.fetchall("SELECT id FROM step_instances WHERE case_id = ? AND state = 'open'", (case_id,))
    await tx.execute(
        "UPDATE step_instances SET state = 'cancelled', completed_at = ?, next_alarm_at = NULL "
        "WHERE case_id = ? AND state = 'open'",
        (iso(now), case_id),
    )
    return [row["id"] for row in rows]


async def set_holder(tx: Tx, step_id: int, holder_id: int | None, acting_for_id: int | None) -> bool:
    cur = await tx.execute(
        "UPDATE step_instances SET holder_id = ?, acting_for_id = ? WHERE id = ? AND state = 'open'",
        (holder_id, acting_for_id, step_id),
    )
    return cur.rowcount == 1


async def completed_steps(r: Reader, *, since: datetime | None = None) -> list[FinishedStep]:
    """Completed step instances with their case's SOP (for standard-time analytics)."""
    sql = (
        "SELECT s.*, c.sop_id, c.sop_hash, c.unit, c.institution FROM step_instances s "
        "JOIN cases c ON c.id = s.case_id WHERE s.state = 'done'"
    )
    params: list[Any] = []
    if since:
        sql += " AND s.completed_at >= ?"
        params.append(iso(since))
    return [FinishedStep.from_row(row) for row in await r.fetchall(sql + " ORDER BY s.id", params)]


async def open_steps_overview(r: Reader) -> list[OpenStepView]:
    """Every open step with its case's number, institution and unit (one scan for all digests)."""
    rows = await r.fetchall(
        "SELECT s.id, s.step_no, s.role, s.holder_id, s.due_at, s.opened_at, c.register_no, c.institution, c.unit "
        "FROM step_instances s JOIN cases c ON c.id = s.case_id WHERE s.state = 'open' ORDER BY s.due_at"
    )
    return [OpenStepView.from_row(row) for row in rows]


async def steps_completed_between(r: Reader, start: datetime, end: datetime) -> list[StepTiming]:
    rows = await r.fetchall(
        "SELECT s.completed_at, s.due_at, c.institution, c.unit FROM step_instances s JOIN cases c "
        "ON c.id = s.case_id WHERE s.state = 'done' AND s.completed_at >= ? AND s.completed_at < ?",
        (iso(start), iso(end)),
    )
    return [StepTiming.from_row(row) for row in rows]


OPEN_STEP_SETS = {
    "overdue": ("s.due_at < ?", ("now",)),
    "due_today": ("s.due_at >= ? AND s.due_at < ?", ("now", "day_end")),
    "unassigned": ("s.holder_id IS NULL", ()),
}


async def open_steps_by_unit(
    r: Reader, which: str, now: datetime, day_end: datetime, per_unit: int
) -> tuple[dict[tuple[str, str], int], list[OpenStepView]]:
    """One set of open steps (overdue, due today or unassigned): how many per (institution, unit),
    and the first ``per_unit`` of each unit by due time. Costs the size of the set, read through
    the index on the due time (or the holder), never every open step."""
    condition, names = OPEN_STEP_SETS[which]
    values = {"now": iso(now), "day_end": iso(day_end)}
    rows = await r.fetchall(
        "SELECT * FROM (SELECT s.id, s.step_no, s.role, s.holder_id, s.due_at, s.opened_at, c.register_no, "
        "c.institution, c.unit, ROW_NUMBER() OVER (PARTITION BY c.institution, c.unit ORDER BY s.due_at, s.id) AS rn, "
        "COUNT(*) OVER (PARTITION BY c.institution, c.unit) AS n "
        f"FROM step_instances s JOIN cases c ON c.id = s.case_id WHERE s.state = 'open' AND {condition}) "
        "WHERE rn <= ? ORDER BY due_at, id",
        [*(values[n] for n in names), per_unit],
    )
    counts = {(row["institution"], row["unit"]): int(row["n"]) for row in rows}
    return counts, [OpenStepView.from_row(row) for row in rows]
