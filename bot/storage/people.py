"""People and their roles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from bot.core.clock import iso
from bot.storage.db import Reader, Tx
from bot.storage.records import Person

PersonKey = Literal["id", "telegram_id", "username"]
"""The columns a single person is looked up by; `_person_where` puts it into SQL, so only these constants."""


def _grouped_roles(rows: Iterable[Any]) -> dict[int, tuple[str, ...]]:
    """(person_id, role) rows, already ordered by role, as each person's roles."""
    roles: dict[int, list[str]] = {}
    for row in rows:
        roles.setdefault(int(row["person_id"]), []).append(row["role"])
    return {pid: tuple(found) for pid, found in roles.items()}


async def _roles_of(r: Reader, person_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Everyone's roles in one query (a role holder is chosen among many people)."""
    if not person_ids:
        return {}
    marks = ",".join("?" for _ in person_ids)
    return _grouped_roles(await r.fetchall(
        f"SELECT person_id, role FROM person_roles WHERE person_id IN ({marks}) ORDER BY role", list(person_ids)))


async def _person_where(r: Reader, column: PersonKey, value: object) -> Person | None:
    """One person with their roles in one query (looked up on every update, so one round trip)."""
    rows = await r.fetchall(
        "SELECT p.*, pr.role AS person_role FROM people p LEFT JOIN person_roles pr ON pr.person_id = p.id "
        f"WHERE p.{column} = ? ORDER BY pr.role", (value,))
    if not rows:
        return None
    return Person.from_row(rows[0], tuple(row["person_role"] for row in rows if row["person_role"] is not None))


async def person(r: Reader, person_id: int) -> Person | None:
    return await _person_where(r, "id", person_id)


async def person_by_telegram(r: Reader, telegram_id: int) -> Person | None:
    return await _person_where(r, "telegram_id", telegram_id)


async def person_by_username(r: Reader, username: str) -> Person | None:
    return await _person_where(r, "username", username.lstrip("@").lower())


async def people(r: Reader, *, active_only: bool = True) -> list[Person]:
    sql = "SELECT * FROM people" + (" WHERE active = 1" if active_only else "") + " ORDER BY id"
    rows = await r.fetchall(sql)
    # Everyone's roles without an IN list: this is the whole roster, which may be longer than a statement's
    # parameter limit.
    roles = _grouped_roles(await r.fetchall("SELECT person_id, role FROM person_roles ORDER BY role"))
    return [Person.from_row(row, roles.get(int(row["id"]), ())) for row in rows]


async def insert_person(
    tx: Tx,
    *,
    name: str,
    kind: str,
    now: datetime,
    telegram_id: int | None = None,
    username: str | None = None,
    institution: str | None = None,
    unit: str | None = None,
    opd: str | None = None,
    source: str = "manual",
) -> int:
    return await tx.insert(
        "INSERT INTO people (telegram_id, username, name, kind, institution, unit, opd, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (telegram_id, username.lstrip("@").lower() if username else None, name, kind, institution, unit, opd,
         source, iso(now)),
    )


async def update_person(tx: Tx, person_id: int, **fields: Any) -> None:
    allowed = {"telegram_id", "username", "name", "kind", "institution", "unit", "opd", "active", "reachable",
               "source"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown person fields: {unknown}")
    if not fields:
        return
    cols = ", ".join(f"{k} = ?" for k in fields)
    await tx.execute(f"UPDATE people SET {cols} WHERE id = ?", (*fields.values(), person_id))


async def person_source(r: Reader, person_id: int) -> str:
    row = await r.fetchone("SELECT source FROM people WHERE id = ?", (person_id,))
    return str(row["source"]) if row else ""


async def set_roles(tx: Tx, person_id: int, roles: Iterable[str]) -> None:
    await tx.execute("DELETE FROM person_roles WHERE person_id = ?", (person_id,))
    for role in sorted(set(roles)):
        await tx.execute("INSERT INTO person_roles (person_id, role) VALUES (?, ?)", (person_id, role))


async def holders_of(r: Reader, role: str, institution: str, unit: str | None) -> list[tuple[Person, int]]:
    """Active people with a role (in the unit when given), with how many open steps each holds."""
    sql = (
        "SELECT p.*, (SELECT COUNT(*) FROM step_instances s WHERE s.holder_id = p.id AND s.state = 'open') AS load "
        "FROM people p JOIN person_roles pr ON pr.person_id = p.id "
        "WHERE pr.role = ? AND p.active = 1 AND p.institution = ?"
    )
    params: list[Any] = [role, institution]
    if unit is not None:
        sql += " AND p.unit = ?"
        params.append(unit)
    rows = await r.fetchall(sql + " ORDER BY p.id", params)
    roles = await _roles_of(r, [int(row["id"]) for row in rows])
    return [(Person.from_row(row, roles.get(int(row["id"]), ())), int(row["load"])) for row in rows]


async def people_with_roles(r: Reader, roles: Sequence[str], institution: str | None = None) -> list[Person]:
    if not roles:
        return []
    marks = ",".join("?" for _ in roles)
    sql = (
        f"SELECT DISTINCT p.* FROM people p JOIN person_roles pr ON pr.person_id = p.id "
        f"WHERE pr.role IN ({marks}) AND p.active = 1"
    )
    params: list[Any] = list(roles)
    if institution is not None:
        sql += " AND (p.institution = ? OR p.institution IS NULL)"
        params.append(institution)
    rows = await r.fetchall(sql + " ORDER BY p.id", params)
    roles = await _roles_of(r, [int(row["id"]) for row in rows])
    return [Person.from_row(row, roles.get(int(row["id"]), ())) for row in rows]
