"""Notification fan-out: who hears about a workflow change, written to the outbox in the same transaction.

Each notice is an outbox row carrying its payload (bot.text.payloads); a document handed on with
a notice travels as its own row queued right before it, so the recipient has the documents by the
time the card (and its buttons) arrives: the sender delivers a chat's rows of one priority in order.
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
        """Queue each document a notification carries as its own message, then the notification itself.

        Documents first: a holder who acts on the card at once has already received what it hands on.
        (Deduplicated notices, the alarms and digests, carry no documents.)
        """
        for document in payload.documents():
            await storage.outbox.enqueue(tx, person_id=person.id, chat_id=person.telegram_id,
                                         kind=NoticeKind.DOCUMENT, payload=document, priority=priority, now=now)
        await storage.outbox.enqueue(tx, person_id=person.id, chat_id=person.telegram_id, kind=kind, payload=payload,
                                     priority=priority, now=now, dedupe_key=dedupe_key)

    async def requester(self, r: Reader, case: Case) -> Person:
        person = await storage.people.person(r, case.requester_id)
        assert person is not None
        return person

    async def assignment_payload(
        self, r: Reader, case: Case, sop: Sop, step: Step, instance: StepInstance, holder_id: int | None,
        acting_for: Person | None, *, reassigned_by: Person | None = None, reason: str | None = None,
        returned_by: Person | None = None,
    ) -> payloads.AssignmentPayload:
        """The assignment card of a step as it stands now (sent to its holder, and re-sent by /tugas)."""
        name, agency = self.d.requester_of(case)
        for_requester = holder_id == case.requester_id
        return payloads.assignment(
            case, sop, step, instance, self.d.catalog.roles, name, agency,
            acting_for=acting_for, reassigned_by=reassigned_by, reason=reason, returned_by=returned_by,
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
        returned_by: Person | None = None,
    ) -> None:
        payload = await self.assignment_payload(tx, case, sop, step, instance, holder.id, acting_for,
                                                reassigned_by=reassigned_by, reason=reason, returned_by=returned_by)
        await self.enqueue(tx, holder, NoticeKind.ASSIGNMENT, payload, Priority.NORMAL, now)

    async def progress(
        self, tx: Tx, case: Case, sop: Sop, step: Step, opened: StepInstance, now: datetime, *, returned: bool,
        returned_by: Person | None = None, reason: str | None = None,
    ) -> None:
        """Tell the requester where their request went (not when the next step is their own: its card says it)."""
        requester = await self.requester(tx, case)
        if opened.holder_id == requester.id:
            return
        payload = payloads.progress(case, sop, step, self.d.catalog.roles, opened, returned=returned,
                                    returned_by=returned_by, reason=reason)
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
