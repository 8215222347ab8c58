"""The PostgreSQL side of ``Database`` (asyncpg), loaded only when ALUR_DB is a ``postgresql://`` URL.

See bot/storage/db.py for the interface and why transactions are READ COMMITTED; the storage
modules' SQL reaches asyncpg through ``bot.storage.dialect.postgres_sql``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bot.storage.db import SCHEMA_TABLE, Database, DatabaseError, DatabaseProblem, Reader, Tx, migrations
from bot.storage.dialect import Dialect, PostgresUrl, postgres_sql, with_returning_id

PG_CONNECT_TIMEOUT = 10.0
READ_POOL_SIZE = 2
WRITE_POOL_SIZE = 4
"""Transactions of one process run side by side on up to this many connections: PostgreSQL commits
them together (each commit waits for its WAL flush), where one connection would queue them. Races are
decided by conditional updates under READ COMMITTED, as between workers (bot/storage/db.py)."""
PG_MIGRATION_LOCK = 0x616C75726D696772
"""Advisory lock key ('alurmigr'): one process at a time applies PostgreSQL migrations."""

CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError, asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.CannotConnectNowError,
)
"""What a dropped connection raises (not a query's own error)."""


@dataclass(frozen=True)
class Executed:
    """A PostgreSQL statement's outcome, read from its command tag ('UPDATE 3', 'INSERT 0 1')."""

    rowcount: int
    lastrowid: int | None = None

    @classmethod
    def from_status(cls, status: str) -> Executed:
        last = status.rsplit(" ", 1)[-1]
        return cls(int(last) if last.isdigit() else -1)


class PostgresDatabase(Database):
    dialect = Dialect.POSTGRESQL

    def __init__(self, pool: asyncpg.Pool, url: PostgresUrl) -> None:
        self.pool = pool
        self.url = url
        self.path = str(url)
        self.created = False
        self._lock = asyncio.Lock()
        self._reader: PostgresReader | None = None
        self._leadership: Leadership | None = None

    @property
    def read(self) -> Reader:
        """A connection of its own for reads that need not wait for this process's writer."""
        return self._reader if self._reader is not None else self

    @classmethod
    async def connect(
        cls, url: PostgresUrl, *, migrate: bool = True, upto: int | None = None, create: bool = True
    ) -> PostgresDatabase:
        shown = str(url)
        if (problem := url.problem()) is not None:
            raise DatabaseError(shown, DatabaseProblem.UNUSABLE, problem)
        created = False
        try:
            pool = await _pool(url, size=WRITE_POOL_SIZE)
        except asyncpg.InvalidCatalogNameError as exc:
            if not create:
                raise DatabaseError(shown, DatabaseProblem.MISSING, f"basis data {url.database} belum ada") from exc
            await _create_database(url)
            created = True
            pool = await _pool(url, size=WRITE_POOL_SIZE)
        db = cls(pool, url)
        try:
            has_schema = await db.fetchone("SELECT to_regclass('schema_migrations') IS NOT NULL AS ok")
            if not (has_schema and has_schema["ok"]):
                if not create:
                    raise DatabaseError(shown, DatabaseProblem.MISSING,
                                        f"basis data {url.database} ada tetapi belum berisi tabel Alur")
                created = True
            db.created = created
            if migrate:
                await db.migrate(upto=upto)
            db._reader = PostgresReader(await _pool(url, size=READ_POOL_SIZE))
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, asyncpg.InsufficientPrivilegeError | asyncpg.ReadOnlySQLTransactionError):
                raise DatabaseError(shown, DatabaseProblem.NOT_WRITABLE, str(exc)) from exc
            if isinstance(exc, asyncpg.PostgresError | OSError):
                raise DatabaseError(shown, DatabaseProblem.UNUSABLE, str(exc)) from exc
            raise
        return db

    async def lead(self, role: str) -> bool:
        if self._leadership is None:
            self._leadership = Leadership(self.url)
        return await self._leadership.hold(role)

    async def resign(self) -> None:
        if self._leadership is not None:
            await self._leadership.close()
            self._leadership = None

    async def listen(self, channel: str, wake: Callable[[], None]) -> None:
        if self._leadership is None:
            self._leadership = Leadership(self.url)
        await self._leadership.listen(channel, wake)

    async def close(self) -> None:
        await self.resign()
        if self._reader is not None:
            await self._reader.pool.close()
            self._reader = None
        await self.pool.close()

    async def migrate(self, upto: int | None = None) -> list[int]:
        applied: list[int] = []
        async with self._lock, self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", PG_MIGRATION_LOCK)
            try:
                await conn.execute(SCHEMA_TABLE)
                for version, name, sql in migrations(Dialect.POSTGRESQL):
                    if upto is not None and version > upto:
                        break
                    async with conn.transaction():
                        if await conn.fetchval("SELECT 1 FROM schema_migrations WHERE version = $1", version):
                            continue
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                            version, name, datetime.now(UTC).isoformat(),
                        )
                    applied.append(version)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", PG_MIGRATION_LOCK)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTx]:
        """One READ COMMITTED transaction (see the module docstring), rolled back on any error.

        A transaction that meets a lost connection fails (its caller decides about retrying); the pool's
        idle connections died with it, so they are expired and the next transaction gets a new one."""
        try:
            async with self.pool.acquire() as conn, conn.transaction(isolation="read_committed"):
                yield PostgresTx(conn)
        except CONNECTION_LOST:
            await self.pool.expire_connections()
            raise

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> asyncpg.Record | None:
        return await self._read("fetchrow", sql, tuple(params))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        return list(await self._read("fetch", sql, tuple(params)))

    async def _read(self, method: str, sql: str, params: tuple[Any, ...]) -> Any:
        return await _read_retrying(self.pool, method, sql, params)

    async def write_problem(self) -> str | None:
        row = await self.fetchone(
            "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS ro, "
            "has_schema_privilege(current_schema(), 'CREATE') AS may_create"
        )
        assert row is not None
        if row["standby"] or row["ro"] == "on":
            return "server ini hanya-baca (standby atau default_transaction_read_only)"
        if not row["may_create"]:
            return "pengguna ini tidak boleh membuat tabel di skema (dibutuhkan untuk migrasi)"
        return None


def lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key for a name (Python's hash() changes per process)."""
    return int.from_bytes(hashlib.sha256(f"alur:{name}".encode()).digest()[:8], "big", signed=True)


class Leadership:
    """Roles held as session advisory locks on a connection of this process's own.

    A lock lives as long as the session: a worker that stops cleanly closes it, and one killed with
    SIGKILL loses its TCP connection, whereupon PostgreSQL ends the session and frees its locks at
    once, so a standby's next ``hold`` (every second or so) takes the role over. A connection that
    fails a check is dropped with every role, so a worker cut off from the database stops leading.
    The same connection LISTENs for the channels asked for.
    """

    def __init__(self, url: PostgresUrl) -> None:
        self.url = url
        self.conn: asyncpg.Connection | None = None
        self.held: set[str] = set()
        self.listeners: dict[str, list[Callable[[], None]]] = {}
        self._lock = asyncio.Lock()

    async def _connected(self) -> asyncpg.Connection:
        if self.conn is not None and not self.conn.is_closed():
            await self.conn.fetchval("SELECT 1", timeout=PG_CONNECT_TIMEOUT)
            return self.conn
        self.held.clear()
        self.conn = await asyncpg.connect(self.url.url, timeout=PG_CONNECT_TIMEOUT,
                                          server_settings={"application_name": "alur-leader"})
        for channel in self.listeners:
            await self.conn.add_listener(channel, self._notified)
        return self.conn

    def _notified(self, _conn: object, _pid: int, channel: str, _payload: str) -> None:
        for wake in self.listeners.get(channel, []):
            wake()

    async def hold(self, role: str) -> bool:
        async with self._lock:
            try:
                conn = await self._connected()
                if role not in self.held and await conn.fetchval(
                        "SELECT pg_try_advisory_lock($1)", lock_key(role), timeout=PG_CONNECT_TIMEOUT):
                    self.held.add(role)
            except (*CONNECTION_LOST, TimeoutError, asyncpg.PostgresError):
                await self._drop()
                return False
            return role in self.held

    async def listen(self, channel: str, wake: Callable[[], None]) -> None:
        async with self._lock:
            first = channel not in self.listeners
            self.listeners.setdefault(channel, []).append(wake)
            try:
                conn = await self._connected()
                if first:
                    await conn.add_listener(channel, self._notified)
            except (*CONNECTION_LOST, TimeoutError, asyncpg.PostgresError):
                await self._drop()  # listened to again on the next connection

    async def _drop(self) -> None:
        self.held.clear()
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        async with self._lock:
            self.listeners.clear()
            self.held.clear()
            conn, self.conn = self.conn, None
            if conn is not None and not conn.is_closed():
                try:
                    await asyncio.wait_for(conn.close(), PG_CONNECT_TIMEOUT)
                except (*CONNECTION_LOST, TimeoutError, asyncpg.PostgresError):
                    conn.terminate()


class PostgresReader:
    """``Database.read`` on PostgreSQL: queries only, on a pool of its own beside the writer's."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> asyncpg.Record | None:
        return await _read_retrying(self.pool, "fetchrow", sql, tuple(params))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        return list(await _read_retrying(self.pool, "fetch", sql, tuple(params)))


async def _read_retrying(pool: asyncpg.Pool, method: str, sql: str, params: tuple[Any, ...]) -> Any:
    """A read outside a transaction; tried once more on a new connection when the old one was lost
    (a database restart, a failover). Transactions are not retried here: their caller decides."""
    query = postgres_sql(sql)
    for attempt in range(2):
        try:
            async with pool.acquire() as conn:
                return await getattr(conn, method)(query, *params)
        except CONNECTION_LOST:
            if attempt:
                raise
            await pool.expire_connections()  # the pool's idle connections died with this one: no retry on them
    raise AssertionError("unreachable")


class PostgresTx(Tx):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Executed:
        return Executed.from_status(await self.conn.execute(postgres_sql(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.conn.executemany(postgres_sql(sql), rows)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> asyncpg.Record | None:
        return await self.conn.fetchrow(postgres_sql(sql), *params)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        return list(await self.conn.fetch(postgres_sql(sql), *params))

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        return int(await self.conn.fetchval(with_returning_id(postgres_sql(sql)), *params))

    async def insert_or_skip(self, sql: str, params: Iterable[Any] = ()) -> int | None:
        new_id = await self.conn.fetchval(with_returning_id(postgres_sql(sql)), *params)
        return int(new_id) if new_id is not None else None


async def _pool(url: PostgresUrl, size: int = 1) -> asyncpg.Pool:
    try:
        return await asyncpg.create_pool(
            url.url, min_size=1, max_size=size, timeout=PG_CONNECT_TIMEOUT, statement_cache_size=1024,
            server_settings={"application_name": "alur"}, reset=_keep_session,
        )
    except asyncpg.InvalidCatalogNameError:
        raise
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseError(str(url), DatabaseProblem.UNREACHABLE, _first_line(exc)) from exc


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs between two uses: nothing beyond asyncpg's own rollback of an
    unfinished transaction. The default reset (``UNLISTEN *; RESET ALL; pg_advisory_unlock_all()``) is
    one more round trip per use, for session state these pools never set: LISTEN and session locks
    live on the leadership connection, claims take transaction-scoped locks, and the migration lock
    is released in a ``finally``."""


async def _create_database(url: PostgresUrl) -> None:
    """CREATE DATABASE through the server's ``postgres`` database (needs the CREATEDB right)."""
    try:
        conn = await asyncpg.connect(url.with_database("postgres").url, timeout=PG_CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseError(str(url), DatabaseProblem.MISSING,
                            f"basis data {url.database} belum ada dan tidak dapat dibuat: {_first_line(exc)}") from exc
    try:
        name = url.database.replace('"', '""')
        await conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    except asyncpg.DuplicateDatabaseError:
        pass  # created meanwhile by another process
    except asyncpg.PostgresError as exc:
        raise DatabaseError(str(url), DatabaseProblem.MISSING,
                            f"basis data {url.database} belum ada dan tidak dapat dibuat: {_first_line(exc)}") from exc
    finally:
        await conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
