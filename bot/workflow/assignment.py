"""Opening a step: its deadlines in working time, its holder, and who is told.

The holder is the least-loaded active holder of the step's role (in the case's unit for a
unit-scoped role; through a proxy role for an external actor such as the Bupati), routed to
their acting official (Plt/Plh) when absent. With nobody to hold it the case is flagged
unassigned and everyone overseeing the unit is told.
"""

from __future__ import annotations

from datetime import datetime

from bot import storage
from bot.core.states import EventType
from bot.sop.durations import Duration
from bot.sop.model import Sop, Step
from bot.storage.db import Tx
from bot.storage.records import Case, Person, StepInstance
from bot.workflow.deps import WorkflowDeps
from bot.workflow.notify import Notifier


class Assigner:
    def __init__(self, deps: WorkflowDeps, notify: Notifier) -> None:
        self.d = deps
        self.notify = notify

    async def open_step(
        self, tx: Tx, case: Case, sop: Sop, step: Step, now: datetime, *, exclude: set[int] | None = None,
        returned_by: Person | None = None, reason: str | None = None,
    ) -> StepInstance:
        """Open a step instance with its deadlines and assign it; notify the holder or the overseers.

        ``returned_by``/``reason``: a decision sent the request back to this step, and why (on the card)."""
        holder, acting_for = await self.choose_holder(tx, case, step.actor, now, exclude or set())
        duration = sop.duration(step)
        due = remind = prewarn = escalate = None
        if duration is not None and not duration.is_zero:
            due = self.d.calendar.add(now, duration)
            remind, prewarn, escalate = self.alarms(now, due, step.actor == "requester")
        sid = await storage.steps.insert_step(
            tx, case_id=case.id, step_no=step.number, role=step.actor, holder_id=holder.id if holder else None,
            acting_for_id=acting_for.id if acting_for else None, now=now, due_at=due, remind_at=remind,
            prewarn_at=prewarn, escalate_at=escalate,
        )
        await storage.events.insert_event(
            tx, type=EventType.STEP_OPENED, now=now, case_id=case.id, step_instance_id=sid,
            data={"step": step.number, "role": step.actor, "holder_id": holder.id if holder else None,
                  "due_at": due.isoformat() if due else None},
        )
        instance = await storage.steps.step(tx, sid)
        assert instance is not None
        if holder is None:
            await storage.cases.set_case_unassigned(tx, case.id, True)
            await storage.events.insert_event(tx, type=EventType.STEP_UNASSIGNED, now=now, case_id=case.id,
                                              step_instance_id=sid, data={"step": step.number, "role": step.actor})
            await self.notify.unassigned(tx, case, sop, step, now)
        else:
            if acting_for is not None:
                await storage.events.insert_event(
                    tx, type=EventType.ACTING_ASSIGNED, now=now, case_id=case.id, step_instance_id=sid,
                    actor_id=holder.id, on_behalf_of=acting_for.id, data={"step": step.number},
                )
            await self.notify.assigned(tx, case, sop, step, instance, holder, acting_for, now,
                                       returned_by=returned_by, reason=reason)
        return instance

    def alarms(
        self, opened: datetime, due: datetime, requester_step: bool
    ) -> tuple[datetime | None, datetime | None, datetime | None]:
        """(remind, prewarn, escalate): a share of the standard time, an hour before due, a grace after due."""
        calendar, p = self.d.calendar, self.d.policy
        standard = calendar.working_minutes(opened, due)
        remind = calendar.add(opened, Duration(minutes=max(1, int(standard * p.remind_fraction))))
        prewarn = None
        if standard > p.prewarn_min_standard:
            prewarn = calendar.add(opened, Duration(minutes=standard - p.prewarn_minutes))
            if prewarn <= remind:
                prewarn = None
        escalate = None if requester_step else calendar.add(due, p.escalation_grace)
        return remind, prewarn, escalate

    async def choose_holder(
        self, tx: Tx, case: Case, role_id: str, now: datetime, exclude: set[int]
    ) -> tuple[Person | None, Person | None]:
        """(holder, acting_for): the least-loaded holder of the role, routed to their Plt/Plh if absent."""
        if role_id == "requester":
            return await storage.people.person(tx, case.requester_id), None
        candidates = await self._role_holders(tx, case, role_id)
        role = self.d.catalog.roles.roles.get(role_id)
        if not candidates and role is not None and role.kind == "external":
            for proxy in role.proxy:
                candidates = await self._role_holders(tx, case, proxy)
                if candidates:
                    break
        candidates = [(p, load) for p, load in candidates if p.id not in exclude]
        if not candidates:
            return None, None
        chosen = min(candidates, key=lambda pl: (pl[1], pl[0].id))[0]
        return await self.route_acting(tx, chosen, now)

    async def _role_holders(self, tx: Tx, case: Case, role_id: str) -> list[tuple[Person, int]]:
        role = self.d.catalog.roles.roles.get(role_id)
        unit = case.unit if role is not None and role.scope == "unit" else None
        return await storage.people.holders_of(tx, role_id, case.institution, unit)

    async def route_acting(self, tx: Tx, person: Person, now: datetime) -> tuple[Person, Person | None]:
        """The person, or their acting official today (and then the person they act for)."""
        day = now.astimezone(self.d.calendar.tz).date().isoformat()
        arrangement = await storage.acting.acting_for(tx, person.id, day)
        if arrangement is None:
            return person, None
        acting = await storage.people.person(tx, arrangement.acting_id)
        if acting is None or not acting.active:
            return person, None
        return acting, person
