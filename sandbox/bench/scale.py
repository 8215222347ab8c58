"""Agency scale: the same measurements on a 10k- and a 100k-case database.

The fixture: ``cases`` requests spread over every staffed SOP step; each has one finished step
(completed 1-60 days ago by a holder of its unit, with its audit event) and one open step (5%
overdue, 3% due later today, the rest in the coming weeks, 1% without a holder). People grow with
the work, as in a real agency: one holder per 200 cases in each unit and one requester per 100
cases, so each person's own load is the same at both sizes; 200 supervisors.

Measured, per size (in-process, the real Application on the fake server, limits on):
the digest round (``DigestRound.run``), ``/status`` of requesters and staff idle and while the
round runs, staff ``/status``, ``/tugas`` and a tap on the first task it lists, ``alur report sla``'s
query (``sla_report`` after the tick's fold), and the resident memory of a real ``alur run`` process
on that database (``/proc/PID/status``), on a day its digest round runs and on one it does not.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bot import storage
from bot.core.clock import iso
from bot.runtime import Services
from bot.storage.records import Person
from bot.workflow.analytics import fold_sla, sla_report
from bot.workflow.digest import DigestRound
from sandbox.bench.common import (
    MONDAY_8,
    Probe,
    RunningClock,
    Sample,
    add_officers,
    add_staff,
    bench_services,
    percentile,
    running_bot,
    staffed_steps,
)
from sandbox.bench.digest import supervisors
from sandbox.fake_bot_api import FakeBotApi, FakeUser

CASES_PER_HOLDER = 200
CASES_PER_REQUESTER = 100
PROBES = 10


@dataclass
class ScaleResult:
    cases: int
    holders: int
    build_seconds: float
    fold_seconds: float
    round_seconds: float
    round_digests: int
    loop_lag_max: float
    status_idle: list[float] = field(default_factory=list)
    status_round: list[float] = field(default_factory=list)
    staff_status: list[float] = field(default_factory=list)
    tugas: list[float] = field(default_factory=list)
    tap_first: list[float] = field(default_factory=list)
    sla_seconds: list[float] = field(default_factory=list)
    rss_idle_mb: float | None = None
    rss_digest_mb: float | None = None
    rss_note: str = ""
    errors: list[str] = field(default_factory=list)


async def build(services: Services, cases: int, seed: int = 11) -> tuple[list[Person], list[Person], list[Person]]:
    """The fixture; (supervisors, holders, requesters)."""
    rng = random.Random(seed)
    now = services.clock.now()
    heads = await supervisors(services, 200, first_tg=500_001)
    units = [(inst.id, unit.id) for inst in services.catalog.institutions.values() for unit in inst.units]
    per_unit = max(2, cases // CASES_PER_HOLDER // len(units))
    holders: dict[tuple[str, str], list[Person]] = {}
    tg = 510_001
    for key in units:
        holders[key] = await add_staff(services, per_unit, first_tg=tg, roles=["fungsional_perencana"],
                                       institution=key[0], unit=key[1], label=f"Staf {key[1]}")
        tg += per_unit
    requesters = await add_officers(services, max(2, cases // CASES_PER_REQUESTER), first_tg=900_001)
    steps = staffed_steps(list(services.catalog))
    by_sop: dict[str, list[Any]] = {}
    for sop, step in steps:
        by_sop.setdefault(sop.id, []).append(step)
    async with services.db.transaction() as tx:
        from bot.sop.model import snapshot

        for sop in services.catalog:
            await storage.sop_versions.ensure_sop_version(tx, sop_id=sop.id, sop_hash=sop.content_hash,
                                                          snapshot=snapshot(sop), now=now)
        first = await storage.bulk.bench_max_case_id(tx) + 1
        for start in range(0, cases, 20_000):
            case_rows, open_rows, done_rows, events = [], [], [], []
            for case_id in range(first + start, first + min(cases, start + 20_000)):
                sop, step = rng.choice(steps)
                people = holders[(sop.institution, sop.unit)]
                roll = rng.random()
                if roll < 0.05:
                    due = now - timedelta(hours=rng.uniform(1, 120))
                elif roll < 0.08:
                    due = now + timedelta(hours=rng.uniform(0.5, 6))
                else:
                    due = now + timedelta(days=rng.uniform(2, 30))
                finished_at = now - timedelta(days=rng.uniform(1, 60))
                started = finished_at - timedelta(hours=rng.uniform(1, 72))
                opened = min(now, due) - timedelta(days=rng.uniform(0.1, 1))
                doer = rng.choice(people)
                holder = None if rng.random() < 0.01 else rng.choice(people)
                requester = requesters[case_id % len(requesters)]
                case_rows.append((case_id, f"BENCH-{sop.register_code}-{case_id:06d}", sop.id, sop.content_hash,
                                  sop.institution, sop.unit, requester.id, sop.title, iso(started)))
                open_rows.append((case_id, step.number, step.actor, holder.id if holder else None, iso(opened),
                                  iso(due), None, None, iso(due + timedelta(hours=1))))
                prior = by_sop[sop.id][0]
                done_rows.append((case_id, prior.number, prior.actor, doer.id, iso(started),
                                  iso(started + timedelta(hours=rng.uniform(2, 40))), iso(finished_at), doer.id))
                events.append((iso(finished_at), case_id, doer.id, "step_completed",
                               json.dumps({"step": prior.number})))
            await storage.bulk.bench_insert_open_cases(tx, case_rows, open_rows)
            await storage.bulk.bench_insert_history(tx, done_rows, events)
    await services.db.conn.execute("ANALYZE")
    return heads, [p for group in holders.values() for p in group], requesters


async def _probe_status(probe: Probe, user: FakeUser, marker: str) -> None:
    await probe(user, "status", partial(user.send, "/status"), lambda m: marker in m.text)


async def _loop_lag(stop: asyncio.Event, out: list[float]) -> None:
    """How late the event loop wakes a 10 ms sleep (what a reply would wait behind the round)."""
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.01)
        out.append(time.perf_counter() - t0 - 0.01)


async def run_scale_size(directory: Path, cases: int, measure_rss: bool = True) -> ScaleResult:
    clock = RunningClock(MONDAY_8.replace(hour=9))
    name = f"scale{cases}"
    t0 = time.perf_counter()
    async with bench_services(directory, name, clock) as services:
        heads, holders, requesters = await build(services, cases)
        build_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        await fold_sla(services.db, services.calendar, clock.now())
        fold_seconds = time.perf_counter() - t0
        result = ScaleResult(cases, len(holders), build_seconds, fold_seconds, 0.0, 0, 0.0)
        for _ in range(5):
            t0 = time.perf_counter()
            await sla_report(services.db.read, services.catalog, services.calendar)
            result.sla_seconds.append(time.perf_counter() - t0)
        rng = random.Random(5)
        askers = rng.sample(requesters, min(PROBES, len(requesters)))
        staff = rng.sample(holders, min(PROBES, len(holders)))
        async with FakeBotApi(enforce_limits=True) as api:
            users = {p.id: api.user(p.telegram_id or 0, first_name=p.name.split()[0])
                     for p in [*askers, *staff, *heads]}  # the supervisors receive their digests
            async with running_bot(services, api) as app:
                await asyncio.sleep(1.0)
                idle = Probe(api)
                for p in askers:
                    await _probe_status(idle, users[p.id], "📂")
                staff_probe = Probe(api)
                for p in staff:
                    await _probe_status(staff_probe, users[p.id], "📂")
                tugas, tap = Probe(api), Probe(api)
                for p in staff:
                    user = users[p.id]
                    await asyncio.sleep(1.1)
                    listing = await tugas(user, "tugas", partial(user.send, "/tugas"),
                                          lambda m: "Tugas Anda" in m.text and bool(m.buttons))
                    t_start = api.now()
                    qid = await user.tap(listing, listing.button_texts[0])
                    await user.wait_answer(qid)
                    answered = next(a for a in api.answers if a.query_id == qid)
                    tap.samples.append(Sample("tap", t_start, answered.time))
                await asyncio.sleep(1.1)
                # the digest round, with people asking /status meanwhile
                during = Probe(api)
                lag: list[float] = []
                stop = asyncio.Event()
                lagger = asyncio.create_task(_loop_lag(stop, lag))
                round_task = asyncio.create_task(_timed_round(services))
                while not round_task.done():
                    await asyncio.gather(*(_probe_status(during, users[p.id], "📂") for p in askers[:5]),
                                         return_exceptions=True)
                result.round_seconds, result.round_digests = await round_task
                stop.set()
                await lagger
                result.loop_lag_max = max(lag, default=0.0)
                result.status_idle = [s.latency for s in idle.samples]
                result.staff_status = [s.latency for s in staff_probe.samples]
                result.tugas = [s.latency for s in tugas.samples]
                result.tap_first = [s.latency for s in tap.samples]
                result.status_round = [s.latency for s in during.samples]
                result.errors += idle.errors + during.errors + tugas.errors + staff_probe.errors
                del app
        everyone = [p for p in await services.people.all() if p.telegram_id]
    if measure_rss:
        await _rss(directory / f"{name}.sqlite3", everyone, result)
    return result


async def _timed_round(services: Services) -> tuple[float, int]:
    t0 = time.perf_counter()
    queued = await DigestRound(services.workflow.deps, services.settings.digest_time).run()
    return time.perf_counter() - t0, queued


def _rss_kb(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


async def _rss(db_path: Path, everyone: list[Person], result: ScaleResult) -> None:
    """`alur run` on the database: resident memory with and without today's digest round."""
    from bot.config import Settings

    tz = _working_zone(datetime.now(UTC))
    if tz is None:
        result.rss_note = "not measured: no time zone has working hours today"
        return
    calendar = Settings(timezone=tz).calendar()
    if not calendar.is_working_day(datetime.now(UTC).astimezone(calendar.tz).date()):
        result.rss_note = f"not measured: today is not a working day in {tz}"
        return
    for digest in (False, True):
        async with FakeBotApi(enforce_limits=True) as api:
            for p in everyone:
                api.user(p.telegram_id or 0, first_name="P")
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
                   "ALUR_DB": str(db_path), "ALUR_TZ": tz, "ALUR_DIGEST_TIME": "00:00" if digest else "23:59"}
            env.pop("ALUR_PEOPLE", None)
            proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "run"], env=env,  # noqa: ASYNC220
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            peak = 0
            try:
                sent_before = len(api.sent_messages)
                end = time.monotonic() + (90 if digest else 30)
                while time.monotonic() < end and proc.poll() is None:
                    await asyncio.sleep(0.5)
                    peak = max(peak, _rss_kb(proc.pid).get("VmHWM", 0))
                    if digest and len(api.sent_messages) - sent_before >= 400:
                        break
                peak = max(peak, _rss_kb(proc.pid).get("VmHWM", 0))
            finally:
                proc.terminate()
                try:
                    await asyncio.to_thread(proc.wait, 30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if digest:
                result.rss_digest_mb = peak / 1024
                result.rss_note = f"{len(api.sent_messages)} messages sent in the digest run"
            else:
                result.rss_idle_mb = peak / 1024


def _working_zone(now: datetime) -> str | None:
    """A fixed-offset zone where it is now a weekday between 09:00 and 20:00, so `alur run` (which reads
    the real clock) has its digest due with ALUR_DIGEST_TIME=00:00 and not due with 23:59, whenever the
    benchmark runs."""
    for hours in range(-12, 15):
        local = now + timedelta(hours=hours)
        if local.weekday() < 5 and 9 <= local.hour < 20:
            return f"Etc/GMT{-hours:+d}" if hours else "Etc/UTC"
    return None


def p95(values: list[float]) -> float:
    return percentile(values, 0.95)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
