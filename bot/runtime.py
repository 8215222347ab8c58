"""The services one running Alur needs, built once from the settings and closed together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from bot.sop.agencies import Agency, load_agencies
from bot.sop.calendar import WorkCalendar
from bot.sop.model import Catalog, load_catalog
from bot.storage.db import Database
from bot.workflow.engine import Engine
from bot.workflow.people import People

if TYPE_CHECKING:
    from bot.workflow.pictures import Pictures


@dataclass
class Services:
    settings: Settings
    db: Database
    catalog: Catalog
    calendar: WorkCalendar
    clock: Clock
    engine: Engine
    people: People
    agencies: dict[str, Agency]
    pictures: Pictures
    """Flowchart pictures (imported once the database is open: it is not needed to start)."""

    async def close(self) -> None:
        await self.db.close()


async def open_services(
    settings: Settings, *, clock: Clock | None = None, catalog: Catalog | None = None, sync_people: bool = True
) -> Services:
    """Load the catalog (refusing a broken one), open and migrate the database, apply the people file."""
    catalog = catalog or load_catalog(settings.sop_dir)
    calendar = settings.calendar()
    clock = clock or SystemClock()
    agencies = load_agencies(settings.sop_dir)
    db = await Database.open(settings.db_path)
    engine = Engine(db, catalog, calendar, clock, settings.policy(), agencies)
    people = People(db, catalog, clock, agencies)
    if sync_people and settings.people_file:
        await people.sync_file(settings.people_file)
        await engine.assign_waiting()
    from bot.workflow.pictures import Pictures

    return Services(settings, db, catalog, calendar, clock, engine, people, agencies,
                    Pictures(engine, catalog, calendar))
