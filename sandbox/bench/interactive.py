"""Interactive replies while the outbox is full of bulk messages (digests and reminders).

The morning rush: the digest round and the reminder sweep have queued ``digests`` digests and
``reminders`` reminders (bulk priority) when the bot starts; once the sender is under way, people
who have nothing queued send /status a few times, and so do a few holders who have reminders
queued in their own chat (there the one-message-per-second pacing of that chat applies too).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from bot import storage
from bot.runtime import Services
from bot.storage.records import Person
from bot.workflow.digest import DigestRound
from sandbox.bench.common import (
    MONDAY_8,
    OpenStep,
    PhaseCounts,
    Probe,
    RunningClock,
    Sample,
    add_officers,
    add_staff,
    bench_services,
    bulk_open_cases,
    gather_people,
    percentile,
    phase_counts,
    phase_marks,
    running_bot,
)
from sandbox.bench.digest import supervisors
from sandbox.fake_bot_api import FakeBotApi, FakeUser
from scheduler.tick import sweeper

THINK = (1.5, 3.0)
REMINDERS_PER_HOLDER = 10
WARM_UP_SENDS = 50  # the sender is under way before anyone asks


@dataclass
class InteractiveResult:
    digests: int
    reminders: int
    idle: list[Sample]
    busy: list[Sample]
    idle_people: int
    busy_people: int
    bulk_sent_during: int
    window_seconds: float
    bulk_left: int
    server: PhaseCounts
    errors: list[str]

    def latency(self, q: float, busy: bool = False) -> float:
        return percentile([s.latency for s in (self.busy if busy else self.idle)], q)


async def _holders_with_reminders(services: Services, count: int, first_tg: int) -> list[Person]:
    """``count`` staff spread over the units, each holding REMINDERS_PER_HOLDER steps whose reminder is due."""
    units = [(inst.id, unit.id) for inst in services.catalog.institutions.values() for unit in inst.units]
    sops = {key: [s for s in services.catalog if (s.institution, s.unit) == key and s.steps] for key in units}
    now = services.clock.now()
    holders, items = [], []
    for i in range(count):
        inst, unit = units[i % len(units)]
        person = (await add_staff(services, 1, first_tg=first_tg + i, roles=["fungsional_perencana"],
                                  institution=inst, unit=unit, label=f"Staf {unit}"))[0]
        holders.append(person)
        for k in range(REMINDERS_PER_HOLDER):
            sop = sops[(inst, unit)][k % len(sops[(inst, unit)])]
            step = next(s for s in sop.steps if s.actor != "requester")
            items.append(OpenStep(sop, step, person.id, now - timedelta(hours=2), now + timedelta(hours=3),
                                  remind_at=now - timedelta(minutes=1)))
    requester = (await add_officers(services, 1, first_tg=first_tg + count))[0]
    await bulk_open_cases(services, requester.id, items)
    return holders


async def run_interactive(
    directory: Path, digests: int = 200, reminders: int = 1_000, idle_people: int = 20, busy_people: int = 5,
    rounds: int = 3, seed: int = 13,
) -> InteractiveResult:
    clock = RunningClock(MONDAY_8.replace(hour=9))
    async with bench_services(directory, "interactive", clock) as services:
        await supervisors(services, digests, first_tg=600_001)
        holders = await _holders_with_reminders(services, max(1, reminders // REMINDERS_PER_HOLDER), 610_001)
        askers = await add_officers(services, idle_people, first_tg=620_001)
        swept = await sweeper(services).run(limit=reminders)
        n_reminders = sum(swept.sent.values())
        n_digests = await DigestRound(services.workflow.deps, services.settings.digest_time).run()

        async with FakeBotApi(enforce_limits=True) as api:
            users = {p.id: api.user(p.telegram_id or 0, first_name=p.name.split()[0])
                     for p in await services.people.all() if p.telegram_id}
            under_way = _after_messages(api, min(WARM_UP_SENDS, (n_digests + n_reminders) // 2))
            async with running_bot(services, api) as app:
                sender = app.sender
                await asyncio.wait_for(under_way.wait(), timeout=300)
                idle, busy = Probe(api), Probe(api)
                rng = random.Random(seed)
                marks = phase_marks(api)
                sent_before = sender.stats["sent"]
                t0 = time.perf_counter()
                scripts = [_asker(idle, users[p.id], rounds, rng, "/ajukan") for p in askers]
                scripts += [_asker(busy, users[p.id], rounds, rng, "📂") for p in holders[:busy_people]]
                errors: list[str] = []
                await gather_people(scripts, errors)
                window = time.perf_counter() - t0
                sent_during = sender.stats["sent"] - sent_before
                server = phase_counts(api, marks)
                left = (await storage.outbox.outbox_counts(services.db)).get("pending", 0)
    return InteractiveResult(n_digests, n_reminders, idle.samples, busy.samples, idle_people, busy_people,
                             sent_during, window, left, server,
                             errors + idle.errors + busy.errors)


def _after_messages(api: FakeBotApi, count: int) -> asyncio.Event:
    """An event set once the server has received ``count`` bot messages."""
    seen = asyncio.Event()
    received = [0]

    def listen(kind: str, chat: object, payload: object) -> None:
        if kind == "message":
            received[0] += 1
            if received[0] >= count:
                seen.set()

    api.on_event(listen)
    return seen


async def _asker(probe: Probe, user: FakeUser, rounds: int, rng: random.Random, marker: str) -> None:
    """/status ``rounds`` times, starting within the first two seconds, thinking between rounds."""
    start = rng.uniform(0, 2)
    thinks = [rng.uniform(*THINK) for _ in range(rounds)]
    await asyncio.sleep(start)
    for i in range(rounds):
        if i:
            await asyncio.sleep(thinks[i])
        await probe(user, "status", partial(user.send, "/status"), lambda m: marker in m.text)
