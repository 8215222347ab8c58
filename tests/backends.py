"""Which database a test runs on: SQLite (a file in tmp_path) or PostgreSQL (a fresh database on the session's server).

conftest.py parametrizes every test that uses a database over both backends (see its
``pytest_generate_tests``) and sets ``world_target`` for the end-to-end world; a test that is
SQLite by nature says so with ``@pytest.mark.sqlite_only("why")``.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from bot.storage.dialect import PostgresUrl

from pg_server import PgServer

SQLITE, POSTGRESQL = "sqlite", "postgresql"
BACKENDS = (SQLITE, POSTGRESQL)

world_target: Path | PostgresUrl | None = None
"""The database ``alur_world`` uses when the running test is on PostgreSQL (None: an SQLite file)."""

_numbers = itertools.count(1)


@contextlib.asynccontextmanager
async def fresh_database(server: PgServer) -> AsyncIterator[PostgresUrl]:
    """An empty database of its own for one test, dropped afterwards (with any connection left to it)."""
    name = f"alur_test_{next(_numbers)}"
    admin = await asyncpg.connect(server.dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield PostgresUrl(server.dsn(name))
    finally:
        admin = await asyncpg.connect(server.dsn())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
