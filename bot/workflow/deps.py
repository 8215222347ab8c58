"""What every use case works with: the database, the catalog, working time, the clock and the policies."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import storage
from bot.core.clock import Clock
from bot.sop.agencies import Agency
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.sop.model import Sop, sop_from_snapshot
from bot.storage.db import Database, Reader
from bot.storage.records import Case, Person, StepInstance
from bot.workflow.errors import WorkflowError
from bot.workflow.policy import ReminderPolicy
from bot.workflow.supervision import Supervision


@dataclass
class WorkflowDeps:
    db: Database
    catalog: Catalog
    calendar: WorkCalendar
    clock: Clock
    policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    agencies: dict[str, Agency] = field(default_factory=dict)
    supervision: Supervision = field(init=False)
    _pinned: dict[str, Sop] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.supervision = Supervision(self.catalog.roles)

    async def sop_of(self, case: Case, r: Reader | None = None) -> Sop:
        """The SOP version the case started with (not the catalog's current one)."""
        pinned = self._pinned.get(case.sop_hash)
        if pinned is None:
            current = self.catalog.get(case.sop_id)
            if current is not None and current.content_hash == case.sop_hash:
                pinned = current
            else:
                text = await storage.sop_versions.sop_snapshot(r or self.db, case.sop_hash)
                if text is None:
                    raise WorkflowError("sop_version_missing", sop=case.sop_id)
                pinned = sop_from_snapshot(text)
            self._pinned[case.sop_hash] = pinned
        return pinned

    async def load_step(self, r: Reader, step_id: int) -> tuple[StepInstance, Case, Sop]:
        """A step instance with its case and the case's pinned SOP, or WorkflowError('step_not_found')."""
        instance = await storage.steps.step(r, step_id)
        if instance is None:
            raise WorkflowError("step_not_found")
        case = await storage.cases.case(r, instance.case_id)
        assert case is not None
        return instance, case, await self.sop_of(case, r)

    def agency_name(self, person: Person) -> str:
        agency = self.agencies.get(person.opd or "")
        return agency.name if agency else ""

    def requester_of(self, case: Case) -> tuple[str, str]:
        """(name, agency) of the case's requester as filed: a later re-registration changes neither."""
        agency = case.requester_agency
        if not agency and case.requester_opd:  # filed before agency names were kept: the name of that agency now
            found = self.agencies.get(case.requester_opd)
            agency = found.name if found else ""
        return case.requester_name or "-", agency

    def unit_name(self, institution: str, unit: str) -> str:
        inst = self.catalog.institutions.get(institution)
        found = inst.unit(unit) if inst else None
        return found.name if found else unit
