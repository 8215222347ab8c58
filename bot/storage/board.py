"""SQL of the supervisors' board: open work per unit/SOP/holder, lists, standard-time aggregates, web sessions.

Every query takes the viewer's scope (institution, optionally unit) and the board's filters as
plain values, so nothing outside the scope is ever read.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.clock import iso
from bot.storage.db import Reader, Tx
from bot.storage.records import FinishedStep
from bot.storage.sla import DailyStats


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


async def sla_totals(r: Reader, where: Where, after_day: str, upto_day: str) -> list[DailyStats]:
    """Per (SOP, step): the standard-time aggregates (``sla_daily``) of the days after ``after_day`` up to
    ``upto_day`` (UTC) merged into one (``day`` empty).

    The database sums the counts and strings each step's daily histograms together (``group_concat``,
    ``string_agg`` on PostgreSQL), so Python parses one JSON
    array per step instead of two objects per (step, day) row: a year is about 9,000 rows per institution.
    """
    cond, params = where.sql("d")
    rows = await r.fetchall(
        "SELECT d.sop_id, d.step_no, MAX(d.role) AS role, SUM(d.count) AS count, SUM(d.within) AS within, "
        "'[' || group_concat(d.taken) || ']' AS taken, '[' || group_concat(d.standard) || ']' AS standard "
        f"FROM sla_daily d WHERE d.day > ? AND d.day <= ?{cond} GROUP BY d.sop_id, d.step_no",
        [after_day, upto_day, *params])
    return [DailyStats(row["sop_id"], row["step_no"], "", row["role"], int(row["count"]), int(row["within"]),
                       _merged(row["taken"]), _merged(row["standard"])) for row in rows]


def _merged(histograms: str) -> dict[int, int]:
    """A JSON array of histograms (minutes -> count, as ``sla_daily`` keeps them) added up."""
    total: dict[str, int] = {}
    get = total.get
    for hist in json.loads(histograms):
        for minutes, n in hist.items():
            total[minutes] = get(minutes, 0) + n
    return {int(minutes): n for minutes, n in total.items()}


async def finished_steps(
    r: Reader, where: Where, since: datetime, before: datetime, *,
    upto: tuple[datetime, int] | None = None, after: tuple[datetime, int] | None = None,
) -> list[FinishedStep]:
    """Steps completed from ``since`` to before ``before`` that the aggregates do not hold yet (``after``
    the fold's watermark) or that only part of a day's aggregate covers (``upto`` the watermark)."""
    cond, params = where.sql()
    start = since if after is None else max(since, after[0])  # the index range begins at the watermark
    sql = ("SELECT s.*, c.sop_id, c.sop_hash, c.unit, c.institution FROM step_instances s "
           "JOIN cases c ON c.id = s.case_id WHERE s.state = 'done' AND s.completed_at >= ? AND s.completed_at < ?")
    args: list[Any] = [iso(start), iso(before)]
    if upto is not None:
        sql += " AND (s.completed_at < ? OR (s.completed_at = ? AND s.id <= ?))"
        args += [iso(upto[0]), iso(upto[0]), upto[1]]
    if after is not None:
        sql += " AND (s.completed_at > ? OR s.id > ?)"
        args += [iso(after[0]), after[1]]
    return [FinishedStep.from_row(row) for row in await r.fetchall(sql + cond, [*args, *params])]


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
