"""What every benchmark section shares: clocks, a bot on the fake server, people, bulk cases, latency probes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot import storage
from bot.config import Settings
from bot.core.clock import Clock, iso
from bot.runtime import Services, open_services
from bot.sop.model import Sop, Step, snapshot
from bot.storage.records import Person
from sandbox.fake_bot_api import FakeBotApi, FakeChat, InboxMessage
from sandbox.fake_bot_api.limits import MESSAGE_METHODS
from scheduler.application import build_application, shutdown, startup
from scheduler.ratelimit import ChatRateLimiter

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=WIB)
"""A working Monday morning: digests are due, alarms fire, nothing is a holiday."""

REPLY_TIMEOUT = 180.0
"""How long a simulated person waits for an answer before the interaction counts as failed."""


class RunningClock:
    """Real time passing from a chosen moment: working hours for the bot, and retries still come due."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (the convention of bot.qa_eval.bench); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ----------------------------------------------------------------------------- services and the bot


@contextlib.asynccontextmanager
async def bench_services(directory: Path, name: str, clock: Clock) -> AsyncIterator[Services]:
    """Fresh services on a new database file in ``directory`` (never ./data)."""
    settings = Settings(db_path=directory / f"{name}.sqlite3")
    services = await open_services(settings, clock=clock, sync_people=False)
    try:
        yield services
    finally:
        await services.close()


@contextlib.asynccontextmanager
async def running_bot(
    services: Services, api: FakeBotApi, *, polling: bool = True, start_sender: bool = True,
    limiter: ChatRateLimiter | None = None,
) -> AsyncIterator[Application]:
    """The real Alur Application on the fake server (startup() by hand: PTB only calls post_init in run_*)."""
    app = build_application(services, token=api.token, base_url=api.base_url, base_file_url=api.base_file_url,
                            start_sender=start_sender, limiter=limiter)
    await app.initialize()
    await startup(app)
    await app.start()
    if polling:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        if polling and app.updater is not None:
            await app.updater.stop()
        await app.stop()
        await shutdown(app)
        await app.shutdown()


# ----------------------------------------------------------------------------- people and cases


async def add_staff(
    services: Services, count: int, *, first_tg: int, roles: list[str], institution: str, unit: str | None,
    label: str,
) -> list[Person]:
    """``count`` staff members with the same roles, each with a Telegram account id."""
    return [
        await services.people.add_staff(name=f"{label} {i + 1}", roles=roles, institution=institution, unit=unit,
                                        telegram_id=first_tg + i)
        for i in range(count)
    ]


async def add_officers(services: Services, count: int, *, first_tg: int, institution: str = "ketapang") -> list[Person]:
    """OPD officers (requesters), spread over the institution's agencies."""
    agencies = [a for a in services.agencies.values() if a.institution == institution]
    return [
        await services.people.register_officer(telegram_id=first_tg + i, username=None, name=f"Petugas OPD {i + 1}",
                                               agency_id=agencies[i % len(agencies)].id)
        for i in range(count)
    ]


@dataclass(frozen=True)
class OpenStep:
    """One open case with one open step, for bulk loading."""

    sop: Sop
    step: Step
    holder_id: int | None
    opened_at: datetime
    due_at: datetime | None
    remind_at: datetime | None = None
    prewarn_at: datetime | None = None
    escalate_at: datetime | None = None


async def bulk_open_cases(services: Services, requester_id: int, items: Sequence[OpenStep],
                          chunk: int = 20_000) -> None:
    """Insert open cases with their open step in one transaction (storage.bulk.bench_insert_open_cases)."""
    now = services.clock.now()
    async with services.db.transaction() as tx:
        for sop in {item.sop.id: item.sop for item in items}.values():
            await storage.sop_versions.ensure_sop_version(tx, sop_id=sop.id, sop_hash=sop.content_hash,
                                                          snapshot=snapshot(sop),
                                           now=now)
        next_id = await storage.bulk.bench_max_case_id(tx) + 1
        for start in range(0, len(items), chunk):
            cases, steps = [], []
            for offset, item in enumerate(items[start:start + chunk]):
                case_id = next_id + start + offset
                sop = item.sop
                cases.append((case_id, f"BENCH-{sop.register_code}-{case_id:06d}", sop.id, sop.content_hash,
                              sop.institution, sop.unit, requester_id, sop.title, iso(item.opened_at)))
                steps.append((case_id, item.step.number, item.step.actor, item.holder_id, iso(item.opened_at),
                              iso(item.due_at), iso(item.remind_at), iso(item.prewarn_at), iso(item.escalate_at)))
            await storage.bulk.bench_insert_open_cases(tx, cases, steps)


def staffed_steps(sops: Sequence[Sop]) -> list[tuple[Sop, Step]]:
    """Every (SOP, step) a staff member holds (not the requester's own steps)."""
    return [(sop, step) for sop in sops for step in sop.steps if step.actor != "requester"]


# ----------------------------------------------------------------------------- measuring replies


@dataclass
class Sample:
    """One interaction: sent at ``start``, answered at ``end`` (server clock, seconds)."""

    kind: str
    start: float
    end: float

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass
class Probe:
    """Acts for a simulated person and times the bot's answer on the fake server's (monotonic) clock.

    The interaction starts when the update is queued at the server (the person's send or tap) and
    ends when the server receives the bot message or edit that answers it in that chat.
    """

    api: FakeBotApi
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timeout: float = REPLY_TIMEOUT

    async def __call__(
        self, chat: FakeChat, kind: str, act: Callable[[], Awaitable[Any]], expect: Callable[[InboxMessage], bool],
    ) -> InboxMessage:
        start = self.api.now()
        await act()
        reply = await chat.wait_for(expect, timeout=self.timeout)
        self.samples.append(Sample(kind, start, _event_time(chat, reply)))
        return reply


def _event_time(chat: FakeChat, reply: InboxMessage) -> float:
    """When the server recorded the message or edit ``wait_for`` returned (it returns the event's snapshot)."""
    for event in reversed(chat.events):
        if event.message is reply:
            return event.time
    raise LookupError("the reply is not among the chat's events")


async def gather_people(scripts: Sequence[Awaitable[None]], errors: list[str]) -> None:
    """Run every person's script concurrently; a failed person is recorded, the others go on."""
    results = await asyncio.gather(*scripts, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            errors.append(f"{type(result).__name__}: {str(result).splitlines()[0] if str(result) else ''}")


@dataclass(frozen=True)
class PhaseCounts:
    """What the server saw during one phase: messages delivered, 429 answers, flood-limit violations."""

    messages: int
    rate_limited: int
    violations: dict[str, int]

    @property
    def violation_count(self) -> int:
        return sum(self.violations.values())


def phase_marks(api: FakeBotApi) -> tuple[int, int]:
    """Positions in the server's call and violation logs, to count what one phase caused."""
    return len(api.calls), len(api.limit_violations)


def phase_counts(api: FakeBotApi, marks: tuple[int, int]) -> PhaseCounts:
    calls, violations = marks
    recent = api.calls[calls:]
    by_rule = Counter(v.rule for v in api.limit_violations[violations:])
    return PhaseCounts(sum(1 for c in recent if c.ok and c.method in MESSAGE_METHODS),
                       sum(1 for c in recent if c.status == 429), dict(by_rule))
