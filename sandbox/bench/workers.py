"""The processing ceiling of real `alur run` processes: SQLite (one process) beside PostgreSQL with 1, 2, … workers.

For each configuration: a fresh database, N real `alur run` processes (``ALUR_WORKERS=N``) on the
fake Bot API in this process, limits off (no pacing: the server only counts), and people acting as
fast as the bot answers, in one of two workloads:

* ``mixed``: the ceiling's mix from `alur bench` (sandbox/bench/burst.py, no thinking time): a
  third of the people file a Ketapang request through /ajukan, a fifth follow their requests with
  /status and plain-Indonesian questions, the rest are Kabid who decide a step with a button, then
  ask /status and a question. Filing and deciding write, and their notices go out through the
  elected sender. This is what a worker's interaction costs in real use.
* ``status``: every person sends /status, ``rounds`` times: the cheapest interaction there is, so
  the transport and the coordination between workers weigh the most.

Measured: interactions answered per second over the whole run, the p95 latency, and the CPU seconds
the workers used per interaction (from /proc: user + system time of their processes), and
PostgreSQL's. The fake server, the simulated people, PostgreSQL and the workers share this
machine's cores.

The people and the fake server run on uvloop when it is installed (the dev extra installs it): the
load generator then takes less of the cores the workers share with it. The header says which loop ran.

Run as ``alur bench --workers 1,2 --pg postgresql://…`` (the URL of a server where the bench may
create and drop databases); SQLite is always measured with one worker.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.config import Settings
from bot.core.clock import SystemClock
from bot.qa.answers import Answerer
from bot.runtime import Services, open_services
from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.sop.model import Sop
from bot.storage.dialect import PostgresUrl
from sandbox.bench import burst
from sandbox.bench.common import Probe, add_officers, gather_people, percentile
from sandbox.fake_bot_api import FakeBotApi, FakeUser

FIRST_TG = 700_000
STARTED = "Alur berjalan"
NO_PAUSE = (0.0, 0.0)
T = TypeVar("T")


def run_load(main: Coroutine[Any, Any, T]) -> T:
    """Run the load generator (fake server and people) on uvloop when installed, else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def load_loop() -> str:
    """The loop ``run_load`` runs on (named in the table's header)."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


class Workload(StrEnum):
    MIXED = "mixed"
    STATUS = "status"


@dataclass
class _Plan:
    """Who acts in a workload, and what each does (decided before the workers start)."""

    telegram_ids: list[int]
    """Everyone in the database with a Telegram account (staff whom the notices reach, too)."""
    actors: int
    script: Callable[[Probe, dict[int, FakeUser]], list[Awaitable[None]]]
    ready: Callable[[dict[int, FakeUser]], bool] = lambda users: True
    """Whether the people may start (the Kabid have their decision cards)."""


@dataclass
class WorkersResult:
    workload: Workload
    backend: str
    workers: int
    people: int
    interactions: int
    seconds: float
    p95: float
    cpu_per_interaction: float
    postgres_cpu_per_interaction: float
    load_cpu_per_interaction: float
    """The fake Bot API and the simulated people (this process)."""
    machine_busy: float
    errors: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.interactions / self.seconds if self.seconds else 0.0


def _postgres_pids() -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot (/proc/stat)."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (and its waited-for children) from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


async def _prepare(target: str, workload: Workload, people: int, rounds: int) -> _Plan:
    settings = Settings(db_path=target)
    services = await open_services(settings, clock=SystemClock(), sync_people=False)
    try:
        if workload is Workload.STATUS:
            officers = await add_officers(services, people, first_tg=FIRST_TG)
            ids = [p.telegram_id or 0 for p in officers]
            return _Plan(ids, len(ids), lambda probe, users: [_status_person(probe, users[i], rounds) for i in ids])
        return await _mixed(services, people)
    finally:
        await services.close()


async def _mixed(services: Services, people: int) -> _Plan:
    """The ceiling's cast and scripts (burst.py), with every request a Kabid decides already at their step."""
    cast = await burst.cast_people(services, *burst.split(people))
    await burst.open_decisions(services, cast)
    sop = services.catalog.get(burst.SOP_ID)
    assert sop is not None
    step = sop.step(burst.DECISION_STEP)
    assert step.decision is not None
    label = step.decision.branches[0].label
    own = {s.title.lower() for s in services.catalog if s.institution == sop.institution}
    questions = burst.pick_questions(Answerer(services.catalog), sop.title, own)
    ids = {p.id: p.telegram_id or 0 for p in [*cast.filers, *cast.askers, *cast.deciders]}
    deciders = [ids[p.id] for p in cast.deciders]

    def script(probe: Probe, users: dict[int, FakeUser]) -> list[Awaitable[None]]:
        return _mixed_scripts(probe, users, cast, ids, sop, questions, label)

    everyone = [p.telegram_id for p in await services.people.all() if p.telegram_id]
    return _Plan(everyone, len(ids), script, lambda users: all(_has_card(users[i]) for i in deciders))


def _mixed_scripts(probe: Probe, users: dict[int, FakeUser], cast: burst.Cast, ids: dict[int, int], sop: Sop,
                   questions: list[tuple[str, str]], label: str) -> list[Awaitable[None]]:
    def pause(person_id: int) -> Callable[[], Awaitable[None]]:
        return burst.pauser(0, person_id, NO_PAUSE)

    scripts = [burst.filer(probe, users[ids[p.id]], sop, pause(p.id)) for p in cast.filers]
    for i, p in enumerate(cast.askers):
        qs = (questions[(2 * i) % len(questions)], questions[(2 * i + 1) % len(questions)])
        own = cast.register_nos.get(p.id) or next(iter(cast.register_nos.values()))
        scripts.append(burst.asker(probe, users[ids[p.id]], own[0], qs, pause(p.id)))
    for i, p in enumerate(cast.deciders):
        user = users[ids[p.id]]
        scripts.append(burst.decider(probe, user, burst.decision_card(user), label, questions[i % len(questions)],
                                     pause(p.id)))
    return scripts


def _has_card(user: FakeUser) -> bool:
    try:
        burst.decision_card(user)
    except RuntimeError:
        return False
    return True


async def _pg_database(server: PostgresUrl, name: str) -> PostgresUrl:
    import asyncpg

    admin = await asyncpg.connect(server.url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.with_database(name)


async def run_workers_config(
    directory: Path, workload: Workload, backend: str, workers: int, people: int, rounds: int, pg: PostgresUrl | None
) -> WorkersResult:
    if backend == "postgresql":
        assert pg is not None
        url = await _pg_database(pg, f"alur_bench_w{workers}")
        target = url.url
    else:
        target = _fresh_file(directory / f"workers-{workers}.sqlite3")
    plan = await _prepare(target, workload, people, rounds)
    async with FakeBotApi(bot_username="alur_bench_bot") as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ALUR_", "TELEGRAM_"))}
        env.update({"ALUR_DB": target, "ALUR_WORKERS": str(workers), "TELEGRAM_BOT_TOKEN": api.token,
                    "TELEGRAM_API_BASE_URL": api.base_url, "ALUR_TICK_FIRST": "600", "PYTHONUNBUFFERED": "1",
                    "ALUR_SOP_DIR": str(DEFAULT_SOP_DIR)})
        logs = [directory / f"{workload}-{backend}-{workers}-{i}.log" for i in range(workers)]
        procs: list[subprocess.Popen[bytes]] = []
        users = {i: api.user(i, first_name=f"Orang {i}") for i in plan.telegram_ids}  # before any notice goes out
        try:
            procs += [_start_worker(env, log, directory) for log in logs]
            deadline = time.monotonic() + 90
            while not _all_started(logs):
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("a worker did not start: " + _tail(logs))
                await asyncio.sleep(0.2)
            deadline = time.monotonic() + 300
            while not plan.ready(users):  # the notices filed before the start reach their people first
                if time.monotonic() > deadline:
                    raise RuntimeError("the decision cards did not arrive: " + _tail(logs))
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            await _warm_up(api, list(users.values())[: min(4, len(users))])
            probe = Probe(api, timeout=60)
            cpu0 = sum(_cpu_seconds(p.pid) for p in procs)
            pg_pids = _postgres_pids()
            pg0 = {pid: _cpu_seconds(pid) for pid in pg_pids}
            busy0, total0 = _machine_ticks()
            load0 = time.process_time()
            t0 = time.monotonic()
            await gather_people(plan.script(probe, users), probe.errors)
            seconds = time.monotonic() - t0
            load_cpu = time.process_time() - load0
            cpu = sum(_cpu_seconds(p.pid) for p in procs) - cpu0
            busy1, total1 = _machine_ticks()
            pg_cpu = sum(max(0.0, _cpu_seconds(pid) - pg0[pid]) for pid in pg_pids & _postgres_pids())
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    samples = probe.samples
    n = len(samples) or 1
    return WorkersResult(workload, backend, workers, plan.actors, len(samples), seconds,
                         percentile([s.latency for s in samples], 0.95), cpu / n, pg_cpu / n, load_cpu / n,
                         (busy1 - busy0) / max(1, total1 - total0), probe.errors)


def _fresh_file(path: Path) -> str:
    path.unlink(missing_ok=True)
    return str(path)


def _start_worker(env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "sandbox.bench.worker_main"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=cwd)


def _all_started(logs: list[Path]) -> bool:
    return all(STARTED in log.read_text(errors="replace") for log in logs)


def _tail(logs: list[Path]) -> str:
    return "\n".join(log.read_text(errors="replace")[-1500:] for log in logs)


async def _warm_up(api: FakeBotApi, users: list[FakeUser]) -> None:
    probe = Probe(api, timeout=60)
    await gather_people([_status_person(probe, u, 2) for u in users], probe.errors)


async def _status_person(probe: Probe, user: FakeUser, rounds: int) -> None:
    for _ in range(rounds):
        await probe(user, "status", partial(user.send, "/status"), lambda m: bool(m.text))


PEOPLE = {Workload.MIXED: 200, Workload.STATUS: 40}
"""The mixed workload's people each act once (about 900 interactions with 200); /status people repeat."""


async def run_workers(
    directory: Path, counts: list[int], pg: PostgresUrl | None, people: dict[Workload, int] | None = None,
    rounds: int = 15, workloads: tuple[Workload, ...] = tuple(Workload),
) -> list[WorkersResult]:
    sizes = {**PEOPLE, **(people or {})}
    out = []
    for workload in workloads:
        out.append(await run_workers_config(directory, workload, "sqlite", 1, sizes[workload], rounds, None))
        if pg is not None:
            for n in counts:
                out.append(await run_workers_config(directory, workload, "postgresql", n, sizes[workload], rounds, pg))
    return out


def print_workers(results: list[WorkersResult]) -> None:
    print(f"alur bench --workers: people acting as fast as answered; limits off; {os.cpu_count()} cores shared by "
          f"the fake server, the people, PostgreSQL and the workers; load generator on {load_loop()} "
          f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print(f"{'workload':<8} {'people':>6} {'backend':<11} {'workers':>7} {'interactions':>12} {'per second':>11} "
          f"{'p95':>8} {'worker CPU ms/int.':>18} {'PostgreSQL CPU ms/int.':>22} {'load CPU ms/int.':>16} "
          f"{'machine busy':>12} {'vs 1 worker':>11}")
    base: dict[tuple[Workload, str], float] = {}
    for r in results:
        base.setdefault((r.workload, r.backend), r.throughput)
        pg = f"{r.postgres_cpu_per_interaction * 1000:.1f}" if r.backend == "postgresql" else "-"
        print(f"{r.workload:<8} {r.people:>6} {r.backend:<11} {r.workers:>7} {r.interactions:>12} "
              f"{r.throughput:>11.1f} {r.p95 * 1000:>6.0f}ms {r.cpu_per_interaction * 1000:>18.1f} {pg:>22} "
              f"{r.load_cpu_per_interaction * 1000:>16.1f} {r.machine_busy:>12.0%} "
              f"{r.throughput / base[(r.workload, r.backend)]:>10.2f}×")
        for err in r.errors[:3]:
            print(f"  ! {r.workload}/{r.backend}/{r.workers}: {err}")
