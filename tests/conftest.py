"""Shared fixtures: the real catalog, a real SQLite file, a clock the tests move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.clock import ManualClock
from bot.sop.agencies import load_agencies
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog, load_catalog
from bot.storage.db import Database
from bot.workflow.people import People
from bot.workflow.use_cases import Workflow

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=WIB)


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
