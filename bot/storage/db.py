"""The SQLite connection: pragmas, versioned migrations and one-transaction-at-a-time access.

One connection per process for writing, guarded by an asyncio lock so a transaction is never
interleaved with another task's statements. Its statements run on the event loop's own thread
(:class:`InlineConnection`): a write here is a few dozen microseconds (WAL, ``synchronous=NORMAL``:
a commit does not wait for the disk), far less than a hop to a worker thread and back, which costs
a full turn of a busy event loop *per statement* and so held the write lock for milliseconds per
transaction; under load that lock was what capped how many updates the bot could process. Several
processes may share the file: WAL mode lets SQLite serialise their writers (``BEGIN IMMEDIATE``);
while another process holds the write lock, a statement here is retried with short *asynchronous*
sleeps for up to ``BUSY_TIMEOUT_MS`` (SQLite's own busy handler would block the event loop), then
raises SQLite's "database is locked" as before.

Reads that do not need the writer go through read-only connections that WAL lets run beside it,
so a read never waits for a transaction: ``Database.read`` (on the event loop's thread, like the
writer) for the short, indexed reads of the interactive path (/status lists, the stranger check),
and ``Database.read_in_thread`` (aiosqlite: its own thread) for long reads such as the digest
round's, which must not stall the event loop.
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
BUSY_BACKOFF = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


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

    def __init__(self, conn: InlineConnection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.created = False
        """True when this open created the file (a new, empty database)."""
        self._lock = asyncio.Lock()
        self._reader: ReadConnection | None = None
        self._thread_reader: ThreadedReadConnection | None = None

    @property
    def read(self) -> Reader:
        """The read-only connection for short reads (the database itself for an in-memory one)."""
        return self._reader if self._reader is not None else self

    @property
    def read_in_thread(self) -> Reader:
        """The read-only connection in its own thread, for long reads (the database itself in memory)."""
        return self._thread_reader if self._thread_reader is not None else self

    async def _open_reader(self) -> None:
        if self.path == ":memory:" or self._reader is not None:
            return
        uri = _read_only_uri(self.path)
        inline = InlineConnection(sqlite3.connect(uri, uri=True, isolation_level=None, timeout=0,
                                                  check_same_thread=False))
        await inline.execute("PRAGMA query_only = ON")
        self._reader = ReadConnection(inline)
        conn = await aiosqlite.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA query_only = ON")
        self._thread_reader = ThreadedReadConnection(conn)

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
            conn = InlineConnection(sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False))
        except sqlite3.Error as exc:
            raise _database_error(path, exc) from exc
        db = cls(conn, path)
        db.created = created
        try:
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
        if self._thread_reader is not None:
            await self._thread_reader.conn.close()
            self._thread_reader = None
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
        """One write transaction (BEGIN IMMEDIATE … COMMIT), rolled back on any error.

        Each transaction first lets the event loop run once: statements no longer yield to it, so a
        loop of many transactions (a reminder sweep, a digest round) still leaves room for replies."""
        await asyncio.sleep(0)
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
        """SQLite online backup into ``target`` (safe while the bot runs; copied in a worker thread)."""
        async with self._lock:
            if self.path == ":memory:":
                dest = sqlite3.connect(str(target))
                try:
                    self.conn.raw.backup(dest)
                finally:
                    dest.close()
                return
            await asyncio.to_thread(_backup, self.path, str(target))


def _backup(source: str, target: str) -> None:
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)
    dest = sqlite3.connect(target)
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()


class InlineCursor:
    """The result of one statement, with aiosqlite's awaitable fetches."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.raw = cursor

    @property
    def rowcount(self) -> int:
        return self.raw.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self.raw.lastrowid

    async def fetchone(self) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.raw.fetchone()
        return row

    async def fetchall(self) -> list[sqlite3.Row]:
        return list(self.raw.fetchall())

    async def close(self) -> None:
        self.raw.close()


class InlineConnection:
    """The writer: a sqlite3 connection used on the event loop's thread, with aiosqlite's async surface.

    SQLite's busy handler is off (``timeout=0``): a statement refused because another process holds
    the write lock is retried after short asynchronous sleeps until ``BUSY_TIMEOUT_MS`` have passed.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        self.raw = conn
        self.busy_timeout = BUSY_TIMEOUT_MS / 1000

    async def _busy_retry(self, run: Any) -> Any:
        deadline: float | None = None
        attempt = 0
        while True:
            try:
                return run()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                now = asyncio.get_running_loop().time()
                deadline = now + self.busy_timeout if deadline is None else deadline
                if now >= deadline:
                    raise
                await asyncio.sleep(min(BUSY_BACKOFF[min(attempt, len(BUSY_BACKOFF) - 1)], deadline - now))
                attempt += 1

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> InlineCursor:
        params = tuple(parameters) if parameters is not None else ()
        try:
            return InlineCursor(self.raw.execute(sql, params))
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
        return InlineCursor(await self._busy_retry(lambda: self.raw.execute(sql, params)))

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> InlineCursor:
        batch = [tuple(r) for r in rows]
        return InlineCursor(await self._busy_retry(lambda: self.raw.executemany(sql, batch)))

    async def close(self) -> None:
        self.raw.close()


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _read_only_uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri() + "?mode=ro"


class ReadConnection:
    """A read-only connection on the event loop's thread: short queries beside the writer."""

    def __init__(self, conn: InlineConnection) -> None:
        self.conn = conn

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        cur = await self.conn.execute(sql, tuple(params))
        return await cur.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        cur = await self.conn.execute(sql, tuple(params))
        return await cur.fetchall()


class ThreadedReadConnection:
    """The read-only connection in its own thread: long queries, one at a time, beside the writer."""

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

    def __init__(self, conn: InlineConnection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> InlineCursor:
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
