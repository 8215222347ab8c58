"""Disposisi: handing an open step to a colleague, with a reason the new holder reads."""

from __future__ import annotations

from bot import storage
from bot.core.states import EventType
from bot.storage.db import Reader
from bot.storage.records import Case, Person, StepInstance
from bot.workflow.assignment import Assigner
from bot.workflow.deps import WorkflowDeps
from bot.workflow.errors import WorkflowError
from bot.workflow.inputs import clean_answer
from bot.workflow.notify import Notifier
from bot.workflow.results import Outcome
from bot.workflow.steps import already_done


class Delegation:
    def __init__(self, deps: WorkflowDeps, assigner: Assigner, notify: Notifier) -> None:
        self.d = deps
        self.assigner = assigner
        self.notify = notify

    async def reassign(self, step_id: int, by_id: int, to_id: int, reason: str) -> Outcome:
        """The holder, a supervisor of the unit or an admin hands an open step to someone else."""
        reason = clean_answer(reason)
        if not reason:
            raise WorkflowError("reason_required")
        now = self.d.clock.now()
        async with self.d.db.transaction() as tx:
            instance, case, sop = await self.d.load_step(tx, step_id)
            by = await storage.people.person(tx, by_id)
            to = await storage.people.person(tx, to_id)
            if by is None:
                raise WorkflowError("not_registered")
            if not instance.is_open:
                return await already_done(tx, case, instance)
            if to is None or not to.active or not to.is_staff or to.institution != case.institution:
                raise WorkflowError("bad_target")
            if to.id == instance.holder_id:
                raise WorkflowError("same_holder", name=to.name)
            candidates = await self.reassign_candidates(tx, instance, case, by)
            if to.id not in {p.id for p in candidates}:
                raise WorkflowError("not_allowed_reassign" if not candidates else "bad_target")
            previous = await storage.people.person(tx, instance.holder_id) if instance.holder_id else None
            target, acting_for = await self.assigner.route_acting(tx, to, now)
            if not await storage.steps.set_holder(tx, step_id, target.id, acting_for.id if acting_for else None):
                return await already_done(tx, case, instance)
            await storage.events.insert_event(
                tx, type=EventType.STEP_REASSIGNED, now=now, case_id=case.id, step_instance_id=step_id,
                actor_id=by.id, on_behalf_of=acting_for.id if acting_for else None,
                data={"from": previous.id if previous else None, "to": target.id, "reason": reason,
                      "step": instance.step_no},
            )
            if not await storage.steps.unassigned_open_steps_of_case(tx, case.id):
                await storage.cases.set_case_unassigned(tx, case.id, False)
            step = sop.step(instance.step_no)
            updated = await storage.steps.step(tx, step_id)
            assert updated is not None
            await self.notify.assigned(tx, case, sop, step, updated, target, acting_for, now,
                                       reassigned_by=by, reason=reason)
            if previous is not None and previous.id not in (by.id, target.id):
                await self.notify.taken_over(tx, case, step, previous, by, target, reason, now)
        return Outcome(True, case, updated)

    async def reassign_candidates(self, r: Reader, instance: StepInstance, case: Case, by: Person) -> list[Person]:
        """Who ``by`` may hand this step to: colleagues with the role (holder), anyone in the unit (supervisor or
        an admin over the case's institution)."""
        if not instance.is_open or not by.active:
            return []
        staff = [p for p in await storage.people.people(r) if p.is_staff and p.institution == case.institution]
        role = self.d.catalog.roles.roles.get(instance.role)
        supervision = self.d.supervision
        if supervision.administers(by, case.institution) or supervision.supervises(by, case, instance.role):
            in_unit = [p for p in staff if p.unit == case.unit or p.unit is None or (role and role.scope == "org")]
            return [p for p in in_unit if p.id != instance.holder_id]
        if by.id == instance.holder_id:
            return [p for p in staff if instance.role in p.roles and p.id != by.id and
                    (role is None or role.scope == "org" or p.unit == case.unit)]
        return []
