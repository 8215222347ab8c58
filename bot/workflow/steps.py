"""Completing a step and taking a decision branch: one transaction, conditional on the step still being open.

A step finished twice (a double tap, a redelivered update, two holders at once) has one effect:
the second attempt gets ``Outcome(changed=False)`` with who finished it.
"""

from __future__ import annotations

from datetime import datetime

from bot import storage
from bot.core.states import AttachmentPurpose, CaseState, EventType, StepOutcome
from bot.sop.model import END, Sop, Step
from bot.storage.db import Tx
from bot.storage.records import Attachment, Case, Person, StepInstance
from bot.workflow.access import Access
from bot.workflow.assignment import Assigner
from bot.workflow.deps import WorkflowDeps
from bot.workflow.errors import WorkflowError
from bot.workflow.notify import Notifier
from bot.workflow.results import FileUpload, Outcome


async def already_done(tx: Tx, case: Case, instance: StepInstance) -> Outcome:
    """The 'nothing changed' outcome of a step someone already finished, naming who did."""
    current = await storage.steps.step(tx, instance.id)
    by = await storage.people.person(tx, current.completed_by) if current and current.completed_by else None
    return Outcome(False, case, current, (), None, by)


class StepWork:
    def __init__(self, deps: WorkflowDeps, assigner: Assigner, notify: Notifier, access: Access) -> None:
        self.d = deps
        self.assigner = assigner
        self.notify = notify
        self.access = access

    async def complete_step(
        self, step_id: int, actor_id: int, *, note: str | None = None, output: FileUpload | None = None
    ) -> Outcome:
        """Mark a (non-decision) step done and open what follows."""
        return await self._finish(step_id, actor_id, branch_index=None, note=note, output=output)

    async def decide(
        self, step_id: int, actor_id: int, branch_index: int, *, note: str | None = None,
        output: FileUpload | None = None,
    ) -> Outcome:
        """Take one labelled branch of a decision step."""
        return await self._finish(step_id, actor_id, branch_index=branch_index, note=note, output=output)

    async def attach_output(self, step_id: int, actor_id: int, upload: FileUpload) -> Attachment:
        """Attach the step's output (the next holder receives it when the step is done)."""
        now = self.d.clock.now()
        async with self.d.db.transaction() as tx:
            instance, case, _ = await self.d.load_step(tx, step_id)
            actor = await storage.people.person(tx, actor_id)
            if actor is None or not instance.is_open or not self.access.may_act(actor, instance):
                raise WorkflowError("not_holder" if instance.is_open else "step_closed", step=instance.step_no)
            rows = await storage.attachments.attachments(tx, case.id, instance.id)
            same = next((a for a in rows if a.purpose == AttachmentPurpose.OUTPUT and a.file_id == upload.file_id),
                        None)
            if same is not None:  # the same message delivered again (a replay after a crash): attached once
                return same
            aid = await self._store_output(tx, case, instance, actor_id, upload, now)
            rows = await storage.attachments.attachments(tx, case.id, instance.id)
        return next(a for a in rows if a.id == aid)

    async def _finish(
        self, step_id: int, actor_id: int, *, branch_index: int | None, note: str | None, output: FileUpload | None,
    ) -> Outcome:
        now = self.d.clock.now()
        async with self.d.db.transaction() as tx:
            instance, case, sop = await self.d.load_step(tx, step_id)
            actor = await storage.people.person(tx, actor_id)
            if actor is None:
                raise WorkflowError("not_registered")
            if not instance.is_open:
                return await already_done(tx, case, instance)
            if not self.access.may_act(actor, instance):
                raise WorkflowError("not_holder", step=instance.step_no)
            step = sop.step(instance.step_no)
            outcome, label, target = StepOutcome.DONE, None, None
            if step.decision is not None:
                if branch_index is None:
                    raise WorkflowError("needs_decision", step=step.number)
                if not 0 <= branch_index < len(step.decision.branches):
                    raise WorkflowError("bad_branch")
                branch = step.decision.branches[branch_index]
                outcome, label, target = StepOutcome(branch.outcome), branch.label, branch.target
            elif branch_index is not None:
                raise WorkflowError("bad_branch")
            if not await storage.steps.finish_step(tx, step_id, by=actor_id, now=now, outcome=outcome,
                                                   branch_label=label, note=note):
                return await already_done(tx, case, instance)
            if output is not None:
                await self._store_output(tx, case, instance, actor_id, output, now)
            on_behalf = instance.holder_id if instance.holder_id != actor_id else None
            await storage.events.insert_event(
                tx, type=EventType.STEP_DECIDED if label else EventType.STEP_COMPLETED, now=now, case_id=case.id,
                step_instance_id=step_id, actor_id=actor_id, on_behalf_of=on_behalf or instance.acting_for_id,
                data={"step": step.number, "branch": label, "target": target, "outcome": outcome, "note": note},
            )
            opened, closed = await self._advance(tx, case, sop, step, target, outcome, actor, now, note)
            case = await storage.cases.case(tx, case.id)
            done = await storage.steps.step(tx, step_id)
            assert case is not None
        return Outcome(True, case, done, tuple(opened), closed)

    async def _advance(
        self, tx: Tx, case: Case, sop: Sop, step: Step, target: str | None, outcome: StepOutcome, actor: Person,
        now: datetime, note: str | None = None,
    ) -> tuple[list[StepInstance], CaseState | None]:
        """Open the step that follows (the branch's target, else the next one), or close the case at the end.

        A return or a rejection carries the deciding official's reason (``note``) to whoever hears of it:
        the holder of the step it returns to, the requester, everyone told of the closing.
        """
        returned = outcome == StepOutcome.RETURN
        why = note if outcome in (StepOutcome.RETURN, StepOutcome.REJECT) else None
        if target is None:
            nxt = sop.next_step(step)
        elif target == END:
            nxt = None
        else:
            nxt = sop.step(target)
        if nxt is not None:
            back = actor if returned else None
            opened = await self.assigner.open_step(tx, case, sop, nxt, now, returned_by=back, reason=why)
            await self.notify.progress(tx, case, sop, nxt, opened, now, returned=returned, returned_by=back,
                                       reason=why)
            return [opened], None
        if await storage.steps.open_steps_of_case(tx, case.id):
            return [], None
        state = CaseState.REJECTED if outcome == StepOutcome.REJECT else CaseState.COMPLETED
        await storage.cases.close_case(tx, case.id, state, now, why)
        await storage.events.insert_event(tx, type=EventType.closing(state), now=now, case_id=case.id,
                                          actor_id=actor.id, data={"reason": why} if why else None)
        await self.notify.closed(tx, case, sop, state, actor, why, now)
        return [], state

    async def _store_output(
        self, tx: Tx, case: Case, instance: StepInstance, by: int, up: FileUpload, now: datetime
    ) -> int:
        aid = await storage.attachments.insert_attachment(
            tx, case_id=case.id, step_instance_id=instance.id, purpose=AttachmentPurpose.OUTPUT, field=None,
            file_id=up.file_id, file_unique_id=up.file_unique_id, file_name=up.file_name, mime_type=up.mime_type,
            file_size=up.file_size, uploaded_by=by, now=now,
        )
        await storage.events.insert_event(tx, type=EventType.OUTPUT_ATTACHED, now=now, case_id=case.id,
                                          step_instance_id=instance.id, actor_id=by,
                                          data={"attachment_id": aid, "file_name": up.file_name})
        return aid
