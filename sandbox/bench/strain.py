"""Strain: one chat flooding the bot, and another process holding the database's write lock.

* flood: one person sends ``messages`` messages within ``seconds``; meanwhile another person sends
  /bantuan every ~1.1 s. Their reply latency is compared with the same probes while nobody floods.
* lock: another process holds SQLite's write lock for ``hold`` seconds (longer than the busy
  timeout); ``people`` people each send /bantuan during it. Counted afterwards: every message
  answered, and answered exactly once; how long after the release the last answer came.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sandbox.bench.common import MONDAY_8, Probe, RunningClock, add_staff, bench_services, running_bot
from sandbox.fake_bot_api import FakeBotApi

HELP_MARK = "/tugas"


@dataclass
class FloodResult:
    messages: int
    seconds: float
    idle: list[float]
    during: list[float]
    flood_replies: int
    notices: int
    dropped: int
    errors: list[str] = field(default_factory=list)


@dataclass
class LockResult:
    hold: float
    people: int
    answered: int
    exactly_once: int
    duplicates: int
    last_after_release: float
    alive: bool
    errors: list[str] = field(default_factory=list)


async def run_flood(directory: Path, messages: int = 500, seconds: float = 60.0, probes: int = 10) -> FloodResult:
    clock = RunningClock(MONDAY_8.replace(hour=9))
    async with bench_services(directory, "flood", clock) as services:
        flooder, asker = await add_staff(services, 2, first_tg=700_001, roles=["petugas_tu"], institution="ketapang",
                                         unit=None, label="Petugas")
        async with FakeBotApi(enforce_limits=True) as api:
            f_user = api.user(flooder.telegram_id or 0, first_name="Banjir")
            a_user = api.user(asker.telegram_id or 0, first_name="Penanya")
            async with running_bot(services, api) as app:
                await asyncio.sleep(1.1)
                idle = Probe(api)
                for _ in range(probes):
                    await idle(a_user, "help", partial(a_user.send, "/bantuan"), lambda m: HELP_MARK in m.text)
                    await asyncio.sleep(1.1)

                async def flood() -> None:
                    gap = seconds / messages
                    for i in range(messages):
                        await f_user.send(f"pesan {i}")
                        await asyncio.sleep(gap)

                flooding = asyncio.create_task(flood())
                await asyncio.sleep(2.0)  # the flood is under way
                during = Probe(api)
                while not flooding.done() and len(during.samples) < probes:
                    await during(a_user, "help", partial(a_user.send, "/bantuan"), lambda m: HELP_MARK in m.text)
                    await asyncio.sleep(1.1)
                await flooding
                processor = app.update_processor
                dropped = processor.stats["dropped_flood"]
    notices = sum(1 for m in f_user.inbox if "lebih cepat" in m.text)
    return FloodResult(messages, seconds, [s.latency for s in idle.samples], [s.latency for s in during.samples],
                       len(f_user.inbox) - notices, notices, dropped, idle.errors + during.errors)


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    code = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30); "
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(float(sys.argv[2])); "
            "c.execute('COMMIT')")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


async def run_lock(directory: Path, hold: float = 30.0, people: int = 20) -> LockResult:
    clock = RunningClock(MONDAY_8.replace(hour=9))
    async with bench_services(directory, "lock", clock) as services:
        staff = await add_staff(services, people, first_tg=710_001, roles=["petugas_tu"], institution="ketapang",
                                unit=None, label="Petugas")
        db_path = services.settings.db_path
        async with FakeBotApi(enforce_limits=True) as api:
            users = [api.user(p.telegram_id or 0, first_name="Pegawai") for p in staff]
            async with running_bot(services, api) as app:
                await asyncio.sleep(1.1)
                holder = await asyncio.to_thread(_hold_lock, db_path, hold)
                for user in users:
                    await user.send("/bantuan")
                    await asyncio.sleep(hold * 0.8 / people)
                await asyncio.to_thread(holder.wait, hold + 30)
                released = time.monotonic()
                errors: list[str] = []
                last = released
                deadline = released + 120
                while time.monotonic() < deadline:
                    if all(any(HELP_MARK in m.text for m in u.inbox) for u in users):
                        last = time.monotonic()
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(3.0)  # a second answer would have come by now
                counts = [sum(1 for m in u.inbox if HELP_MARK in m.text) for u in users]
                alive = app.updater is not None and app.updater.running and app.ledger.failed is None
    return LockResult(hold, people, sum(1 for c in counts if c >= 1), sum(1 for c in counts if c == 1),
                      sum(max(0, c - 1) for c in counts), last - released, alive, errors)
