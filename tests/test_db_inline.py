"""The writer runs SQLite on the event loop's thread: another process's write lock is waited for without
blocking the loop, and still ends in SQLite's own 'database is locked' after the busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.storage.db import Database


async def _ticks(stop: asyncio.Event, out: list[int]) -> None:
    while not stop.is_set():
        out.append(1)
        await asyncio.sleep(0.01)


async def test_a_held_write_lock_is_waited_for_while_the_loop_runs_on(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "w.sqlite3")
    other = sqlite3.connect(tmp_path / "w.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.4, other.execute, "COMMIT")
    stop, ticks = asyncio.Event(), []
    ticker = asyncio.create_task(_ticks(stop, ticks))
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO app_settings (key, value, created_at) VALUES ('k', 'v', 'now')")
    stop.set()
    await ticker
    assert len(ticks) >= 10  # the loop went on while the write waited (a blocking wait would give ~1)
    row = await db.read.fetchone("SELECT value FROM app_settings WHERE key = 'k'")
    assert row is not None and row["value"] == "v"
    other.close()
    await db.close()


async def test_a_lock_held_past_the_busy_timeout_raises_database_is_locked(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "w.sqlite3")
    db.conn.busy_timeout = 0.2
    other = sqlite3.connect(tmp_path / "w.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO app_settings (key, value, created_at) VALUES ('k', 'v', 'now')")
    other.execute("ROLLBACK")
    async with db.transaction() as tx:  # and the writer is usable again
        await tx.execute("INSERT INTO app_settings (key, value, created_at) VALUES ('k', 'v', 'now')")
    other.close()
    await db.close()


async def test_a_syntax_error_is_not_retried(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "w.sqlite3")
    with pytest.raises(sqlite3.OperationalError, match="syntax"):
        await db.fetchone("SELEKT 1")
    await db.close()
