"""SQL of the supervisors' board: open work per unit/SOP/holder, lists, completed steps, web sessions.

Every query takes the viewer's scope (institution, optionally unit) and the board's filters as
plain values, so nothing outside the scope is ever read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.storage.db import Database, Reader, Tx
from bot.storage.dialect import Dialect


@dataclass(frozen=True)
class Where:
    """The cases a board request may read: scope plus filters (None = any)."""

    institution: str | None = None
    unit: str | None = None
    sop_id: str | None = None

    def sql(self, alias: str = "c") -> tuple[str, list[Any]]:
        parts, params = [], []
        for column, value in (("institution", self.institution), ("unit", self.unit), ("sop_id", self.sop_id)):
            if value is not None:
                parts.append(f"{alias}.{column} = ?")
                params.append(value)
        return "".join(f" AND {p}" for p in parts), params


async def open_work(r: Reader, where: Where, now: datetime, day_end: datetime) -> list[sqlite3.Row]:
    """Per (institution, unit, SOP): open cases, and of them overdue, due today, without a holder."""
    cond, params = where.sql()
    return await r.fetchall(
        "SELECT c.institution, c.unit, c.sop_id, COUNT(DISTINCT c.id) AS open_cases, "
        "COUNT(DISTINCT CASE WHEN s.due_at < ? THEN c.id END) AS overdue, "
        "COUNT(DISTINCT CASE WHEN s.due_at >= ? AND s.due_at < ? THEN c.id END) AS due_today, "
        "COUNT(DISTINCT CASE WHEN s.holder_id IS NULL THEN c.id END) AS unassigned "
        "FROM step_instances s JOIN cases c ON c.id = s.case_id "
        f"WHERE s.state = 'open' AND c.state = 'open'{cond} GROUP BY c.institution, c.unit, c.sop_id",
        [iso(now), iso(now), iso(day_end), *params],
    )


async def holders(r: Reader, where: Where, now: datetime, limit: int = 40) -> list[sqlite3.Row]:
    """The people holding open steps, most overdue first."""
    cond, params = where.sql()
    return await r.fetchall(
        "SELECT s.holder_id, p.name, COUNT(*) AS open_steps, COUNT(CASE WHEN s.due_at < ? THEN 1 END) AS overdue "
        "FROM step_instances s INDEXED BY step_instances_due JOIN cases c ON c.id = s.case_id "
        f"JOIN people p ON p.id = s.holder_id WHERE s.state = 'open' AND c.state = 'open'{cond} "
        "GROUP BY s.holder_id, p.name "
        "ORDER BY overdue DESC, open_steps DESC, p.name LIMIT ?",
        [iso(now), *params, limit],
    )


_STEP_COLUMNS = (
    "SELECT s.id, s.step_no, s.role, s.holder_id, s.opened_at, s.due_at, c.register_no, c.sop_id, c.institution, "
    "c.unit, c.title, p.name AS holder_name FROM step_instances s JOIN cases c ON c.id = s.case_id "
    "LEFT JOIN people p ON p.id = s.holder_id "
)


async def overdue_steps(r: Reader, where: Where, now: datetime, limit: int) -> list[sqlite3.Row]:
    cond, params = where.sql()
    return await r.fetchall(
        _STEP_COLUMNS + f"WHERE s.state = 'open' AND s.due_at < ? AND c.state = 'open'{cond} "
        "ORDER BY s.due_at LIMIT ?",
        [iso(now), *params, limit],
    )


async def due_steps(r: Reader, where: Where, start: datetime, end: datetime, limit: int) -> list[sqlite3.Row]:
    cond, params = where.sql()
    return await r.fetchall(
        _STEP_COLUMNS + f"WHERE s.state = 'open' AND s.due_at >= ? AND s.due_at < ? AND c.state = 'open'{cond} "
        "ORDER BY s.due_at LIMIT ?",
        [iso(start), iso(end), *params, limit],
    )


async def unassigned_steps(r: Reader, where: Where, limit: int) -> list[sqlite3.Row]:
    cond, params = where.sql()
    return await r.fetchall(
        _STEP_COLUMNS + f"WHERE s.holder_id IS NULL AND s.state = 'open' AND c.state = 'open'{cond} "
        "ORDER BY s.opened_at LIMIT ?",
        [*params, limit],
    )


async def completed_steps(r: Reader, where: Where, since: datetime, until: datetime) -> list[sqlite3.Row]:
    """Steps completed in the period (for real working time against the standard)."""
    cond, params = where.sql()
    return await r.fetchall(
        "SELECT c.sop_id, s.step_no, s.role, s.opened_at, s.completed_at, s.due_at "
        "FROM step_instances s INDEXED BY step_instances_completed JOIN cases c ON c.id = s.case_id "
        f"WHERE s.state = 'done' AND s.completed_at >= ? AND s.completed_at < ?{cond}",
        [iso(since), iso(until), *params],
    )


WORK_DAY_INTERVALS = 3
"""Working intervals per day the SQL form of the work calendar holds (the default schedule has two)."""


async def install_work_days(db: Database, rows: Sequence[tuple[int, ...]]) -> bool:
    """The work calendar as a TEMP table of this connection: local day number → working minutes before
    it and the day's intervals as minutes after midnight, so SQL can measure working time.

    SQLite only (False on PostgreSQL, whose caller measures in Python): a TEMP table lives on one
    connection, and a PostgreSQL connection may be replaced under it.
    """
    if db.dialect != Dialect.SQLITE:
        return False
    cols = ", ".join(f"s{i} INTEGER NOT NULL, e{i} INTEGER NOT NULL" for i in range(WORK_DAY_INTERVALS))
    async with db.transaction() as tx:
        await tx.execute(f"CREATE TEMP TABLE IF NOT EXISTS work_days (day INTEGER PRIMARY KEY, before INTEGER NOT NULL,"
                         f" {cols})")
        await tx.execute("DELETE FROM temp.work_days")
        marks = ", ".join("?" * (2 + 2 * WORK_DAY_INTERVALS))
        await tx.executemany(f"INSERT INTO temp.work_days VALUES ({marks})", rows)
    return True


def _worked(alias: str, minute: str) -> str:
    """SQL: working minutes before local epoch minute ``minute`` (its day's row is ``alias``)."""
    parts = " + ".join(f"MAX(0, MIN({minute} % 1440, {alias}.e{i}) - {alias}.s{i})" for i in range(WORK_DAY_INTERVALS))
    return f"({alias}.before + {parts})"


async def standard_time_rows(
    r: Reader, where: Where, since: datetime, until: datetime, offset_minutes: int
) -> list[sqlite3.Row]:
    """Each step completed in the period with its working minutes taken and standard, and whether on time.

    Working time is measured in SQL against ``temp.work_days`` (``install_work_days``), in the
    deployment's fixed UTC offset; the requester's filing step (done the moment the case opened) is left out.
    """
    cond, params = where.sql()
    local = "(unixepoch({col}) / 60 + {off})"
    lo, lc, ld = (local.format(col=f"s.{c}", off=int(offset_minutes)) for c in ("opened_at", "completed_at", "due_at"))
    return await r.fetchall(
        "WITH m AS (SELECT c.sop_id, s.step_no, s.role, s.completed_at <= s.due_at AS on_time, "
        f"{lo} AS lo, {lc} AS lc, {ld} AS ld "
        "FROM step_instances s INDEXED BY step_instances_completed JOIN cases c ON c.id = s.case_id "
        f"WHERE s.state = 'done' AND s.completed_at >= ? AND s.completed_at < ?{cond} "
        "AND NOT (s.due_at IS NULL AND s.opened_at = s.completed_at)), "
        f"w AS (SELECT m.sop_id, m.step_no, m.role, m.on_time, "
        f"{_worked('wc', 'm.lc')} - {_worked('wo', 'm.lo')} AS taken, "
        f"CASE WHEN m.ld IS NULL THEN NULL ELSE {_worked('wd', 'm.ld')} - {_worked('wo', 'm.lo')} END AS standard "
        "FROM m JOIN temp.work_days wo ON wo.day = m.lo / 1440 JOIN temp.work_days wc ON wc.day = m.lc / 1440 "
        "LEFT JOIN temp.work_days wd ON wd.day = m.ld / 1440) "
        "SELECT sop_id, step_no, role, on_time, taken, standard FROM w",
        [iso(since), iso(until), *params],
    )


async def sop_ids(r: Reader, where: Where) -> list[str]:
    cond, params = where.sql()
    rows = await r.fetchall(f"SELECT DISTINCT c.sop_id FROM cases c WHERE 1 = 1{cond}", params)
    return [row["sop_id"] for row in rows]


# ---------------------------------------------------------------- sessions and one-time links


async def insert_session(tx: Tx, token_hash: str, person_id: int, via: str, now: datetime, expires: datetime) -> None:
    await tx.execute("DELETE FROM web_sessions WHERE expires_at < ?", (iso(now),))
    await tx.execute(
        "INSERT INTO web_sessions (token_hash, person_id, via, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (token_hash, person_id, via, iso(now), iso(expires)),
    )


async def session_person(r: Reader, token_hash: str, now: datetime) -> int | None:
    row = await r.fetchone(
        "SELECT person_id FROM web_sessions WHERE token_hash = ? AND expires_at > ?", (token_hash, iso(now))
    )
    return int(row["person_id"]) if row else None


async def delete_session(tx: Tx, token_hash: str) -> None:
    await tx.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))


async def insert_login(tx: Tx, token_hash: str, person_id: int, now: datetime, expires: datetime) -> None:
    await tx.execute("DELETE FROM web_logins WHERE expires_at < ?", (iso(now),))
    await tx.execute(
        "INSERT INTO web_logins (token_hash, person_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (token_hash, person_id, iso(now), iso(expires)),
    )


async def use_login(tx: Tx, token_hash: str, now: datetime) -> int | None:
    """The person of an unused, unexpired link, which is used up by this call (once only)."""
    cur = await tx.execute(
        "UPDATE web_logins SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        (iso(now), token_hash, iso(now)),
    )
    if cur.rowcount != 1:
        return None
    row = await tx.fetchone("SELECT person_id FROM web_logins WHERE token_hash = ?", (token_hash,))
    return int(row["person_id"]) if row else None
