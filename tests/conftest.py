"""Shared fixtures: the real catalog, a real database (SQLite file or PostgreSQL), a clock the tests move.

Every test that uses a database (the ``db``, ``db_path``, ``workflow`` or ``people`` fixture, or the
end-to-end ``alur_world``) runs twice: on an SQLite file and on a fresh PostgreSQL database of the
session's own server (tests/pg_server.py, started on first use and stopped at the end). A test that
is SQLite by nature (the file, WAL, backups) is marked ``@pytest.mark.sqlite_only("why")``.

At the end of the run the suite checks that no test left a process behind: any child process
of the test run still alive fails the run (and is then stopped).
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ACCEPTED
from bot.core.clock import ManualClock
from bot.sop.agencies import load_agencies
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog, load_catalog
from bot.storage.db import Database
from bot.storage.dialect import PostgresUrl
from bot.workflow.people import People
from bot.workflow.use_cases import Workflow

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=WIB)

import backends  # noqa: E402 - after MONDAY_8: world.py, imported through it, reads it
from pg_server import PgServer  # noqa: E402

DATABASE_FIXTURES = frozenset({"db", "db_path", "workflow", "people"})



def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that uses a database on both backends (ids ``[sqlite]`` and ``[postgresql]``)."""
    if "backend" not in metafunc.fixturenames:
        return
    uses_database = bool(DATABASE_FIXTURES & set(metafunc.fixturenames)) or hasattr(metafunc.module, "alur_world")
    marker = metafunc.definition.get_closest_marker("sqlite_only")
    if marker is not None and not (marker.args or marker.kwargs.get("reason")):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: sqlite_only needs a reason")
    if uses_database and marker is None:
        metafunc.parametrize("backend", backends.BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (started on first use, stopped and removed at the end)."""
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def pg_url(pg_server: PgServer) -> AsyncIterator[PostgresUrl]:
    """A fresh, empty PostgreSQL database of the test's own, whatever backend the test runs on."""
    async with backends.fresh_database(pg_server) as url:
        yield url


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``; tests without a database are not parametrized and get ``sqlite``."""
    return getattr(request, "param", backends.SQLITE)


@pytest.fixture(autouse=True)
def _world_on_backend(backend: str, request: pytest.FixtureRequest) -> Iterator[None]:
    """On PostgreSQL, ``alur_world`` (tests/world.py) uses the test's fresh database (the ``db_path`` one)."""
    if backend == backends.POSTGRESQL:
        backends.world_target = request.getfixturevalue("db_path")
    yield
    backends.world_target = None


@pytest.fixture(autouse=True)
def no_deployment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own ALUR_* / TELEGRAM_* settings never reach a test (tests set what they need)."""
    for name in ACCEPTED:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_8)


@pytest.fixture
async def db_path(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Path | PostgresUrl]:
    """Where the test's database lives: an SQLite file (not created yet) or an empty PostgreSQL database."""
    if backend == backends.SQLITE:
        yield tmp_path / "alur.sqlite3"
        return
    async with backends.fresh_database(request.getfixturevalue("pg_server")) as url:
        yield url


@pytest.fixture
async def db(db_path: Path | PostgresUrl) -> AsyncIterator[Database]:
    database = await Database.open(db_path)
    yield database
    await database.close()


@pytest.fixture
def agencies() -> dict:
    return load_agencies()


@pytest.fixture
def workflow(db: Database, catalog: Catalog, calendar: WorkCalendar, clock: ManualClock, agencies: dict) -> Workflow:
    return Workflow.build(db, catalog, calendar, clock, agencies=agencies)


@pytest.fixture
def people(db: Database, catalog: Catalog, clock: ManualClock, agencies: dict, workflow: Workflow) -> People:
    return People(db, catalog, clock, agencies, handover=workflow.handover)


def live_descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live (not zombie) descendant of ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] in ("Z", "X"):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[tuple[int, str]] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            stack.append(child)
            try:
                cmd = (proc / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                cmd = "?"
            found.append((child, cmd.strip()))
    return found


INTERPRETER_HELPERS = ("multiprocessing.resource_tracker",)
"""Started by the interpreter on first use of multiprocessing (test_engine's spawn context); it ends with us."""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any test left a process running (and stop those processes)."""
    leftovers = [(pid, cmd) for pid, cmd in live_descendants(os.getpid())
                 if not any(helper in cmd for helper in INTERPRETER_HELPERS)]
    if not leftovers:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(f"FAILED: the tests left {len(leftovers)} process(es) running (now killed):", red=True)
    for pid, cmd in leftovers:
        if reporter is not None:
            reporter.write_line(f"  {pid}: {cmd}", red=True)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
