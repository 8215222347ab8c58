"""The SQLite connection: pragmas, versioned migrations and one-transaction-at-a-time access.

One aiosqlite connection per process for writing, guarded by an asyncio lock so a transaction
is never interleaved with another task's statements. Several processes may share the file: WAL
mode and a busy timeout let SQLite serialise their writers (``BEGIN IMMEDIATE``).

Reads that do not need the writer (digests, reports, lists, question answering) go through
``Database.read``: a second, read-only connection (in its own thread) that WAL lets run beside
the writer, so a long read never holds up a write and a write never waits for a read.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

BUSY_TIMEOUT_MS = 10_000


class DatabaseProblem(StrEnum):
    MISSING = "missing"
    NOT_WRITABLE = "not_writable"
    UNUSABLE = "unusable"


class DatabaseError(Exception):
    """The database file cannot be used as asked: missing (and not to be created), not writable or not SQLite."""

    def __init__(self, path: str, reason: DatabaseProblem, detail: str = "") -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        super().__init__(f"{path}: {reason} {detail}".strip())


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped in bot/migrations, in order."""
    found = []
    for entry in resources.files("bot.storage.migrations").iterdir():
        m = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """An open database file with its migrations applied."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.created = False
        """True when this open created the file (a new, empty database)."""
        self._lock = asyncio.Lock()
        self._reader: ReadConnection | None = None

    @property
    def read(self) -> Reader:
        """The read-only connection (the database itself for an in-memory one)."""
        return self._reader if self._reader is not None else self

    async def _open_reader(self) -> None:
        if self.path == ":memory:" or self._reader is not None:
            return
        uri = _read_only_uri(self.path)
        conn = await aiosqlite.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA query_only = ON")
        self._reader = ReadConnection(conn)

    @classmethod
    async def open(
        cls, path: str | Path, *, migrate: bool = True, upto: int | None = None, create: bool = True
    ) -> Database:
        """Open (and by default migrate) the database; ``create=False`` refuses a file that does not exist.

        Any failure closes the connection again and raises ``DatabaseError`` (a connection left open
        keeps its thread, and with it the process, alive).
        """
        path = str(path)
        created = _prepare(path, create)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise _database_error(path, exc) from exc
        db = cls(conn, path)
        db.created = created
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                await db.migrate(upto=upto)
                await conn.execute("PRAGMA optimize")  # refresh planner statistics where they are stale
            await db._open_reader()
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _database_error(path, exc) from exc
            raise
        return db

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.conn.close()
            self._reader = None
        await self.conn.close()

    async def migrate(self, upto: int | None = None) -> list[int]:
        """Apply pending migrations (each in its own transaction); return the versions applied."""
        applied: list[int] = []
        async with self._lock:
            await self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for version, name, sql in migrations():
                if upto is not None and version > upto:
                    break
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    cur = await self.conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,))
                    if await cur.fetchone():
                        await self.conn.execute("ROLLBACK")
                        continue
                    for statement in _statements(sql):
                        await self.conn.execute(statement)
                    await self.conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        (version, name, datetime.now(UTC).isoformat()),
                    )
                    await self.conn.execute("COMMIT")
                    applied.append(version)
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    raise
        return applied

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
        return int(row["v"] or 0) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT), rolled back on any error."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            tx = Tx(self.conn)
            try:
                yield tx
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._lock:
            cur = await self.conn.execute(sql, tuple(params))
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            cur = await self.conn.execute(sql, tuple(params))
            return list(await cur.fetchall())

    async def backup(self, target: str | Path) -> None:
        """SQLite online backup into ``target`` (safe while the bot runs)."""
        async with self._lock:
            dest = await aiosqlite.connect(str(target))
            try:
                await self.conn.backup(dest)
            finally:
                await dest.close()


def _read_only_uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri() + "?mode=ro"


class ReadConnection:
    """The read-only connection: queries only, one at a time, beside the writer."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._lock:
            cur = await self.conn.execute(sql, tuple(params))
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            cur = await self.conn.execute(sql, tuple(params))
            return list(await cur.fetchall())


class Tx:
    """Statements inside one open transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Cursor:
        return await self.conn.execute(sql, tuple(params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        cur = await self.conn.execute(sql, tuple(params))
        return await cur.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        cur = await self.conn.execute(sql, tuple(params))
        return list(await cur.fetchall())

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        cur = await self.conn.execute(sql, tuple(params))
        return int(cur.lastrowid or 0)


def _prepare(path: str, create: bool) -> bool:
    """Check that the file exists or may be created (making its folder); True when it will be new."""
    file = Path(path)
    if path == ":memory:" or file.exists():
        return False
    if not create:
        raise DatabaseError(path, DatabaseProblem.MISSING)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(path, DatabaseProblem.NOT_WRITABLE, exc.strerror or str(exc)) from exc
    return True


def _database_error(path: str, exc: sqlite3.Error) -> DatabaseError:
    text = str(exc)
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return DatabaseError(path, DatabaseProblem.NOT_WRITABLE, text)
    return DatabaseError(path, DatabaseProblem.UNUSABLE, text)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN … END;) whole."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


class Reader(Protocol):
    """The Database or an open transaction: queries only."""

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None: ...
    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]: ...


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
