"""Moving a whole Alur database to another backend (`alur db copy`): every table, row for row, ids kept.

Tables are copied parents first (foreign keys hold at every step) inside one transaction of the
target, so a failed copy leaves the target as empty as it was. Afterwards the row counts of both
sides are compared table by table, and on PostgreSQL each identity column is moved past the
highest copied id, so rows added later continue the numbering. The running bot never calls this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bot.storage.db import Database, Tx
from bot.storage.dialect import Dialect


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    """The primary key (the copy reads in this order)."""
    identity: bool = False
    """The key is a generated ``id`` (an identity on PostgreSQL, the rowid on SQLite)."""


TABLES = (
    Table("people", ("id",), identity=True),
    Table("person_roles", ("person_id", "role")),
    Table("invites", ("code",)),
    Table("acting", ("id",), identity=True),
    Table("sop_versions", ("hash",)),
    Table("register_counters", ("prefix", "year")),
    Table("cases", ("id",), identity=True),
    Table("step_instances", ("id",), identity=True),
    Table("attachments", ("id",), identity=True),
    Table("events", ("id",), identity=True),
    Table("outbox", ("id",), identity=True),
    Table("drafts", ("person_id",)),
    Table("updates", ("update_id",)),
    Table("digests", ("person_id", "day")),
    Table("prompts", ("person_id",)),
    Table("web_sessions", ("token_hash",)),
    Table("web_logins", ("token_hash",)),
    Table("sla_daily", ("institution", "unit", "sop_id", "step_no", "day")),
    Table("sla_total", ("sop_id", "step_no")),
    Table("sla_watermark", ("id",)),
    Table("events_archive", ("id",)),
    Table("app_settings", ("key",)),
)
"""Every table of the schema, each after the tables it refers to."""

TRANSIENT = ("send_pacing",)
"""PostgreSQL's shared send pacing (several workers): moments a second ahead, not worth copying."""

BATCH = 2000


async def tables_present(db: Database) -> set[str]:
    if db.dialect == Dialect.POSTGRESQL:
        rows = await db.fetchall(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    else:
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(row["name"]) for row in rows}


async def columns(db: Database, table: str) -> list[str]:
    """The table's columns in their declared order."""
    if db.dialect == Dialect.POSTGRESQL:
        rows = await db.fetchall(
            "SELECT column_name AS name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
    else:
        rows = await db.fetchall(f"SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
    return [str(row["name"]) for row in rows]


async def count(db: Database, table: str) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
    return int(row["n"]) if row else 0


async def rows_of(db: Database, table: Table, cols: list[str]) -> AsyncIterator[list[tuple]]:
    """The table's rows in key order, ``BATCH`` at a time."""
    select = f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY {', '.join(table.key)} LIMIT ? OFFSET ?"
    offset = 0
    while True:
        rows = await db.fetchall(select, (BATCH, offset))
        if not rows:
            return
        yield [tuple(row[c] for c in cols) for row in rows]
        offset += len(rows)


async def insert_rows(tx: Tx, table: str, cols: list[str], rows: list[tuple]) -> None:
    marks = ", ".join("?" for _ in cols)
    await tx.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)


async def continue_numbering(tx: Tx, dialect: Dialect, table: str) -> None:
    """Let the next generated id follow the highest copied one (SQLite's rowid does so by itself)."""
    if dialect == Dialect.POSTGRESQL:
        await tx.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
        )


async def copy_all(
    source: Database, target: Database, progress: Callable[[str, int], None] | None = None
) -> dict[str, tuple[int, int]]:
    """Copy every table; {table: (rows in source, rows in target)} once committed.

    The caller checks first that both schemas are at the same version and the target is empty.
    """
    async with target.transaction() as tx:
        for table in TABLES:
            cols = await columns(source, table.name)
            copied = 0
            async for batch in rows_of(source, table, cols):
                await insert_rows(tx, table.name, cols, batch)
                copied += len(batch)
            if table.identity:
                await continue_numbering(tx, target.dialect, table.name)
            if progress is not None:
                progress(table.name, copied)
    return {t.name: (await count(source, t.name), await count(target, t.name)) for t in TABLES}
