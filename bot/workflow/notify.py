"""Notification fan-out: who hears about a workflow change, written to the outbox in the same transaction.

Each notice is an outbox row carrying its payload (bot.text.payloads); a document handed on with
a notice travels as its own row right behind it, so the recipient gets both in order.
"""

from __future__ import annotations

from datetime import datetime

from bot import storage
from bot.core.states import AttachmentPurpose, CaseState, NoticeKind, Priority
from bot.sop.model import Sop, Step
from bot.storage.db import Reader, Tx
from bot.storage.records import Attachment, Case, Person, StepInstance
from bot.text import payloads
from bot.workflow.deps import WorkflowDeps


def handed_files(files: list[Attachment], for_requester: bool) -> list[Attachment]:
    """What goes with a new step: the latest output handed on, and (for staff) the request's own documents."""
    outputs = [a for a in files if a.purpose == AttachmentPurpose.OUTPUT][-1:]
    return outputs if for_requester else outputs + [a for a in files if a.purpose == AttachmentPurpose.INTAKE]


class Notifier:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    async def enqueue(
        self, tx: Tx, person: Person, kind: NoticeKind, payload: payloads.Payload, priority: Priority,
        now: datetime, dedupe_key: str | None = None,
    ) -> None:
        """Queue a notification, then each document it carries as its own message (delivered right after)."""
        await storage.outbox.enqueue(tx, person_id=person.id, chat_id=person.telegram_id, kind=kind, payload=payload,
                                     priority=priority, now=now, dedupe_key=dedupe_key)
        for document in payload.documents():
            await storage.outbox.enqueue(tx, person_id=person.id, chat_id=person.telegram_id,
                                         kind=NoticeKind.DOCUMENT, payload=document, priority=priority, now=now)

    async def requester(self, r: Reader, case: Case) -> Person:
        person = await storage.people.person(r, case.requester_id)
        assert person is not None
        return person

    async def assignment_payload(
        self, r: Reader, case: Case, sop: Sop, step: Step, instance: StepInstance, holder_id: int | None,
        acting_for: Person | None, *, reassigned_by: Person | None = None, reason: str | None = None,
    ) -> payloads.AssignmentPayload:
        """The assignment card of a step as it stands now (sent to its holder, and re-sent by /tugas)."""
        requester = await self.requester(r, case)
        for_requester = holder_id == case.requester_id
        return payloads.assignment(
            case, sop, step, instance, self.d.catalog.roles, requester, self.d.agency_name(requester),
            acting_for=acting_for, reassigned_by=reassigned_by, reason=reason,
            files=handed_files(await storage.attachments.attachments(r, case.id), for_requester),
            for_requester=for_requester,
        )

    async def filed(
        self, tx: Tx, case: Case, sop: Sop, requester: Person, opened: list[StepInstance], now: datetime
    ) -> None:
        current = [payloads.position(sop, sop.step(inst.step_no), self.d.catalog.roles, inst) for inst in opened]
        await self.enqueue(tx, requester, NoticeKind.CASE_FILED, payloads.filed(case, sop, current), Priority.REPLY,
                           now)

    async def assigned(
        self, tx: Tx, case: Case, sop: Sop, step: Step, instance: StepInstance, holder: Person,
        acting_for: Person | None, now: datetime, *, reassigned_by: Person | None = None, reason: str | None = None,
    ) -> None:
        payload = await self.assignment_payload(tx, case, sop, step, instance, holder.id, acting_for,
                                                reassigned_by=reassigned_by, reason=reason)
        await self.enqueue(tx, holder, NoticeKind.ASSIGNMENT, payload, Priority.NORMAL, now)

    async def progress(
        self, tx: Tx, case: Case, sop: Sop, step: Step, opened: StepInstance, now: datetime, *, returned: bool
    ) -> None:
        """Tell the requester where their request went (not when the next step is their own)."""
        requester = await self.requester(tx, case)
        if opened.holder_id == requester.id:
            return
        payload = payloads.progress(case, sop, step, self.d.catalog.roles, opened, returned=returned)
        await self.enqueue(tx, requester, NoticeKind.PROGRESS, payload, Priority.NORMAL, now)

    async def unassigned(self, tx: Tx, case: Case, sop: Sop, step: Step, now: datetime) -> None:
        """Nobody holds the step's role: everyone who oversees the unit hears of it."""
        payload = payloads.unassigned(case, sop, step, self.d.catalog.roles,
                                      self.d.unit_name(case.institution, case.unit))
        for person in await self.d.supervision.overseers(tx, case):
            await self.enqueue(tx, person, NoticeKind.UNASSIGNED, payload, Priority.NORMAL, now)

    async def taken_over(
        self, tx: Tx, case: Case, step: Step, previous: Person, by: Person, to: Person, reason: str, now: datetime
    ) -> None:
        await self.enqueue(tx, previous, NoticeKind.STEP_TAKEN_OVER, payloads.taken_over(case, step, by, to, reason),
                           Priority.NORMAL, now)

    async def closed(
        self, tx: Tx, case: Case, sop: Sop, state: CaseState, by: Person, reason: str | None, now: datetime,
        extra: list[int] | None = None,
    ) -> None:
        """Everyone who worked on the case, and the requester (with the final letter), hears how it ended."""
        finals = [a for a in await storage.attachments.attachments(tx, case.id)
                  if a.purpose == AttachmentPurpose.OUTPUT]
        steps = await storage.steps.steps_of_case(tx, case.id)
        if steps and steps[-1].role == "requester":
            finals = []  # the requester's own last step already handed them the result
        concerned = {case.requester_id, *(extra or [])}
        for inst in steps:
            if inst.holder_id:
                concerned.add(inst.holder_id)
            if inst.completed_by:
                concerned.add(inst.completed_by)
        for pid in sorted(concerned):
            person = await storage.people.person(tx, pid)
            if person is None:
                continue
            for_requester = pid == case.requester_id
            payload = payloads.closed(case, sop, state, by, reason, finals[-1:] if for_requester else [],
                                      for_requester=for_requester)
            await self.enqueue(tx, person, NoticeKind.closing(state), payload, Priority.NORMAL, now)
