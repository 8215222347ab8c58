"""The database: SQLite (the embedded default) or PostgreSQL, behind one small interface.

``Database.open(target)`` takes what ALUR_DB names: a file path (or ``sqlite:///path``) opens SQLite,
a ``postgresql://`` URL opens PostgreSQL (asyncpg). Both give the storage modules the same things:
``transaction()`` (one ``Tx``: ``execute`` with ``rowcount``, ``fetchone``/``fetchall``, ``insert``
returning the new id, ``insert_or_skip``), ``fetchone``/``fetchall`` outside a transaction, and
rows read by column name (``row["id"]``). The SQL text is SQLite's; ``bot.storage.dialect`` makes
it PostgreSQL's.

One writing connection per process, guarded by an asyncio lock, so a transaction is never
interleaved with another task's statements. Reads that do not need the writer go through
``Database.read`` (short, indexed reads of the interactive path) and ``Database.read_in_thread``
(long reads such as the digest round's); on PostgreSQL both use the pool beside the writer.

- SQLite: the writer and ``read`` run their statements on the event loop's own thread
  (``InlineConnection``): a write is a few dozen microseconds (WAL, ``synchronous=NORMAL``), far
  less than a hop to a worker thread and back, which costs a full turn of a busy event loop per
  statement and so held the write lock for milliseconds per transaction. SQLite's busy handler is
  off (``timeout=0``): while another process holds the write lock a statement is retried with short
  asynchronous sleeps for up to ``BUSY_TIMEOUT_MS``. ``read`` is a read-only connection that WAL
  lets run beside the writer; ``read_in_thread`` another one in its own thread (aiosqlite), so a
  long read does not stall the event loop.
  Several processes may share the file; ``BEGIN IMMEDIATE`` takes the write lock at the start, so
  each write transaction runs alone.
- PostgreSQL (bot/storage/postgres.py, asyncpg): READ COMMITTED, chosen on purpose (a server
  default of REPEATABLE READ or SERIALIZABLE is overridden). The engine's "exactly one effect" rests
  on conditional updates (``UPDATE … WHERE state = 'open'``, checked through ``rowcount``): under
  READ COMMITTED a second transaction that updates the same row waits for the first, then re-checks
  the condition on the committed row and updates nothing, so exactly one wins and the loser learns
  it from ``rowcount == 0`` — as with SQLite's single writer. Under the stricter levels the loser
  would instead fail with a serialization error that the caller would have to retry. The connection
  comes from a pool of one, so a connection lost with a database restart is replaced on the next use
  (a read is tried once more on it).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from bot.storage.dialect import Dialect, PostgresUrl, Target, parse_target

BUSY_TIMEOUT_MS = 10_000
BUSY_BACKOFF = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


class DatabaseProblem(StrEnum):
    MISSING = "missing"
    NOT_WRITABLE = "not_writable"
    UNUSABLE = "unusable"
    UNREACHABLE = "unreachable"


class DatabaseError(Exception):
    """The database cannot be used as asked: missing (and not to be created), not writable, not Alur's, or
    (PostgreSQL) the server cannot be reached or refuses the login."""

    def __init__(self, path: str, reason: DatabaseProblem, detail: str = "") -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        super().__init__(f"{path}: {reason} {detail}".strip())


class Row(Protocol):
    """A result row (``sqlite3.Row`` or ``asyncpg.Record``): by column name or position."""

    def __getitem__(self, key: str | int, /) -> Any: ...
    def keys(self) -> Any: ...


class Result(Protocol):
    """What a statement did: ``rowcount`` rows changed; ``lastrowid`` only on SQLite (use ``Tx.insert``)."""

    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...


def migrations(dialect: Dialect = Dialect.SQLITE) -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped for a backend, in order.

    SQLite's are bot/storage/migrations/NNNN_name.sql, PostgreSQL's the same numbers and names in
    bot/storage/migrations/postgresql/ (a test keeps the two lists alike).
    """
    folder = resources.files("bot.storage.migrations")
    if dialect == Dialect.POSTGRESQL:
        folder = folder / "postgresql"
    found = []
    for entry in folder.iterdir():
        m = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """An open database with its migrations applied (``open`` picks the backend)."""

    dialect: Dialect
    path: str
    """The file, or the URL without its password: safe to print."""
    created: bool
    """True when this open created the database (a new, empty one)."""

    @classmethod
    async def open(
        cls, target: Target, *, migrate: bool = True, upto: int | None = None, create: bool = True
    ) -> Database:
        """Open (and by default migrate) the database; ``create=False`` refuses one that does not exist yet.

        Any failure closes the connection again and raises ``DatabaseError`` (a connection left open
        keeps its thread, and with it the process, alive).
        """
        where = parse_target(target)
        if isinstance(where, PostgresUrl):
            from bot.storage.postgres import PostgresDatabase  # asyncpg is loaded only by those who use it

            return await PostgresDatabase.connect(where, migrate=migrate, upto=upto, create=create)
        return await SqliteDatabase.connect(where, migrate=migrate, upto=upto, create=create)

    @property
    def read(self) -> Reader:
        """Where reads that need not see this process's open transaction go (see the module doc)."""
        return self

    @property
    def read_in_thread(self) -> Reader:
        """Where long reads (the digest round's) go: off the event loop's thread where that matters."""
        return self.read

    async def close(self) -> None:
        raise NotImplementedError

    async def lead(self, role: str) -> bool:
        """Whether this process does ``role`` (the tick, the outbox sender, receiving updates) now.

        SQLite is one process's database: always True. On PostgreSQL several workers elect one per
        role with a session advisory lock, held while this process's connection lives (see
        bot/storage/postgres.py); call it again before each round of the work to keep or take it.
        """
        return True

    async def resign(self) -> None:
        """Give up every role this process leads (a clean stop: another worker takes over at once)."""

    async def listen(self, channel: str, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever another process NOTIFYs ``channel`` (PostgreSQL; nothing on SQLite)."""

    async def migrate(self, upto: int | None = None) -> list[int]:
        """Apply pending migrations (each in its own transaction); return the versions applied."""
        raise NotImplementedError

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
        return int(row["v"] or 0) if row else 0

    async def applied_versions(self) -> set[int]:
        return {int(r["version"]) for r in await self.fetchall("SELECT version FROM schema_migrations")}

    async def pending_migrations(self) -> list[tuple[int, str]]:
        """(version, name) of the migrations this Alur ships and the database has not applied yet."""
        try:
            done = await self.applied_versions()
        except Exception:  # no migration table at all: everything is pending
            done = set()
        return [(v, n) for v, n, _ in migrations(self.dialect) if v not in done]

    def transaction(self) -> Any:
        """``async with db.transaction() as tx``: one write transaction, rolled back on any error."""
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any:
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def write_problem(self) -> str | None:
        """Why this process could not write (for `alur doctor`), or None; changes nothing."""
        raise NotImplementedError

    async def backup(self, target: str | Path) -> None:
        raise DatabaseError(self.path, DatabaseProblem.UNUSABLE, "salinan daring hanya untuk SQLite; pakai pg_dump")


class Tx:
    """Statements inside one open transaction."""

    conn: Any

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Result:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any:
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Insert one row into a table with an ``id`` column; the new row's id."""
        raise NotImplementedError

    async def insert_or_skip(self, sql: str, params: Iterable[Any] = ()) -> int | None:
        """An ``INSERT … ON CONFLICT … DO NOTHING`` of one row: its new id, or None when it was skipped."""
        raise NotImplementedError


# ---------------------------------------------------------------- SQLite


class LockedReads:
    """``fetchone``/``fetchall`` on one SQLite connection (``conn``), one statement at a time under ``_lock``.

    The writer's lock also keeps such a read out of another task's open transaction.
    """

    conn: InlineConnection | aiosqlite.Connection
    _lock: asyncio.Lock

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._lock:
            cur = await self.conn.execute(sql, tuple(params))
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            cur = await self.conn.execute(sql, tuple(params))
            return list(await cur.fetchall())


class SqliteDatabase(LockedReads, Database):
    dialect = Dialect.SQLITE

    def __init__(self, conn: InlineConnection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.created = False
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
    async def connect(
        cls, file: Path, *, migrate: bool = True, upto: int | None = None, create: bool = True
    ) -> SqliteDatabase:
        path = str(file)
        created = _prepare(path, create)
        try:
            conn = InlineConnection(sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False))
        except sqlite3.Error as exc:
            raise _sqlite_error(path, exc) from exc
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
                raise _sqlite_error(path, exc) from exc
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
        applied: list[int] = []
        async with self._lock:
            await self.conn.execute(SCHEMA_TABLE)
            for version, name, sql in migrations(Dialect.SQLITE):
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

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT), rolled back on any error.

        Each transaction first lets the event loop run once: statements no longer yield to it, so a
        loop of many transactions (a reminder sweep, a digest round) still leaves room for replies."""
        await asyncio.sleep(0)
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            tx = SqliteTx(self.conn)
            try:
                yield tx
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def write_problem(self) -> str | None:
        async with self._lock:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                await self.conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                return str(exc)
        return None

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


class ThreadedReadConnection(LockedReads):
    """The read-only connection in its own thread: long queries, one at a time, beside the writer."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()


class SqliteTx(Tx):
    def __init__(self, conn: InlineConnection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> InlineCursor:
        return await self.conn.execute(sql, tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        cur = await self.conn.execute(sql, tuple(params))
        return await cur.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        cur = await self.conn.execute(sql, tuple(params))
        return list(await cur.fetchall())

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        cur = await self.conn.execute(sql, tuple(params))
        return int(cur.lastrowid or 0)

    async def insert_or_skip(self, sql: str, params: Iterable[Any] = ()) -> int | None:
        cur = await self.conn.execute(sql, tuple(params))
        return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else None


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


def _sqlite_error(path: str, exc: sqlite3.Error) -> DatabaseError:
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

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any: ...
    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]: ...


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
