"""The alarm columns of open steps: reminders, due notices and escalations the sweep fires."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.storage.db import Reader, Tx
from bot.storage.records import AlarmStamps, StepInstance


async def alarms_due(r: Reader, now: datetime, limit: int = 1000) -> list[StepInstance]:
    """Open steps with an alarm (reminder, due notice, escalation) at or before ``now`` (uses the partial index)."""
    rows = await r.fetchall(
        # INDEXED BY: without ANALYZE statistics SQLite may pick the (state, due_at) index and sort
        # every open step; the partial index keeps a sweep's cost independent of how many are open.
        "SELECT * FROM step_instances INDEXED BY step_instances_alarm WHERE state = 'open' "
        "AND next_alarm_at IS NOT NULL AND next_alarm_at <= ? ORDER BY next_alarm_at LIMIT ?",
        (iso(now), limit),
    )
    return [StepInstance.from_row(row) for row in rows]


async def alarm_stamps(r: Reader, step_id: int) -> AlarmStamps | None:
    row = await r.fetchone(
        "SELECT state, next_alarm_at, remind_at, reminded_at, prewarn_at, prewarned_at, due_at, due_notified_at, "
        "escalate_at, escalation_level FROM step_instances WHERE id = ?",
        (step_id,),
    )
    return AlarmStamps.from_row(row) if row else None


async def update_alarms(tx: Tx, step_id: int, expected_next: datetime | None, **fields: Any) -> bool:
    """Record fired alarms; conditional on the step being open with the alarm we read (one sweeper wins)."""
    allowed = {"reminded_at", "prewarned_at", "due_notified_at", "escalate_at", "escalation_level", "next_alarm_at"}
    if set(fields) - allowed:
        raise ValueError(f"unknown alarm fields: {set(fields) - allowed}")
    cols = ", ".join(f"{k} = ?" for k in fields)
    values = [iso(v) if isinstance(v, datetime) else v for v in fields.values()]
    cur = await tx.execute(
        f"UPDATE step_instances SET {cols} WHERE id = ? AND state = 'open' AND next_alarm_at IS ?",
        (*values, step_id, iso(expected_next)),
    )
    return cur.rowcount == 1
