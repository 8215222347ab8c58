"""Bulk rows for `alur bench`: many open cases at once, without the workflow's events and notices.

The running bot never calls these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.storage.db import Reader, Tx


async def bench_max_case_id(r: Reader) -> int:
    row = await r.fetchone("SELECT MAX(id) AS m FROM cases")
    return int(row["m"] or 0) if row else 0


async def bench_insert_open_cases(
    tx: Tx, cases: Sequence[tuple[Any, ...]], steps: Sequence[tuple[Any, ...]]
) -> None:
    """Open cases and their open steps in two bulk statements.

    ``cases``: (id, register_no, sop_id, sop_hash, institution, unit, requester_id, title, created_at);
    ``steps``: (case_id, step_no, role, holder_id, opened_at, due_at, remind_at, prewarn_at, escalate_at),
    times as stored (ISO-8601 UTC text); ``next_alarm_at`` is the earliest alarm, as insert_step sets it.
    """
    await tx.executemany(
        "INSERT INTO cases (id, register_no, sop_id, sop_hash, institution, unit, requester_id, title, intake, "
        "state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', 'open', ?)",
        cases,
    )
    await tx.executemany(
        "INSERT INTO step_instances (case_id, step_no, role, state, holder_id, opened_at, due_at, remind_at, "
        "prewarn_at, escalate_at, next_alarm_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)",
        [(*row, min((t for t in row[5:9] if t is not None), default=None)) for row in steps],
    )


async def bench_insert_history(
    tx: Tx, steps: Sequence[tuple[Any, ...]], events: Sequence[tuple[Any, ...]]
) -> None:
    """Finished steps and their audit events, in bulk.

    ``steps``: (case_id, step_no, role, holder_id, opened_at, due_at, completed_at, completed_by);
    ``events``: (at, case_id, actor_id, type, data JSON).
    """
    await tx.executemany(
        "INSERT INTO step_instances (case_id, step_no, role, state, holder_id, opened_at, due_at, completed_at, "
        "completed_by, outcome) VALUES (?, ?, ?, 'done', ?, ?, ?, ?, ?, 'done')",
        steps,
    )
    await tx.executemany(
        "INSERT INTO events (at, case_id, actor_id, type, data) VALUES (?, ?, ?, ?, ?)", events)
