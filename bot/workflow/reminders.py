"""The reminder sweep: reminders before and at the due moment, escalations when overdue.

Alarm times are columns of each open step (``next_alarm_at`` is the earliest pending one,
indexed), so a sweep reads only what is due. Alarms fire only in working hours; one that
fell outside goes out at the next working start. After downtime the most advanced alarm
that was missed is sent once and the earlier ones are marked as passed, not replayed.
Each step changes in its own transaction, conditional on the alarm it read, and every
notification carries a dedupe key, so two sweepers or a retried sweep send nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import storage
from bot.core.states import AlarmKind, EventType, NoticeKind, Priority, StepState
from bot.sop.calendar import WorkCalendar
from bot.sop.durations import Duration
from bot.storage.db import Tx
from bot.storage.records import AlarmStamps, Case, Person, StepInstance
from bot.text.payloads import EscalationPayload, ReminderPayload
from bot.workflow.deps import WorkflowDeps

ORDER = tuple(AlarmKind)


@dataclass
class SweepResult:
    checked: int = 0
    sent: dict[str, int] = field(default_factory=lambda: {k: 0 for k in ORDER})
    skipped: int = 0
    outside_hours: bool = False


def lateness(calendar: WorkCalendar, instance: StepInstance, now: datetime) -> timedelta:
    """Working time past the due moment (zero when not late)."""
    if instance.due_at is None or now <= instance.due_at:
        return timedelta(0)
    return calendar.between(instance.due_at, now)


class ReminderSweep:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps
        self.db = deps.db
        self.catalog = deps.catalog
        self.calendar = deps.calendar
        self.clock = deps.clock
        self.policy = deps.policy

    async def run(self, limit: int = 1000) -> SweepResult:
        result = SweepResult()
        now = self.clock.now()
        if not self.calendar.is_working_time(now):
            result.outside_hours = True
            return result
        for instance in await storage.alarms.alarms_due(self.db, now, limit):
            result.checked += 1
            fired = await self._step(instance, now)
            if fired is None:
                continue
            kind, skipped = fired
            result.sent[kind] += 1
            result.skipped += skipped
        return result

    async def _step(self, seen: StepInstance, now: datetime) -> tuple[AlarmKind, int] | None:
        async with self.db.transaction() as tx:
            stamps = await storage.alarms.alarm_stamps(tx, seen.id)
            if stamps is None or stamps.state != StepState.OPEN:
                return None
            pending = self._passed(stamps, now)
            if not pending:
                return None
            kind = pending[-1]
            case = await storage.cases.case(tx, seen.case_id)
            assert case is not None
            updates: dict[str, Any] = {}
            for k in pending:
                if k == AlarmKind.REMIND:
                    updates["reminded_at"] = now
                elif k == AlarmKind.PREWARN:
                    updates["prewarned_at"] = now
                elif k == AlarmKind.DUE:
                    updates["due_notified_at"] = now
            level = stamps.escalation_level
            if kind == AlarmKind.ESCALATE:
                level = self._missed_level(stamps, now)
                updates["escalation_level"] = level
                updates["escalate_at"] = self._escalate_at(seen.due_at, level + 1)
            updates["next_alarm_at"] = self._next_alarm(stamps, updates)
            if not await storage.alarms.update_alarms(tx, seen.id, stamps.next_alarm_at, **updates):
                return None
            await self._notify(tx, kind, seen, case, now, level)
        return kind, len(pending) - 1

    @staticmethod
    def _passed(stamps: AlarmStamps, now: datetime) -> list[AlarmKind]:
        out = []
        if stamps.remind_at and stamps.reminded_at is None and stamps.remind_at <= now:
            out.append(AlarmKind.REMIND)
        if stamps.prewarn_at and stamps.prewarned_at is None and stamps.prewarn_at <= now:
            out.append(AlarmKind.PREWARN)
        if stamps.due_at and stamps.due_notified_at is None and stamps.due_at <= now:
            out.append(AlarmKind.DUE)
        if stamps.escalate_at and stamps.escalate_at <= now:
            out.append(AlarmKind.ESCALATE)
        return out

    def _escalate_at(self, due: datetime | None, level: int) -> datetime | None:
        if due is None or level > self.policy.escalation_levels:
            return None
        grace = self.policy.escalation_grace
        total = Duration(minutes=grace.minutes * level, days=grace.days * level, weeks=grace.weeks * level,
                         months=grace.months * level)
        return self.calendar.add(due, total)

    def _missed_level(self, stamps: AlarmStamps, now: datetime) -> int:
        """The highest escalation level whose time has passed (after downtime, only that one is sent)."""
        level = stamps.escalation_level + 1
        while level < self.policy.escalation_levels:
            later = self._escalate_at(stamps.due_at, level + 1)
            if later is None or later > now:
                break
            level += 1
        return level

    @staticmethod
    def _next_alarm(stamps: AlarmStamps, updates: dict[str, Any]) -> datetime | None:
        def fired(key: str) -> bool:
            return (updates[key] if key in updates else getattr(stamps, key)) is not None

        candidates = []
        if stamps.remind_at and not fired("reminded_at"):
            candidates.append(stamps.remind_at)
        if stamps.prewarn_at and not fired("prewarned_at"):
            candidates.append(stamps.prewarn_at)
        if stamps.due_at and not fired("due_notified_at"):
            candidates.append(stamps.due_at)
        escalate = updates["escalate_at"] if "escalate_at" in updates else stamps.escalate_at
        if escalate:
            candidates.append(escalate)
        return min(candidates) if candidates else None

    async def _notify(
        self, tx: Tx, kind: AlarmKind, instance: StepInstance, case: Case, now: datetime, level: int
    ) -> None:
        sop = await self.d.sop_of(case, tx)
        step = sop.step(instance.step_no)
        holder = await storage.people.person(tx, instance.holder_id) if instance.holder_id else None
        late = lateness(self.calendar, instance, now)
        alarm = {
            "case_id": case.id, "register_no": case.register_no, "title": sop.title, "step": step.number,
            "text": step.text, "role": self.catalog.roles.name(step.actor), "due_at": instance.due_at,
            "duration_text": step.duration_text, "holder": holder.name if holder else None,
            "late_minutes": int(late.total_seconds() // 60), "kind": kind, "level": level,
            "step_instance_id": instance.id,
        }
        if kind != AlarmKind.ESCALATE and holder is not None:
            await storage.outbox.enqueue(tx, person_id=holder.id, chat_id=holder.telegram_id,
                                         kind=NoticeKind.REMINDER, payload=ReminderPayload(**alarm),
                                         priority=Priority.BULK, now=now, dedupe_key=f"alarm:{instance.id}:{kind}")
            await storage.events.insert_event(tx, type=EventType.REMINDER_SENT, now=now, case_id=case.id,
                                              step_instance_id=instance.id, data={"step": step.number, "kind": kind})
            return
        targets = await self._escalation_targets(tx, instance, case, max(level, 1))
        names = ", ".join(p.name for p in targets) or "-"
        for person in targets:
            await storage.outbox.enqueue(tx, person_id=person.id, chat_id=person.telegram_id,
                                         kind=NoticeKind.ESCALATION,
                                         payload=EscalationPayload(**alarm, to=person.name),
                                         priority=Priority.BULK, now=now,
                                         dedupe_key=f"alarm:{instance.id}:{kind}:{level}:{person.id}")
        await storage.events.insert_event(tx, type=EventType.ESCALATED, now=now, case_id=case.id,
                                          step_instance_id=instance.id,
                                          data={"step": step.number, "level": level, "to": names, "kind": kind})

    async def _escalation_targets(self, tx: Tx, instance: StepInstance, case: Case, level: int) -> list[Person]:
        """Level 1: the nearest supervisor (the Kabid for staff); level 2: the next one up; else admins."""
        supervision = self.d.supervision
        levels = await supervision.levels(tx, instance.role, case.institution, case.unit,
                                          {instance.holder_id} if instance.holder_id else set())
        if levels:
            return levels[min(level, len(levels)) - 1]
        return await supervision.admins(tx, case.institution)
