"""Acting officials (Plt/Plh): the absent person's open and new steps go to the acting one for a date range."""

from __future__ import annotations

from bot import storage
from bot.core.states import EventType
from bot.storage.records import StepInstance
from bot.workflow.deps import WorkflowDeps
from bot.workflow.errors import WorkflowError
from bot.workflow.notify import Notifier


class Acting:
    def __init__(self, deps: WorkflowDeps, notify: Notifier) -> None:
        self.d = deps
        self.notify = notify

    async def act_for(
        self, absent_id: int, acting_id: int, start: str, end: str, *, kind: str = "plh", reason: str = "",
        by_id: int | None = None,
    ) -> list[StepInstance]:
        """Record the arrangement; if it covers today, move the absent person's open steps now."""
        if end < start:
            raise WorkflowError("bad_dates")
        now = self.d.clock.now()
        moved: list[StepInstance] = []
        async with self.d.db.transaction() as tx:
            absent = await storage.people.person(tx, absent_id)
            acting = await storage.people.person(tx, acting_id)
            if absent is None or acting is None or not acting.active or not acting.is_staff or absent_id == acting_id:
                raise WorkflowError("bad_target")
            await storage.acting.insert_acting(tx, absent_id=absent_id, acting_id=acting_id, kind=kind, start=start,
                                               end=end, reason=reason, now=now)
            await storage.events.insert_event(tx, type=EventType.ACTING_SET, now=now, actor_id=by_id,
                                              on_behalf_of=absent_id,
                                              data={"acting_id": acting_id, "start": start, "end": end, "kind": kind})
            today = now.astimezone(self.d.calendar.tz).date().isoformat()
            if not start <= today <= end:
                return moved
            for instance in await storage.steps.open_steps_held_by(tx, absent_id):
                await storage.steps.set_holder(tx, instance.id, acting_id, absent_id)
                case = await storage.cases.case(tx, instance.case_id)
                assert case is not None
                sop = await self.d.sop_of(case, tx)
                await storage.events.insert_event(
                    tx, type=EventType.STEP_REROUTED, now=now, case_id=case.id, step_instance_id=instance.id,
                    actor_id=acting_id, on_behalf_of=absent_id, data={"step": instance.step_no, "kind": kind},
                )
                updated = await storage.steps.step(tx, instance.id)
                assert updated is not None
                await self.notify.assigned(tx, case, sop, sop.step(instance.step_no), updated, acting, absent, now)
                moved.append(updated)
        return moved
