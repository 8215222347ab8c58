"""Questions about cases and tasks: where a case stands, what follows, its history, a person's open steps."""

from __future__ import annotations

import re

from bot import storage
from bot.sop.model import END, Sop, Step
from bot.storage.records import Attachment, Case, Event, Person, StepInstance
from bot.text.payloads import AssignmentPayload
from bot.workflow.deps import WorkflowDeps
from bot.workflow.errors import WorkflowError
from bot.workflow.notify import Notifier
from bot.workflow.results import CurrentStep, WhatNext

MAX_NUMBER_DIGITS = 12
REGISTER_NO = re.compile(r"[A-Za-z0-9]{1,12}-[A-Za-z0-9]{1,12}-\d{4}-\d{1,8}")
"""A register number as filing makes them: institution prefix, SOP code, year, sequence."""


class CaseQueries:
    def __init__(self, deps: WorkflowDeps, notify: Notifier) -> None:
        self.d = deps
        self.notify = notify

    async def person(self, person_id: int) -> Person | None:
        return await storage.people.person(self.d.db, person_id)

    async def step(self, step_id: int) -> StepInstance | None:
        return await storage.steps.step(self.d.db, step_id)

    async def attachments(self, case_id: int, step_id: int | None = None) -> list[Attachment]:
        return await storage.attachments.attachments(self.d.db, case_id, step_id)

    async def case(self, case_id: int) -> Case | None:
        return await storage.cases.case(self.d.db, case_id)

    async def cases_filed_by(self, person_id: int, limit: int = 20) -> list[Case]:
        """The person's own requests, open ones first, newest first."""
        return await storage.cases.cases_of_requester(self.d.db.read, person_id, limit)

    async def cases_worked_on(self, person_id: int, limit: int = 20) -> list[Case]:
        """Cases whose steps the person holds or held, open ones first, newest first."""
        return await storage.cases.cases_touched_by(self.d.db.read, person_id, limit)

    async def case_by_ref(self, ref: str | int) -> Case | None:
        """A case by register number ('KTP-INFO-2026-0007') or database number ('12'); None for anything else."""
        text = str(ref).strip().lstrip("#")
        if text.isascii() and text.isdigit():
            return await storage.cases.case(self.d.db, int(text)) if len(text) <= MAX_NUMBER_DIGITS else None
        if not REGISTER_NO.fullmatch(text):
            return None
        return await storage.cases.case_by_register(self.d.db, text.upper())

    async def what_next(self, case_id: int) -> WhatNext:
        """The open steps with their holders, and what follows the first of them (each branch of a decision)."""
        db = self.d.db
        case = await storage.cases.case(db, case_id)
        if case is None:
            raise WorkflowError("case_not_found")
        sop = await self.d.sop_of(case)
        current: list[CurrentStep] = []
        for instance in await storage.steps.open_steps_of_case(db, case_id):
            holder = await storage.people.person(db, instance.holder_id) if instance.holder_id else None
            acting = await storage.people.person(db, instance.acting_for_id) if instance.acting_for_id else None
            current.append(CurrentStep(instance, sop.step(instance.step_no), holder, acting))
        following: list[tuple[str, Step | None]] = []
        if current:
            step = current[0].step
            if step.decision:
                for b in step.decision.branches:
                    following.append((b.label, None if b.target == END else sop.step(b.target)))
            else:
                following.append(("", sop.next_step(step)))
        return WhatNext(case, sop, tuple(current), tuple(following))

    async def history(self, case_id: int) -> list[tuple[Event, Person | None, Person | None]]:
        """The case's audit trail with the actor and, where someone acted for another, that person."""
        out = []
        cache: dict[int, Person | None] = {}

        async def who(pid: int | None) -> Person | None:
            if pid is None:
                return None
            if pid not in cache:
                cache[pid] = await storage.people.person(self.d.db, pid)
            return cache[pid]

        for ev in await storage.events.events_of_case(self.d.db, case_id):
            out.append((ev, await who(ev.actor_id), await who(ev.on_behalf_of)))
        return out

    async def steps(self, case_id: int) -> list[StepInstance]:
        return await storage.steps.steps_of_case(self.d.db, case_id)

    async def open_tasks(self, person_id: int) -> list[tuple[StepInstance, Case, Step]]:
        """A person's open steps, soonest due first."""
        out = []
        for instance in await storage.steps.open_steps_held_by(self.d.db.read, person_id):
            case = await storage.cases.case(self.d.db.read, instance.case_id)
            assert case is not None
            sop = await self.d.sop_of(case)
            out.append((instance, case, sop.step(instance.step_no)))
        return out

    async def step_notice(self, step_id: int) -> AssignmentPayload:
        """The assignment payload of an open step as it stands now (for /tugas and re-sent cards)."""
        instance, case, sop = await self.d.load_step(self.d.db, step_id)
        acting = (await storage.people.person(self.d.db, instance.acting_for_id)
                  if instance.acting_for_id else None)
        return await self.notify.assignment_payload(self.d.db, case, sop, sop.step(instance.step_no), instance,
                                                    instance.holder_id, acting)

    async def step_context(self, step_id: int) -> tuple[StepInstance, Case, Sop, Step]:
        instance, case, sop = await self.d.load_step(self.d.db, step_id)
        return instance, case, sop, sop.step(instance.step_no)
