"""The append-only event log (the audit trail)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.storage.db import Reader, Tx, to_json
from bot.storage.records import Event


async def insert_event(
    tx: Tx, *, type: str, now: datetime, case_id: int | None = None, step_instance_id: int | None = None,
    actor_id: int | None = None, on_behalf_of: int | None = None, data: dict[str, Any] | None = None,
) -> int:
    return await tx.insert(
        "INSERT INTO events (at, case_id, step_instance_id, actor_id, on_behalf_of, type, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (iso(now), case_id, step_instance_id, actor_id, on_behalf_of, type, to_json(data or {})),
    )


_COLUMNS = "id, at, case_id, step_instance_id, actor_id, on_behalf_of, type, data"


async def events_of_case(r: Reader, case_id: int) -> list[Event]:
    """A case's audit trail, archived events included (see storage.retention)."""
    rows = await r.fetchall(
        f"SELECT {_COLUMNS} FROM events WHERE case_id = ? UNION ALL "
        f"SELECT {_COLUMNS} FROM events_archive WHERE case_id = ? ORDER BY id", (case_id, case_id))
    return [Event.from_row(row) for row in rows]


async def events(r: Reader, *, types: Sequence[str] | None = None, after_id: int = 0) -> list[Event]:
    sql, params = "SELECT * FROM events WHERE id > ?", [after_id]
    if types:
        sql += f" AND type IN ({','.join('?' for _ in types)})"
        params.extend(types)
    rows = await r.fetchall(sql + " ORDER BY id", params)
    return [Event.from_row(row) for row in rows]
