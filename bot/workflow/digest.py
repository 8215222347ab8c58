"""The supervisors' digest: what is open, due, overdue and stuck, and real times against standard times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bot import storage
from bot.core.states import NoticeKind, OutboxState, Priority
from bot.storage.db import Database
from bot.storage.records import Person
from bot.text.payloads import DeadLetter, DigestChartPayload, DigestPayload, DigestStep, NewCase, SlowStep
from bot.workflow.analytics import sla_report
from bot.workflow.deps import WorkflowDeps
from bot.workflow.supervision import Scope

SHOWN = 8
"""Items of each list a digest message shows (the counts are of all)."""

@dataclass
class Digest:
    day: date
    scope_label: str
    new_cases: list[NewCase] = field(default_factory=list)
    open_cases: int = 0
    due_today: list[DigestStep] = field(default_factory=list)
    overdue: list[DigestStep] = field(default_factory=list)
    completed_yesterday: int = 0
    on_time_yesterday: int = 0
    slowest: list[SlowStep] = field(default_factory=list)
    unassigned: list[DigestStep] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    overdue_by_unit: dict[str, int] = field(default_factory=dict)
    is_admin: bool = False

    @property
    def on_time_share(self) -> float | None:
        return self.on_time_yesterday / self.completed_yesterday if self.completed_yesterday else None

    def as_payload(self) -> DigestPayload:
        """What the message shows: the first items of each list, and how many there are in all."""
        return DigestPayload(
            day=self.day, scope_label=self.scope_label,
            new_cases=self.new_cases[:SHOWN], new_count=len(self.new_cases),
            open_cases=self.open_cases,
            due_today=self.due_today[:SHOWN], due_today_count=len(self.due_today),
            overdue=self.overdue[:SHOWN], overdue_count=len(self.overdue),
            completed_yesterday=self.completed_yesterday, on_time_yesterday=self.on_time_yesterday,
            on_time_share=self.on_time_share, slowest=self.slowest,
            unassigned=self.unassigned[:SHOWN], unassigned_count=len(self.unassigned),
            dead_letters=self.dead_letters, overdue_by_unit=self.overdue_by_unit, is_admin=self.is_admin,
        )

    def chart_payload(self) -> DigestChartPayload:
        return DigestChartPayload(overdue_by_unit=self.overdue_by_unit, day=self.day)


@dataclass
class _UnitWork:
    """The open steps of one (institution, unit), prepared once per round for every digest."""

    overdue: list[DigestStep] = field(default_factory=list)
    due_today: list[DigestStep] = field(default_factory=list)
    unassigned: list[DigestStep] = field(default_factory=list)


class DigestBuilder:
    """Reads the open work once and cuts it per supervisor (200 supervisors × 50k cases stays one scan)."""

    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps
        self.db = deps.db
        self.catalog = deps.catalog
        self.calendar = deps.calendar
        self._snapshot: dict[str, Any] | None = None

    async def load(self, now: datetime, since: datetime | None = None) -> None:
        """Read what every digest of this round needs."""
        local_today = now.astimezone(self.calendar.tz).date()
        day_start = datetime.combine(local_today, time(0), self.calendar.tz)
        yesterday_start = day_start - timedelta(days=1)
        since = since or (now - timedelta(days=1))
        people = {p.id: p for p in await storage.people.people(self.db, active_only=False)}
        day_end = day_start + timedelta(days=1)
        work: dict[tuple[str, str], _UnitWork] = {}
        for row in await storage.steps.open_steps_overview(self.db):
            bucket = work.setdefault((row.institution, row.unit), _UnitWork())
            holder = people.get(row.holder_id) if row.holder_id else None
            due = row.due_at
            late = self.calendar.working_minutes(due, now) if due is not None and due < now else None
            item = DigestStep(
                register_no=row.register_no, step=row.step_no,
                role=self.catalog.roles.name(row.role), holder=holder.name if holder else None,
                due_at=due, unit=self.d.unit_name(row.institution, row.unit), late_minutes=late,
            )
            if holder is None:
                bucket.unassigned.append(item)
            if due is None:
                continue
            if late is not None:
                bucket.overdue.append(item)
            elif due < day_end:
                bucket.due_today.append(item)
        self._snapshot = {
            "now": now,
            "today": local_today,
            "work": work,
            "open_cases": await storage.cases.open_case_units(self.db),
            "new_cases": await storage.cases.cases_created_between(self.db, since, now),
            "done_yesterday": await storage.steps.steps_completed_between(self.db, yesterday_start, day_start),
            "dead": await storage.outbox.outbox(self.db, state=OutboxState.DEAD),
            "sla": await sla_report(self.db, self.catalog, self.calendar, since=now - timedelta(days=30)),
            "sla_units": await storage.cases.sop_units(self.db),
        }

    def build(self, person: Person, since: datetime | None = None) -> Digest | None:
        """The digest of one supervisor; ``since`` is their previous digest (new requests after it)."""
        scope = self.d.supervision.scope_of(person)
        if scope is None:
            return None
        snap = self._snapshot
        assert snap is not None, "call load() first"
        label = self._scope_label(scope)
        d = Digest(day=snap["today"], scope_label=label, is_admin=person.is_admin)
        d.open_cases = sum(1 for inst, unit in snap["open_cases"] if scope.covers(inst, unit))
        for new in snap["new_cases"]:
            if since is not None and new.created_at < since:
                continue
            if scope.covers(new.institution, new.unit):
                d.new_cases.append(NewCase(register_no=new.register_no, title=new.title))
        for (inst, unit), bucket in snap["work"].items():
            if not scope.covers(inst, unit):
                continue
            d.overdue.extend(bucket.overdue)
            d.due_today.extend(bucket.due_today)
            d.unassigned.extend(bucket.unassigned)
            if bucket.overdue:
                name = bucket.overdue[0].unit
                d.overdue_by_unit[name] = d.overdue_by_unit.get(name, 0) + len(bucket.overdue)
        d.overdue.sort(key=lambda i: -(i.late_minutes or 0))
        d.due_today.sort(key=lambda i: i.due_at or snap["now"])
        for timing in snap["done_yesterday"]:
            if scope.covers(timing.institution, timing.unit):
                d.completed_yesterday += 1
                d.on_time_yesterday += int(timing.on_time)
        units = snap["sla_units"]
        ranked = []
        for s in snap["sla"]:
            inst, unit = units.get(s.sop_id, ("", ""))
            if s.standard_minutes and scope.covers(inst, unit):
                ranked.append((s.median_minutes / s.standard_minutes, s))
        ranked.sort(key=lambda pair: -pair[0])
        d.slowest = [
            SlowStep(title=s.sop_title, step=s.step_no, role=s.role, median_minutes=s.median_minutes,
                     standard=s.standard_text, ratio=ratio, count=s.count)
            for ratio, s in ranked[:3] if ratio > 1
        ]
        if person.is_admin:
            d.dead_letters = [
                DeadLetter(kind=m.kind, person_id=m.person_id, error=(m.last_error or "")[:80],
                           created_at=m.created_at)
                for m in snap["dead"][-10:]
            ]
        return d

    def _scope_label(self, scope: Scope) -> str:
        inst = self.catalog.institutions.get(scope.institution or "")
        if inst is None:
            return "Semua instansi"
        if scope.unit:
            unit = inst.unit(scope.unit)
            return f"{inst.name} — {unit.name if unit else scope.unit}"
        return inst.name


async def digests_ever_sent(db: Database) -> bool:
    """Whether anyone has had a digest from this database (else this is the very first start)."""
    for person in await storage.people.people(db, active_only=False):
        if await storage.digests.last_digest_at(db, person.id):
            return True
    return False


class DigestRound:
    """Queue each supervisor's daily digest once, on working days from the configured time on.

    ``started_at`` is when the process started: a digest whose moment came before it was missed
    while the bot was down. A missed digest is caught up only inside that day's working hours,
    and never when ``catch_up`` is off (the very first start), so a bot first started after
    office hours sends nothing until the next configured digest time.
    """

    def __init__(
        self, deps: WorkflowDeps, at: time, *, started_at: datetime | None = None, catch_up: bool = True
    ) -> None:
        self.d = deps
        self.db = deps.db
        self.calendar = deps.calendar
        self.clock = deps.clock
        self.at = at
        self.started_at = started_at
        self.catch_up = catch_up

    def due(self, now: datetime) -> bool:
        """Whether today's digest may go out at ``now``."""
        local = now.astimezone(self.calendar.tz)
        if not self.calendar.is_working_day(local.date()) or local.time() < self.at:
            return False
        moment = datetime.combine(local.date(), self.at, self.calendar.tz)
        if self.started_at is None or moment >= self.started_at:
            return True
        return self.catch_up and self.calendar.is_working_time(now)

    async def run(self) -> int:
        now = self.clock.now()
        local = now.astimezone(self.calendar.tz)
        if not self.due(now):
            return 0
        day = local.date().isoformat()
        done = await storage.digests.digests_on(self.db, day)
        supervision = self.d.supervision
        waiting = [p for p in await storage.people.people(self.db) if p.id not in done and supervision.is_supervisor(p)]
        if not waiting:
            return 0
        since: dict[int, datetime] = {}
        for p in waiting:
            last = await storage.digests.last_digest_at(self.db, p.id)
            since[p.id] = datetime.fromisoformat(last) if last else now - timedelta(days=1)
        builder = DigestBuilder(self.d)
        await builder.load(now, since=min(since.values()))
        queued = 0
        for person in waiting:
            digest = builder.build(person, since=since[person.id])
            if digest is None:
                continue
            async with self.db.transaction() as tx:
                if not await storage.digests.claim_digest(tx, person.id, day, now):
                    continue
                outbox_id = await storage.outbox.enqueue(
                    tx, person_id=person.id, chat_id=person.telegram_id, kind=NoticeKind.DIGEST,
                    payload=digest.as_payload(), priority=Priority.BULK, now=now,
                    dedupe_key=f"digest:{person.id}:{day}",
                )
                await storage.digests.set_digest_outbox(tx, person.id, day, outbox_id)
                if digest.overdue_by_unit:
                    await storage.outbox.enqueue(
                        tx, person_id=person.id, chat_id=person.telegram_id, kind=NoticeKind.DIGEST_CHART,
                        priority=Priority.BULK,
                        now=now, payload=digest.chart_payload(),
                        dedupe_key=f"digest_chart:{person.id}:{day}",
                    )
            queued += 1
        return queued
