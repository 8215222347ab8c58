"""Schema migrations: a database made by the first schema upgrades in place and keeps its data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot import storage
from bot.storage.db import Database, migrations
from bot.storage.dialect import Dialect, PostgresUrl
from bot.storage.workers import RECENT_CLAIMERS

from pg_server import PgServer


async def test_upgrade_from_the_first_schema(db_path: Path | PostgresUrl) -> None:
    path = db_path
    db = await Database.open(path, upto=1)
    assert await db.schema_version() == 1
    now = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    async with db.transaction() as tx:
        pid = await storage.people.insert_person(tx, name="Lama", kind="staff", now=now, telegram_id=77,
                                        institution="ketapang")
        await tx.execute(
            "INSERT INTO outbox (created_at, person_id, chat_id, priority, kind, payload, state, not_before) "
            "VALUES (?, ?, 77, 1, 'progress', '{}', 'pending', ?)", (now.isoformat(), pid, now.isoformat()),
        )
    await db.close()

    db = await Database.open(path)
    latest = max(v for v, _, _ in migrations(db.dialect))
    assert await db.schema_version() == latest >= 2
    person = await storage.people.person(db, pid)
    assert person is not None and person.name == "Lama"
    rows = await storage.outbox.outbox(db)
    assert len(rows) == 1 and rows[0].state == "pending"
    row = await db.fetchone("SELECT uncertain FROM outbox WHERE id = ?", (rows[0].id,))
    assert row is not None and row["uncertain"] == 0
    assert await storage.drafts.draft(db, pid) is None  # the drafts table exists now
    assert await db.migrate() == []  # nothing left to apply
    await db.close()


def test_both_backends_have_the_same_migrations() -> None:
    """Each SQLite migration has its PostgreSQL twin (same number and name) and the other way round."""
    sqlite = [(v, n) for v, n, _ in migrations(Dialect.SQLITE)]
    postgres = [(v, n) for v, n, _ in migrations(Dialect.POSTGRESQL)]
    assert sqlite and sqlite == postgres


@pytest.mark.sqlite_only("SQLite's own settings: WAL journal, foreign keys, busy timeout")
async def test_pragmas(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "p.sqlite3")
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert db.conn.busy_timeout >= 5  # another process's write lock is waited for (in asynchronous sleeps)
    assert (await db.read_in_thread.fetchone("PRAGMA busy_timeout"))[0] >= 5000
    await db.close()


async def test_the_doctors_recent_claimers_are_read_through_an_index(pg_server: PgServer, pg_url: PostgresUrl) -> None:
    """Handled updates keep their worker and lease for the retention period: `alur doctor`'s list of workers
    that claimed lately must not read all of them (migration 0016's partial index on the lease)."""
    db = await Database.open(pg_url)
    try:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO updates (update_id, received_at, payload, state, worker, lease_until) VALUES "
                "(1, 'x', NULL, 'handled', 'gone', now() - interval '2 days'), "
                "(2, 'x', NULL, 'handled', 'w1', now() - interval '1 minute'), "
                "(3, 'x', '{}', 'received', 'w2', now() + interval '30 seconds'), "
                "(4, 'x', '{}', 'received', NULL, NULL)")
        claimers = await storage.workers.recent_claimers(db, 600)
    finally:
        await db.close()
    assert [(c.worker, c.holding) for c in claimers] == [("w2", 1), ("w1", 0)]
    conn = await asyncpg.connect(pg_server.dsn(pg_url.database))
    try:
        await conn.execute("SET enable_seqscan = off")  # a four-row table would be scanned whatever the indexes
        plan = "\n".join(row[0] for row in await conn.fetch("EXPLAIN " + RECENT_CLAIMERS.replace("?", "$1"), 600.0))
    finally:
        await conn.close()
    assert "updates_claimed" in plan, plan
