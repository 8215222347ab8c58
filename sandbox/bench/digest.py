"""The daily digest: 200 supervisors over 50k open cases — building, queueing and sending at Telegram's pace.

Supervisors: per institution its two org-wide heads (Kepala Badan and Sekretaris; Sekda and Asisten
in a Setda), the rest Kabid/Kabag spread over the units. Cases: spread over every SOP step a staff
member holds; 5% overdue, 3% due later today, the rest due in the coming weeks, 1% without a holder.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.runtime import Services
from bot.storage.db import to_json
from bot.storage.records import Person
from bot.workflow.digest import DigestBuilder, DigestRound
from sandbox.bench.common import (
    MONDAY_8,
    OpenStep,
    PhaseCounts,
    RunningClock,
    add_officers,
    add_staff,
    bench_services,
    bulk_open_cases,
    phase_counts,
    phase_marks,
    running_bot,
    staffed_steps,
)
from sandbox.fake_bot_api import FakeBotApi

SENT_METHODS = ("sendMessage", "sendPhoto")
HOLDERS_PER_UNIT = 5
HEADS = {"karanganyar": ("sekda", "asisten")}
DEFAULT_HEADS = ("kepala_badan", "sekretaris")
UNIT_HEAD = {"karanganyar": "kabag"}


@dataclass
class DigestResult:
    supervisors: int
    cases: int
    load_seconds: float
    build_seconds: float
    built: int
    round_seconds: float
    queued_digests: int
    queued_charts: int
    largest_payload_kb: float
    send_seconds: float
    sent: int
    pace: float  # messages per second at the server, first to last
    server: PhaseCounts
    dead: int


async def supervisors(services: Services, count: int, first_tg: int) -> list[Person]:
    """``count`` supervisors: two org-wide heads per institution, then unit heads round the units."""
    out: list[Person] = []
    tg = first_tg
    units = []
    for inst in services.catalog.institutions.values():
        for role in HEADS.get(inst.id, DEFAULT_HEADS):
            if len(out) < count:
                out += await add_staff(services, 1, first_tg=tg, roles=[role], institution=inst.id, unit=None,
                                       label=f"{role} {inst.id}")
                tg += 1
        units += [(inst.id, unit.id) for unit in inst.units]
    i = 0
    while len(out) < count:
        inst_id, unit_id = units[i % len(units)]
        role = UNIT_HEAD.get(inst_id, "kabid")
        out += await add_staff(services, 1, first_tg=tg, roles=[role], institution=inst_id, unit=unit_id,
                               label=f"{role} {unit_id} {i // len(units) + 1}")
        tg += 1
        i += 1
    return out


async def open_work(services: Services, cases: int, *, seed: int, first_tg: int) -> None:
    """``cases`` open cases over every staffed SOP step, with holders in each unit."""
    rng = random.Random(seed)
    now = services.clock.now()
    holders: dict[tuple[str, str], list[int]] = {}
    tg = first_tg
    for inst in services.catalog.institutions.values():
        for unit in inst.units:
            staff = await add_staff(services, HOLDERS_PER_UNIT, first_tg=tg, roles=["fungsional_perencana"],
                                    institution=inst.id, unit=unit.id, label=f"Staf {unit.id}")
            holders[(inst.id, unit.id)] = [p.id for p in staff]
            tg += HOLDERS_PER_UNIT
    requester = (await add_officers(services, 1, first_tg=tg))[0]
    steps = staffed_steps(list(services.catalog))
    items = []
    for _ in range(cases):
        sop, step = rng.choice(steps)
        roll = rng.random()
        if roll < 0.05:
            due = now - timedelta(hours=rng.uniform(1, 120))
        elif roll < 0.08:
            due = now + timedelta(hours=rng.uniform(0.5, 6))
        else:
            due = now + timedelta(days=rng.uniform(2, 30))
        holder = None if rng.random() < 0.01 else rng.choice(holders[(sop.institution, sop.unit)])
        items.append(OpenStep(sop, step, holder, min(now, due) - timedelta(days=rng.uniform(1, 5)), due,
                              escalate_at=due + timedelta(hours=1)))
    await bulk_open_cases(services, requester.id, items)


async def run_digest(directory: Path, supervisor_count: int = 200, cases: int = 50_000, seed: int = 11) -> DigestResult:
    clock = RunningClock(MONDAY_8)
    async with bench_services(directory, "digest", clock) as services:
        heads = await supervisors(services, supervisor_count, first_tg=500_001)
        await open_work(services, cases, seed=seed, first_tg=510_001)

        builder = DigestBuilder(services.workflow.deps)
        t0 = time.perf_counter()
        await builder.load(clock.now())
        load_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        built = [d for d in (builder.build(p) for p in heads) if d is not None]
        build_seconds = time.perf_counter() - t0
        largest = max((len(to_json(d.as_payload().model_dump(mode="json"))) for d in built), default=0)
        charts = sum(1 for d in built if d.overdue_by_unit)  # the round queues a chart with each of these
        n_built = len(built)
        del built, builder

        t0 = time.perf_counter()
        queued = await DigestRound(services.workflow.deps, services.settings.digest_time).run()
        round_seconds = time.perf_counter() - t0

        async with FakeBotApi(enforce_limits=True) as api:
            for p in heads:
                api.user(p.telegram_id or 0, first_name=p.name)
            async with running_bot(services, api, polling=False, start_sender=False) as app:
                sender = app.sender
                marks = phase_marks(api)
                t0 = time.perf_counter()
                await sender.drain(timeout=1800)
                send_seconds = time.perf_counter() - t0
                server = phase_counts(api, marks)
                sends = [c for c in api.calls[marks[0]:] if c.method in SENT_METHODS and c.ok]
                span = sends[-1].time - sends[0].time if len(sends) > 1 else 0.0
                dead = sender.stats["dead"]
    return DigestResult(
        supervisor_count, cases, load_seconds, build_seconds, n_built, round_seconds, queued, charts,
        largest / 1024, send_seconds, len(sends), (len(sends) - 1) / span if span else 0.0, server, dead,
    )
