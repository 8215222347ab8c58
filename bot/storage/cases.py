"""Cases (filed requests) and their register numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.storage.db import Reader, Tx, to_json
from bot.storage.records import Case, NewCase


async def next_register_number(tx: Tx, prefix: str, year: int) -> int:
    await tx.execute(
        "INSERT INTO register_counters (prefix, year, last) VALUES (?, ?, 1) "
        "ON CONFLICT (prefix, year) DO UPDATE SET last = register_counters.last + 1",
        (prefix, year),
    )
    row = await tx.fetchone("SELECT last FROM register_counters WHERE prefix = ? AND year = ?", (prefix, year))
    assert row is not None
    return int(row["last"])


async def insert_case(
    tx: Tx, *, register_no: str, sop_id: str, sop_hash: str, institution: str, unit: str,
    requester_id: int, title: str, intake: dict[str, Any], now: datetime, requester_name: str = "",
    requester_opd: str | None = None, requester_agency: str = "",
) -> int:
    """A new open case; the requester's name and agency are stored as they are now (shown as filed, always)."""
    return await tx.insert(
        "INSERT INTO cases (register_no, sop_id, sop_hash, institution, unit, requester_id, title, intake, state, "
        "created_at, requester_name, requester_opd, requester_agency) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)",
        (register_no, sop_id, sop_hash, institution, unit, requester_id, title, to_json(intake), iso(now),
         requester_name, requester_opd, requester_agency),
    )


async def case(r: Reader, case_id: int) -> Case | None:
    row = await r.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))
    return Case.from_row(row) if row else None


async def case_by_register(r: Reader, register_no: str) -> Case | None:
    row = await r.fetchone("SELECT * FROM cases WHERE UPPER(register_no) = UPPER(?)", (register_no,))
    return Case.from_row(row) if row else None


async def close_case(tx: Tx, case_id: int, state: str, now: datetime, reason: str | None) -> bool:
    cur = await tx.execute(
        "UPDATE cases SET state = ?, closed_at = ?, closed_reason = ? WHERE id = ? AND state = 'open'",
        (state, iso(now), reason, case_id),
    )
    return cur.rowcount == 1


async def set_case_unassigned(tx: Tx, case_id: int, flag: bool) -> None:
    await tx.execute("UPDATE cases SET unassigned = ? WHERE id = ?", (int(flag), case_id))


async def cases_of_requester(r: Reader, person_id: int, limit: int = 20) -> list[Case]:
    rows = await r.fetchall(
        "SELECT * FROM cases WHERE requester_id = ? ORDER BY (state = 'open') DESC, id DESC LIMIT ?",
        (person_id, limit),
    )
    return [Case.from_row(row) for row in rows]


async def cases_touched_by(r: Reader, person_id: int, limit: int = 20) -> list[Case]:
    rows = await r.fetchall(
        "SELECT * FROM cases WHERE id IN (SELECT case_id FROM step_instances WHERE holder_id = ? "
        "OR completed_by = ? UNION SELECT case_id FROM events WHERE actor_id = ? AND case_id IS NOT NULL) "
        "ORDER BY (state = 'open') DESC, id DESC LIMIT ?",
        (person_id, person_id, person_id, limit),
    )
    return [Case.from_row(row) for row in rows]


async def cases(r: Reader, *, state: str | None = None, since: datetime | None = None) -> list[Case]:
    sql, params = "SELECT * FROM cases WHERE 1 = 1", []
    if state:
        sql += " AND state = ?"
        params.append(state)
    if since:
        sql += " AND created_at >= ?"
        params.append(iso(since))
    rows = await r.fetchall(sql + " ORDER BY id", params)
    return [Case.from_row(row) for row in rows]


async def open_case_units(r: Reader) -> list[tuple[str, str]]:
    rows = await r.fetchall("SELECT institution, unit FROM cases WHERE state = 'open'")
    return [(row["institution"], row["unit"]) for row in rows]


async def cases_created_between(r: Reader, start: datetime, end: datetime) -> list[NewCase]:
    rows = await r.fetchall(
        "SELECT register_no, title, institution, unit, created_at FROM cases WHERE created_at >= ? AND created_at < ? "
        "ORDER BY id",
        (iso(start), iso(end)),
    )
    return [NewCase.from_row(row) for row in rows]


async def sop_units(r: Reader) -> dict[str, tuple[str, str]]:
    rows = await r.fetchall("SELECT DISTINCT sop_id, institution, unit FROM cases")
    return {row["sop_id"]: (row["institution"], row["unit"]) for row in rows}


async def open_case_counts(r: Reader) -> dict[tuple[str, str], int]:
    """Open cases per (institution, unit), counted in the index."""
    rows = await r.fetchall("SELECT institution, unit, COUNT(*) AS n FROM cases WHERE state = 'open' "
                            "GROUP BY institution, unit")
    return {(row["institution"], row["unit"]): int(row["n"]) for row in rows}
