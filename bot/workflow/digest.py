"""The supervisors' digest: what is open, due, overdue and stuck, and real times against standard times."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bot import storage
from bot.core.states import NoticeKind, Priority
from bot.storage.db import Database
from bot.storage.records import Person
from bot.text.payloads import DeadLetter, DigestChartPayload, DigestPayload, DigestStep, NewCase, SlowStep
from bot.workflow.analytics import sla_report
from bot.workflow.deps import WorkflowDeps
from bot.workflow.supervision import Scope

SHOWN = 8
"""Items of each list a digest message shows (the counts are of all)."""
CHUNK = 10
"""Digests built and queued between two returns to the event loop."""

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
    overdue_total: int = 0
    due_today_total: int = 0
    unassigned_total: int = 0

    @property
    def on_time_share(self) -> float | None:
        return self.on_time_yesterday / self.completed_yesterday if self.completed_yesterday else None

    def as_payload(self) -> DigestPayload:
        """What the message shows: the first items of each list, and how many there are in all."""
        return DigestPayload(
            day=self.day, scope_label=self.scope_label,
            new_cases=self.new_cases[:SHOWN], new_count=len(self.new_cases),
            open_cases=self.open_cases,
            due_today=self.due_today[:SHOWN], due_today_count=max(self.due_today_total, len(self.due_today)),
            overdue=self.overdue[:SHOWN], overdue_count=max(self.overdue_total, len(self.overdue)),
            completed_yesterday=self.completed_yesterday, on_time_yesterday=self.on_time_yesterday,
            on_time_share=self.on_time_share, slowest=self.slowest,
            unassigned=self.unassigned[:SHOWN], unassigned_count=max(self.unassigned_total, len(self.unassigned)),
            dead_letters=self.dead_letters, overdue_by_unit=self.overdue_by_unit, is_admin=self.is_admin,
        )

    def chart_payload(self) -> DigestChartPayload:
        return DigestChartPayload(overdue_by_unit=self.overdue_by_unit, day=self.day)


@dataclass
class _UnitWork:
    """The open steps of one (institution, unit): how many of each kind, and the first few of each."""

    overdue: list[DigestStep] = field(default_factory=list)
    due_today: list[DigestStep] = field(default_factory=list)
    unassigned: list[DigestStep] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class DigestBuilder:
    """Reads the open work once and cuts it per supervisor.

    The read goes through the read-only connection and costs the size of what a digest shows:
    per unit, counts from the indexes and the first ``SHOWN`` overdue, due-today and unassigned
    steps; the standard-time part comes from the SLA aggregates. Never a scan of every open step.
    """

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
        r = self.db.read
        day_end = day_start + timedelta(days=1)
        people: dict[int, Person | None] = {}
        work: dict[tuple[str, str], _UnitWork] = {}
        for which in ("overdue", "due_today", "unassigned"):
            counts, rows = await storage.steps.open_steps_by_unit(r, which, now, day_end, SHOWN)
            for key, n in counts.items():
                work.setdefault(key, _UnitWork()).counts[which] = n
            for row in rows:
                if row.holder_id and row.holder_id not in people:
                    people[row.holder_id] = await storage.people.person(r, row.holder_id)
                holder = people.get(row.holder_id) if row.holder_id else None
                due = row.due_at
                late = self.calendar.working_minutes(due, now) if which == "overdue" and due is not None else None
                item = DigestStep(
                    register_no=row.register_no, step=row.step_no,
                    role=self.catalog.roles.name(row.role), holder=holder.name if holder else None,
                    due_at=due, unit=self.d.unit_name(row.institution, row.unit), late_minutes=late,
                )
                getattr(work.setdefault((row.institution, row.unit), _UnitWork()), which).append(item)
            await asyncio.sleep(0)  # a long round leaves the event loop to the interactive path
        sla = await sla_report(r, self.catalog, self.calendar, since=now - timedelta(days=30))
        await asyncio.sleep(0)
        new_by_unit: dict[tuple[str, str], list[Any]] = {}
        for new in await storage.cases.cases_created_between(r, since, now):
            new_by_unit.setdefault((new.institution, new.unit), []).append(new)
        done_by_unit: dict[tuple[str, str], list[int]] = {}
        for timing in await storage.steps.steps_completed_between(r, yesterday_start, day_start):
            tally = done_by_unit.setdefault((timing.institution, timing.unit), [0, 0])
            tally[0] += 1
            tally[1] += int(timing.on_time)
        dead = await storage.outbox.dead_letters(r, 200)
        for m in dead:
            if m.person_id is not None and m.person_id not in people:
                people[m.person_id] = await storage.people.person(r, m.person_id)
        self._snapshot = {
            "now": now,
            "people": people,
            "today": local_today,
            "work": work,
            "open_cases": await storage.cases.open_case_counts(r),
            "new_cases": new_by_unit,
            "done_yesterday": done_by_unit,
            "dead": dead,
            "sla": sla,
            "sla_units": {sop.id: (sop.institution, sop.unit) for sop in self.catalog},
        }

    def build(self, person: Person, since: datetime | None = None) -> Digest | None:
        """The digest of one supervisor; ``since`` is their previous digest (new requests after it)."""
        scope = self.d.supervision.scope_of(person)
        if scope is None:
            return None
        snap = self._snapshot
        assert snap is not None, "call load() first"
        label = self._scope_label(scope)
        is_admin = self.d.supervision.is_admin(person)
        d = Digest(day=snap["today"], scope_label=label, is_admin=is_admin)
        d.open_cases = sum(n for (inst, unit), n in snap["open_cases"].items() if scope.covers(inst, unit))
        for (inst, unit), news in snap["new_cases"].items():  # grouped per unit: a supervisor reads their units'
            if not scope.covers(inst, unit):
                continue
            d.new_cases.extend(NewCase(register_no=new.register_no, title=new.title) for new in news
                               if since is None or new.created_at >= since)
        for (inst, unit), bucket in snap["work"].items():
            if not scope.covers(inst, unit):
                continue
            d.overdue.extend(bucket.overdue)
            d.due_today.extend(bucket.due_today)
            d.unassigned.extend(bucket.unassigned)
            d.overdue_total += bucket.counts.get("overdue", 0)
            d.due_today_total += bucket.counts.get("due_today", 0)
            d.unassigned_total += bucket.counts.get("unassigned", 0)
            if bucket.counts.get("overdue"):
                name = self.d.unit_name(inst, unit)
                d.overdue_by_unit[name] = d.overdue_by_unit.get(name, 0) + bucket.counts["overdue"]
        d.overdue.sort(key=lambda i: (-(i.late_minutes or 0), i.due_at or snap["now"]))
        d.due_today.sort(key=lambda i: i.due_at or snap["now"])
        d.unassigned.sort(key=lambda i: i.due_at or snap["now"])
        del d.overdue[SHOWN:], d.due_today[SHOWN:], d.unassigned[SHOWN:]
        for (inst, unit), (completed, on_time) in snap["done_yesterday"].items():
            if scope.covers(inst, unit):
                d.completed_yesterday += completed
                d.on_time_yesterday += on_time
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
        if is_admin:  # undeliverable messages of people in the admin's scope (all of them: a system admin)
            people = snap["people"]
            dead = [m for m in snap["dead"]
                    if scope.institution is None
                    or (m.person_id is not None and (p := people.get(m.person_id)) is not None
                        and p.institution == scope.institution)]
            d.dead_letters = [
                DeadLetter(kind=m.kind, person_id=m.person_id, error=(m.last_error or "")[:80],
                           created_at=m.created_at)
                for m in dead[-10:]
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
        done = await storage.digests.digests_on(self.db.read, day)
        supervision = self.d.supervision
        waiting = [p for p in await storage.people.people(self.db.read)
                   if p.id not in done and supervision.is_supervisor(p)]
        if not waiting:
            return 0
        since: dict[int, datetime] = {}
        for p in waiting:
            last = await storage.digests.last_digest_at(self.db.read, p.id)
            since[p.id] = datetime.fromisoformat(last) if last else now - timedelta(days=1)
        builder = DigestBuilder(self.d)
        await builder.load(now, since=min(since.values()))
        queued = 0
        for n, person in enumerate(waiting):
            if n % CHUNK == 0:
                await asyncio.sleep(0)  # in chunks: replies to people go between them
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
