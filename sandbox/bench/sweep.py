"""The reminder sweep over 1k, 10k and 100k open steps of which only a few are due.

Every open step has its alarms in the future except ``due`` steps per run, whose reminder falls one
minute after the previous run's: run k moves the clock to the k-th minute, so each run finds exactly
``due`` alarms to send (the partial index on next_alarm_at should make the run cost the same whatever
the number of open steps). A second sweep in the same minute finds nothing: the cost of an idle tick.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.core.clock import ManualClock
from sandbox.bench.common import MONDAY_8, OpenStep, add_officers, add_staff, bench_services, bulk_open_cases
from scheduler.tick import sweeper

SOP_ID = "ketapang-permintaan-konsultasi"
HOLDERS = 20


@dataclass
class SweepSize:
    open_steps: int
    due_per_run: int
    runs: int
    load_seconds: float
    times: list[float] = field(default_factory=list)  # seconds per sweep with alarms due
    idle_times: list[float] = field(default_factory=list)  # seconds per sweep with nothing due
    sent: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def idle_median(self) -> float:
        return statistics.median(self.idle_times)


@dataclass
class SweepResult:
    sizes: list[SweepSize]

    def ratio(self) -> float | None:
        """Time per sweep at the largest size over the smallest."""
        if len(self.sizes) < 2:
            return None
        return self.sizes[-1].median / self.sizes[0].median


async def run_sweep(directory: Path, sizes: tuple[int, ...] = (1_000, 10_000, 100_000), runs: int = 7,
                    due: int = 5) -> SweepResult:
    return SweepResult([await _one_size(directory, n, runs, due) for n in sizes])


async def _one_size(directory: Path, open_steps: int, runs: int, due: int) -> SweepSize:
    start = MONDAY_8.replace(hour=9)
    clock = ManualClock(start)
    async with bench_services(directory, f"sweep-{open_steps}", clock) as services:
        sop = services.catalog.get(SOP_ID)
        assert sop is not None
        step = sop.step("2")
        holders = await add_staff(services, HOLDERS, first_tg=400_001, roles=[step.actor], institution=sop.institution,
                                  unit=None, label="Petugas TU")
        requester = (await add_officers(services, 1, first_tg=410_001))[0]
        later = start + timedelta(days=7)
        items = []
        for i in range(open_steps):
            k = i // due  # the first (runs + 1) × due steps are the due ones, run k's at minute k + 1
            remind = start + timedelta(minutes=k + 1) if k <= runs else start + timedelta(days=3)
            items.append(OpenStep(sop, step, holders[i % HOLDERS].id, start - timedelta(hours=1), later,
                                  remind_at=remind))
        t0 = time.perf_counter()
        await bulk_open_cases(services, requester.id, items)
        result = SweepSize(open_steps, due, runs, time.perf_counter() - t0)
        sweep = sweeper(services)
        for k in range(runs + 1):  # run 0 warms up (SOP versions pinned, statements prepared) and is not counted
            clock.set(start + timedelta(minutes=k + 1, seconds=30))
            t0 = time.perf_counter()
            fired = await sweep.run()
            busy = time.perf_counter() - t0
            t0 = time.perf_counter()
            await sweep.run()  # the same minute again: nothing is due any more
            idle = time.perf_counter() - t0
            if k:
                result.times.append(busy)
                result.idle_times.append(idle)
                result.sent += sum(fired.sent.values())
    return result
