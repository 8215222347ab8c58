"""Shared fixtures: the real catalog, a real SQLite file, a clock the tests move.

At the end of the run the suite checks that no test left a process behind: any child process
of the test run still alive fails the run (and is then stopped).
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
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
from bot.workflow.people import People
from bot.workflow.use_cases import Workflow

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=WIB)


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
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "alur.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
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
def people(db: Database, catalog: Catalog, clock: ManualClock, agencies: dict) -> People:
    return People(db, catalog, clock, agencies)


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
