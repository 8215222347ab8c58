"""The workflow's use cases, built once over shared dependencies (the edges call these, never storage)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.clock import Clock
from bot.sop.agencies import Agency
from bot.sop.calendar import WorkCalendar
from bot.sop.catalog import Catalog
from bot.storage.db import Database
from bot.workflow.access import Access
from bot.workflow.acting import Acting
from bot.workflow.assignment import Assigner
from bot.workflow.cancellation import Cancellation
from bot.workflow.delegation import Delegation
from bot.workflow.deps import WorkflowDeps
from bot.workflow.filing import Filing
from bot.workflow.handover import Handover
from bot.workflow.notify import Notifier
from bot.workflow.policy import ReminderPolicy
from bot.workflow.prompts import Prompts
from bot.workflow.queries import CaseQueries
from bot.workflow.reachability import Reachability
from bot.workflow.steps import StepWork
from bot.workflow.supervision import Supervision


@dataclass(frozen=True)
class Workflow:
    deps: WorkflowDeps
    access: Access
    filing: Filing
    steps: StepWork
    delegation: Delegation
    cancellation: Cancellation
    acting: Acting
    handover: Handover
    queries: CaseQueries
    reachability: Reachability
    prompts: Prompts

    @classmethod
    def build(
        cls, db: Database, catalog: Catalog, calendar: WorkCalendar, clock: Clock,
        policy: ReminderPolicy | None = None, agencies: dict[str, Agency] | None = None,
    ) -> Workflow:
        deps = WorkflowDeps(db, catalog, calendar, clock, policy or ReminderPolicy(), agencies or {})
        notify = Notifier(deps)
        assigner = Assigner(deps, notify)
        access = Access(deps.supervision)
        return cls(
            deps=deps,
            access=access,
            filing=Filing(deps, assigner, notify, access),
            steps=StepWork(deps, assigner, notify, access),
            delegation=Delegation(deps, assigner, notify),
            cancellation=Cancellation(deps, notify, access),
            acting=Acting(deps, notify),
            handover=Handover(deps, assigner, notify),
            queries=CaseQueries(deps, notify),
            reachability=Reachability(deps),
            prompts=Prompts(deps, access),
        )

    @property
    def supervision(self) -> Supervision:
        return self.deps.supervision

    @property
    def db(self) -> Database:
        return self.deps.db

    @property
    def catalog(self) -> Catalog:
        return self.deps.catalog

    @property
    def calendar(self) -> WorkCalendar:
        return self.deps.calendar

    @property
    def clock(self) -> Clock:
        return self.deps.clock

    @property
    def policy(self) -> ReminderPolicy:
        return self.deps.policy
