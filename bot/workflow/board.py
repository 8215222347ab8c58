"""The supervisors' board: what a supervisor may see (the digest's scope), read as page data, and the
sessions and one-time login links of the board's web pages.

Read-only. Every read is cut to the viewer's scope before it reaches SQL: a Kabid sees their unit,
Kepala Badan, Sekretaris and admins their institution (``Supervision.scope_of``, the same rule as the digest).
"""

from __future__ import annotations

import hashlib
import secrets
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot import storage
from bot.core.clock import Clock, parse_iso
from bot.core.errors import DomainError
from bot.core.states import StepState
from bot.sop.calendar import WorkCalendar
from bot.sop.model import Sop
from bot.storage import board as q
from bot.storage.db import Database
from bot.storage.records import Case, Person
from bot.workflow.supervision import Scope
from bot.workflow.use_cases import Workflow

PERIODS = {7: "7 hari terakhir", 30: "30 hari terakhir", 90: "90 hari terakhir", 365: "1 tahun terakhir"}
DEFAULT_PERIOD = 30
LISTED = 50
"""Rows of each list the page shows (the counts are of all)."""

STATS_TTL = timedelta(minutes=5)
"""The standard-time table of a scope and period is measured again after this long (it moves slowly)."""
LOGIN_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)


class BoardError(DomainError):
    """A request for something outside the viewer's scope, or a filter that names nothing."""


@dataclass(frozen=True)
class Filters:
    unit: str | None = None
    sop_id: str | None = None
    period: int = DEFAULT_PERIOD


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WorkClock:
    """Working minutes as a running count, so the time between two moments is one subtraction.

    ``WorkCalendar.between`` walks day by day; the board measures tens of thousands of steps per
    page, so it keeps the minutes worked before each day once and looks them up.
    """

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._before: dict[date, int] = {}
        """Working minutes before each known day, counted from the first day asked about (never changed)."""
        self._lo: date | None = None
        self._hi: date | None = None

    def _day_minutes(self, day: date) -> int:
        return sum(int((e - s).total_seconds() // 60) for s, e in self.calendar.intervals(day))

    def before(self, day: date) -> int:
        if self._lo is None or self._hi is None:
            self._lo = self._hi = day
            self._before[day] = 0
        while day > self._hi:
            self._before[self._hi + timedelta(days=1)] = self._before[self._hi] + self._day_minutes(self._hi)
            self._hi += timedelta(days=1)
        while day < self._lo:
            self._lo -= timedelta(days=1)
            self._before[self._lo] = self._before[self._lo + timedelta(days=1)] - self._day_minutes(self._lo)
        return self._before[day]

    def minute(self, moment: datetime) -> float:
        local = moment.astimezone(self.calendar.tz)
        day = local.date()
        worked: float = self.before(day)
        for s, e in self.calendar.intervals(day):
            if local >= e:
                worked += (e - s).total_seconds() / 60
            elif local > s:
                worked += (local - s).total_seconds() / 60
        return worked

    def between(self, a: datetime, b: datetime) -> int:
        return max(0, int(self.minute(b) - self.minute(a)))


Stats = list[tuple[str, str, str, int, float, float | None, int, int]]


def _summarise(rows: Iterable[tuple[str, str, str, int, int | None, bool]]) -> Stats:
    """(sop, step, role, taken, standard, on time) rows → per step: count, medians, on time, with a standard."""
    groups: dict[tuple[str, str], list[tuple[int, int | None, bool]]] = {}
    roles: dict[tuple[str, str], str] = {}
    for sop_id, step_no, role, taken, standard, ok in rows:
        groups.setdefault((sop_id, step_no), []).append((taken, standard, ok))
        roles[(sop_id, step_no)] = role
    out: Stats = []
    for (sop_id, step_no), items in groups.items():
        standards = [s for _, s, _ in items if s is not None]
        out.append((sop_id, step_no, roles[(sop_id, step_no)], len(items),
                    float(statistics.median(t for t, _, _ in items)),
                    float(statistics.median(standards)) if standards else None,
                    sum(1 for _, _, ok in items if ok), len(standards)))
    return out


def share_text(share: float | None) -> str:
    return "-" if share is None else f"{round(share * 100)}%"


class Board:
    """Page data for one viewer; ``db`` may be a reader connection of its own (the web server's)."""

    def __init__(self, db: Database, workflow: Workflow) -> None:
        self.db = db
        self.workflow = workflow
        self.catalog = workflow.catalog
        self.calendar = workflow.calendar
        self.clock = workflow.clock
        self.work = WorkClock(self.calendar)
        self._days: tuple[date, date] | None = None
        self._stats: dict[tuple[q.Where, int], tuple[datetime, list[dict[str, Any]]]] = {}
        days = [d for d, ivs in self.calendar.schedule.hours.items() if ivs]
        self.day_minutes = self.calendar.schedule.minutes_per_week() / max(len(days), 1)

    # ------------------------------------------------------------ scope and filters

    def scope(self, person: Person | None) -> Scope | None:
        if person is None or not person.active or not person.is_staff:
            return None
        return self.workflow.supervision.scope_of(person)

    def units(self, scope: Scope) -> list[tuple[str, str, str]]:
        """(institution, unit id, label) the viewer may filter by."""
        out = []
        for inst in self.catalog.institutions.values():
            for unit in inst.units:
                if scope.covers(inst.id, unit.id):
                    label = unit.name if scope.institution else f"{inst.name} — {unit.name}"
                    out.append((inst.id, unit.id, label))
        return out

    def sops(self, scope: Scope) -> list[Sop]:
        return [s for s in self.catalog if scope.covers(s.institution, s.unit)]

    def where(self, scope: Scope, filters: Filters) -> q.Where:
        unit = filters.unit
        if unit is not None and unit not in {u for _, u, _ in self.units(scope)}:
            raise BoardError("filter_outside_scope")
        if filters.sop_id is not None:
            sop = self.catalog.get(filters.sop_id)
            if sop is None or not scope.covers(sop.institution, sop.unit):
                raise BoardError("filter_outside_scope")
        if filters.period not in PERIODS:
            raise BoardError("bad_period")
        return q.Where(scope.institution, scope.unit or unit, filters.sop_id)

    # ------------------------------------------------------------ the overview page

    async def overview(self, person: Person, filters: Filters) -> dict[str, Any]:
        scope = self.scope(person)
        if scope is None:
            raise BoardError("not_supervisor")
        where = self.where(scope, filters)
        now = self.clock.now()
        local_today = now.astimezone(self.calendar.tz).date()
        day_end = datetime.combine(local_today + timedelta(days=1), time(0), self.calendar.tz)
        work_rows = await q.open_work(self.db, where, now, day_end)
        totals = {"open_cases": 0, "due_today": 0, "overdue": 0, "unassigned": 0}
        by_unit: dict[tuple[str, str], dict[str, Any]] = {}
        by_sop: dict[str, dict[str, Any]] = {}
        for row in work_rows:
            ukey = (row["institution"], row["unit"])
            u = by_unit.setdefault(ukey, {"name": self.unit_name(*ukey), "unit": row["unit"],
                                          **dict.fromkeys(totals, 0)})
            sop = self.catalog.get(row["sop_id"])
            s = by_sop.setdefault(row["sop_id"], {"title": sop.title if sop else row["sop_id"], "sop_id": row["sop_id"],
                                                  "unit": self.unit_name(*ukey), **dict.fromkeys(totals, 0)})
            for key in totals:
                totals[key] += row[key]
                u[key] += row[key]
                s[key] += row[key]
        holders = [{"name": r["name"], "open": r["open_steps"], "overdue": r["overdue"] or 0}
                   for r in await q.holders(self.db, where, now)]
        overdue = [self._step_item(r, now) for r in await q.overdue_steps(self.db, where, now, LISTED)]
        due = [self._step_item(r, now) for r in await q.due_steps(self.db, where, now, day_end, LISTED)]
        unassigned = [self._step_item(r, now) for r in await q.unassigned_steps(self.db, where, LISTED)]
        sla = await self.standard_times(where, now, filters.period)
        return {
            "scope_label": self.scope_label(scope), "person": person.name, "now": now, "today": local_today,
            "filters": filters, "period_label": PERIODS[filters.period], "periods": PERIODS,
            "unit_options": self.units(scope), "sop_options": [(s.id, s.title) for s in self.sops(scope)],
            "unit_locked": scope.unit is not None,
            "totals": totals,
            "by_unit": sorted(by_unit.values(), key=lambda u: (-u["overdue"], -u["open_cases"], u["name"])),
            "by_sop": sorted(by_sop.values(), key=lambda s: (-s["overdue"], -s["open_cases"], s["title"])),
            "holders": holders, "overdue": overdue, "due_today": due, "unassigned": unassigned, "listed": LISTED,
            "sla": sla,
        }

    def _step_item(self, row: Any, now: datetime) -> dict[str, Any]:
        sop = self.catalog.get(row["sop_id"])
        due = parse_iso(row["due_at"])
        late = self.work.between(due, now) if due and due < now else 0
        return {
            "register_no": row["register_no"], "sop": sop.title if sop else row["sop_id"], "step": row["step_no"],
            "role": self.catalog.roles.name(row["role"]), "holder": row["holder_name"], "due_at": due,
            "late": self.minutes_text(late) if late else "", "unit": self.unit_name(row["institution"], row["unit"]),
        }

    def _fixed_offset(self) -> int | None:
        """The zone's UTC offset in minutes when it never changes (Indonesia has no summer time), else None."""
        offsets = {self.calendar.tz.utcoffset(datetime(y, m, 1)) for y in range(2000, 2040) for m in (1, 7)}
        if len(offsets) != 1:
            return None
        offset = offsets.pop()
        return int(offset.total_seconds() // 60) if offset is not None else None

    async def _work_days(self, first: date, last: date) -> bool:
        """The work calendar in SQL for these days (once per range); False where SQL cannot hold it."""
        if self._days and self._days[0] <= first and last <= self._days[1]:
            return True
        first, last = first - timedelta(days=365), last + timedelta(days=365)
        rows = []
        day = first
        epoch = date(1970, 1, 1)
        while day <= last:
            spans = [(s.hour * 60 + s.minute, e.hour * 60 + e.minute) for s, e in self.calendar.intervals(day)]
            if len(spans) > q.WORK_DAY_INTERVALS:
                return False
            spans += [(0, 0)] * (q.WORK_DAY_INTERVALS - len(spans))
            rows.append(((day - epoch).days, self.work.before(day), *[m for span in spans for m in span]))
            day += timedelta(days=1)
        if not await q.install_work_days(self.db, rows):
            return False
        self._days = (first, last)
        return True

    async def standard_times(self, where: q.Where, now: datetime, period: int) -> list[dict[str, Any]]:
        """Per SOP step in the period: completions, median working time, the standard, share on time.

        Measured in SQL over the work calendar; a zone whose offset changes during the year is measured
        here in Python instead. Kept for STATS_TTL per scope, filters and period.
        """
        cached = self._stats.get((where, period))
        if cached is not None and now - cached[0] < STATS_TTL:
            return cached[1]
        out = await self._standard_times(where, now, period)
        if len(self._stats) > 256:
            self._stats.clear()
        self._stats[(where, period)] = (now, out)
        return out

    async def _standard_times(self, where: q.Where, now: datetime, period: int) -> list[dict[str, Any]]:
        since = now - timedelta(days=period)
        offset = self._fixed_offset()
        local_now = now.astimezone(self.calendar.tz).date()
        if offset is not None and await self._work_days(local_now - timedelta(days=period + 730),
                                                        local_now + timedelta(days=730)):
            rows = await q.standard_time_rows(self.db, where, since, now, offset)
            stats = _summarise((r["sop_id"], r["step_no"], r["role"], r["taken"], r["standard"], bool(r["on_time"]))
                               for r in rows)
        else:
            stats = await self._standard_times_python(where, since, now)
        out = []
        for sop_id, step_no, role, count, median, standard, on_time, with_standard in stats:
            sop = self.catalog.get(sop_id)
            order = [s.number for s in sop.steps] if sop else []
            step = sop.step(step_no) if sop and sop.has_step(step_no) else None
            share = on_time / count if with_standard else None
            out.append({
                "sop_title": sop.title if sop else sop_id, "sop_id": sop_id, "step": step_no,
                "order": (sop.title if sop else sop_id, order.index(step_no) if step_no in order else 999),
                "text": step.text if step else "", "role": self.catalog.roles.name(role),
                "count": count, "median": self.minutes_text(median),
                "standard_text": (step.duration_text if step else None) or "-",
                "standard": self.minutes_text(standard) if standard is not None else "-",
                "slow": standard is not None and median > standard, "share": share_text(share),
                "share_value": share,
            })
        out.sort(key=lambda r: r["order"])
        return out

    async def _standard_times_python(
        self, where: q.Where, since: datetime, now: datetime
    ) -> Stats:
        minute = self.work.minute
        measured = []
        for row in await q.completed_steps(self.db, where, since, now):
            opened, completed, due = row["opened_at"], row["completed_at"], row["due_at"]
            if due is None and opened == completed:
                continue  # the requester's filing step, done the moment the case opened
            start = minute(datetime.fromisoformat(opened))
            taken = int(minute(datetime.fromisoformat(completed)) - start)
            standard = int(minute(datetime.fromisoformat(due)) - start) if due else None
            measured.append((row["sop_id"], row["step_no"], row["role"], taken, standard,
                             due is not None and completed <= due))
        return _summarise(measured)

    # ------------------------------------------------------------ one case

    async def case_view(self, person: Person, register_no: str) -> dict[str, Any]:
        scope = self.scope(person)
        if scope is None:
            raise BoardError("not_supervisor")
        case = await storage.cases.case_by_register(self.db, register_no)
        if case is None or not scope.covers(case.institution, case.unit):
            raise BoardError("case_not_found")
        sop = await self.workflow.deps.sop_of(case, self.db)
        now = self.clock.now()
        names: dict[int, str] = {}

        async def name(pid: int | None) -> str | None:
            if pid is None:
                return None
            if pid not in names:
                p = await storage.people.person(self.db, pid)
                names[pid] = p.name if p else "?"
            return names[pid]

        steps = []
        for inst in await storage.steps.steps_of_case(self.db, case.id):
            step = sop.step(inst.step_no) if sop.has_step(inst.step_no) else None
            end = inst.completed_at or (now if inst.state == StepState.OPEN else None)
            taken = self.work.between(inst.opened_at, end) if end else None
            steps.append({
                "step": inst.step_no, "text": step.text if step else "", "role": self.catalog.roles.name(inst.role),
                "state": inst.state, "holder": await name(inst.holder_id), "acting_for": await name(inst.acting_for_id),
                "opened_at": inst.opened_at, "due_at": inst.due_at, "completed_at": inst.completed_at,
                "completed_by": await name(inst.completed_by), "branch": inst.branch_label,
                "taken": self.minutes_text(taken) if taken is not None else "-",
                "standard_text": (step.duration_text if step else None) or "-",
                "late": bool(inst.due_at and end and end > inst.due_at),
            })
        events = []
        for ev in await storage.events.events_of_case(self.db, case.id):
            events.append({"at": ev.at, "type": ev.type, "actor": await name(ev.actor_id),
                           "on_behalf": await name(ev.on_behalf_of), "data": ev.data})
        requester = await name(case.requester_id)
        return {"case": case, "sop": sop, "steps": steps, "events": events, "requester": requester,
                "unit": self.unit_name(case.institution, case.unit), "now": now}

    async def chart_case(self, person: Person, register_no: str) -> Case:
        """The case whose picture may be shown to this viewer."""
        scope = self.scope(person)
        case = await storage.cases.case_by_register(self.db, register_no)
        if scope is None or case is None or not scope.covers(case.institution, case.unit):
            raise BoardError("case_not_found")
        return case

    # ------------------------------------------------------------ words

    def minutes_text(self, minutes: float | None) -> str:
        if minutes is None:
            return "-"
        if minutes < 60:
            return f"{round(minutes)} menit"
        if minutes < self.day_minutes * 2:
            return f"{minutes / 60:.1f} jam".replace(".", ",")
        return f"{minutes / self.day_minutes:.1f} hari kerja".replace(".", ",")

    def unit_name(self, institution: str, unit: str) -> str:
        inst = self.catalog.institutions.get(institution)
        found = inst.unit(unit) if inst else None
        return found.name if found else unit

    def scope_label(self, scope: Scope) -> str:
        inst = self.catalog.institutions.get(scope.institution or "")
        if inst is None:
            return "Semua instansi"
        if scope.unit:
            return f"{inst.name} — {self.unit_name(inst.id, scope.unit)}"
        return inst.name


class BoardSessions:
    """Board sessions (after a valid Telegram signature or a one-time link) and the links themselves."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def open(self, person_id: int, via: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await q.insert_session(tx, _hash(token), person_id, via, now, now + SESSION_TTL)
        return token

    async def person(self, token: str | None) -> Person | None:
        if not token or len(token) > 100:
            return None
        person_id = await q.session_person(self.db, _hash(token), self.clock.now())
        return await storage.people.person(self.db, person_id) if person_id is not None else None

    async def close(self, token: str) -> None:
        async with self.db.transaction() as tx:
            await q.delete_session(tx, _hash(token))

    async def create_login(self, person_id: int) -> str:
        """A one-time login token for a desktop browser (valid for LOGIN_TTL, once)."""
        token = secrets.token_urlsafe(24)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await q.insert_login(tx, _hash(token), person_id, now, now + LOGIN_TTL)
        return token

    async def redeem_login(self, token: str) -> int | None:
        if not token or len(token) > 100:
            return None
        async with self.db.transaction() as tx:
            return await q.use_login(tx, _hash(token), self.clock.now())


def login_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/masuk/{token}"


__all__ = ["Board", "BoardError", "BoardSessions", "Filters", "WorkClock", "login_url"]
