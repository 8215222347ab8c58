"""The services one running Alur needs, built once from the settings and closed together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

import yaml

from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from bot.sop.agencies import Agency, load_agencies
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import DEFAULT_SOP_DIR, Catalog, CatalogError, Problem, load_catalog
from bot.storage.db import Database
from bot.workflow.intake import Intake
from bot.workflow.people import People
from bot.workflow.people_file import parse_people_file
from bot.workflow.use_cases import Workflow

if TYPE_CHECKING:
    from bot.workflow.pictures import Pictures


class StartupError(Exception):
    """A start that cannot go on, told in one line (plus an exit code for the command)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Services:
    settings: Settings
    db: Database
    catalog: Catalog
    calendar: WorkCalendar
    clock: Clock
    workflow: Workflow
    people: People
    intake: Intake
    agencies: dict[str, Agency]
    started_at: datetime | None = None
    """When these services were opened (the digest round sends nothing due before it)."""
    first_start: bool = False
    """No digest has ever been sent from this database (a missed one is then not caught up)."""

    @cached_property
    def pictures(self) -> Pictures:
        """Flowchart pictures, built on first use (drawing is not needed to start, so it is not imported then)."""
        from bot.workflow.pictures import Pictures

        return Pictures(self.workflow)

    async def close(self) -> None:
        await self.db.close()


async def open_services(
    settings: Settings, *, clock: Clock | None = None, catalog: Catalog | None = None, sync_people: bool = True,
    create_db: bool = True,
) -> Services:
    """Load the catalog, calendar and people file (refusing broken ones), then open and migrate the database.

    Everything that can be checked without the database is checked before it is opened, so a
    broken file never leaves a new empty database behind; ``create_db=False`` refuses a database
    file that does not exist yet (`DatabaseError`). On any failure nothing stays open.
    """
    catalog = catalog or load_catalog(settings.sop_dir)
    calendar = settings.calendar()
    clock = clock or SystemClock()
    agencies = _agencies(settings)
    if sync_people and settings.people_file:
        parse_people_file(settings.people_file, catalog)
    db = await Database.open(settings.db_path, create=create_db)
    try:
        workflow = Workflow.build(db, catalog, calendar, clock, settings.policy(), agencies)
        people = People(db, catalog, clock, agencies, handover=workflow.handover)
        intake = Intake(db, catalog, clock, workflow.filing)
        if sync_people and settings.people_file:
            await people.sync_file(settings.people_file)
            await workflow.handover.assign_waiting()
    except BaseException:
        await db.close()
        raise
    return Services(settings, db, catalog, calendar, clock, workflow, people, intake, agencies,
                    started_at=clock.now())


def _agencies(settings: Settings) -> dict[str, Agency]:
    folder = settings.sop_dir or DEFAULT_SOP_DIR
    try:
        return load_agencies(settings.sop_dir)
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise CatalogError([Problem(str(folder / "opd.yaml"), "-", f"tidak terbaca: {detail}")]) from exc
