"""When people change: a departing person's steps go to another holder; waiting steps find a new one."""

from __future__ import annotations

from bot import storage
from bot.core.states import EventType
from bot.storage.records import StepInstance
from bot.workflow.assignment import Assigner
from bot.workflow.deps import WorkflowDeps
from bot.workflow.notify import Notifier


class Handover:
    def __init__(self, deps: WorkflowDeps, assigner: Assigner, notify: Notifier) -> None:
        self.d = deps
        self.assigner = assigner
        self.notify = notify

    async def release_person(self, person_id: int) -> list[StepInstance]:
        """Hand a departing person's open steps to another holder of the role (or mark them unassigned)."""
        now = self.d.clock.now()
        moved: list[StepInstance] = []
        async with self.d.db.transaction() as tx:
            for instance in await storage.steps.open_steps_held_by(tx, person_id):
                case = await storage.cases.case(tx, instance.case_id)
                assert case is not None
                if instance.role == "requester":
                    continue
                sop = await self.d.sop_of(case, tx)
                step = sop.step(instance.step_no)
                holder, acting_for = await self.assigner.choose_holder(tx, case, instance.role, now, {person_id})
                await storage.steps.set_holder(tx, instance.id, holder.id if holder else None,
                                               acting_for.id if acting_for else None)
                await storage.events.insert_event(tx, type=EventType.STEP_RELEASED, now=now, case_id=case.id,
                                                  step_instance_id=instance.id, on_behalf_of=person_id,
                                                  data={"holder_id": holder.id if holder else None})
                updated = await storage.steps.step(tx, instance.id)
                assert updated is not None
                if holder is None:
                    await storage.cases.set_case_unassigned(tx, case.id, True)
                    await self.notify.unassigned(tx, case, sop, step, now)
                else:
                    await self.notify.assigned(tx, case, sop, step, updated, holder, acting_for, now)
                moved.append(updated)
        return moved

    async def assign_waiting(self) -> list[StepInstance]:
        """Give unassigned open steps to anyone who now holds their role (after people change)."""
        now = self.d.clock.now()
        assigned: list[StepInstance] = []
        async with self.d.db.transaction() as tx:
            for instance in await storage.steps.unassigned_open_steps(tx):
                case = await storage.cases.case(tx, instance.case_id)
                assert case is not None
                holder, acting_for = await self.assigner.choose_holder(tx, case, instance.role, now, set())
                if holder is None:
                    continue
                await storage.steps.set_holder(tx, instance.id, holder.id, acting_for.id if acting_for else None)
                await storage.events.insert_event(tx, type=EventType.STEP_ASSIGNED, now=now, case_id=case.id,
                                                  step_instance_id=instance.id, data={"holder_id": holder.id})
                if not await storage.steps.unassigned_open_steps_of_case(tx, case.id):
                    await storage.cases.set_case_unassigned(tx, case.id, False)
                sop = await self.d.sop_of(case, tx)
                updated = await storage.steps.step(tx, instance.id)
                assert updated is not None
                await self.notify.assigned(tx, case, sop, sop.step(instance.step_no), updated, holder, acting_for,
                                           now)
                assigned.append(updated)
        return assigned
