"""The processing ceiling of real `alur run` processes: SQLite (one process) beside PostgreSQL with 1, 2, … workers.

For each configuration: a fresh database with ``people`` registered officers, N real `alur run`
processes (``ALUR_WORKERS=N``) on the fake Bot API in this process, limits off (no pacing: the
server only counts), and every person sending /status as fast as the bot answers, ``rounds``
times. Measured: interactions answered per second over the whole run, the p95 latency, and the CPU
seconds the workers used per interaction (from /proc: user + system time of their processes).
The fake server, the simulated people, PostgreSQL and the workers share this machine's cores.

Run as ``alur bench --workers 1,2 --pg postgresql://…`` (the URL of a server where the bench may
create and drop databases); SQLite is always measured with one worker.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bot.config import Settings
from bot.core.clock import SystemClock
from bot.runtime import open_services
from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.storage.dialect import PostgresUrl
from sandbox.bench.common import Probe, add_officers, gather_people, percentile
from sandbox.fake_bot_api import FakeBotApi, FakeUser

FIRST_TG = 700_000
STARTED = "Alur berjalan"


@dataclass
class WorkersResult:
    backend: str
    workers: int
    people: int
    interactions: int
    seconds: float
    p95: float
    cpu_per_interaction: float
    postgres_cpu_per_interaction: float
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


async def _prepare(target: str, people: int) -> None:
    settings = Settings(db_path=target)
    services = await open_services(settings, clock=SystemClock(), sync_people=False)
    try:
        await add_officers(services, people, first_tg=FIRST_TG)
    finally:
        await services.close()


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
    directory: Path, backend: str, workers: int, people: int, rounds: int, pg: PostgresUrl | None
) -> WorkersResult:
    if backend == "postgresql":
        assert pg is not None
        url = await _pg_database(pg, f"alur_bench_w{workers}")
        target = url.url
    else:
        target = _fresh_file(directory / f"workers-{workers}.sqlite3")
    await _prepare(target, people)
    async with FakeBotApi(bot_username="alur_bench_bot") as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ALUR_", "TELEGRAM_"))}
        env.update({"ALUR_DB": target, "ALUR_WORKERS": str(workers), "TELEGRAM_BOT_TOKEN": api.token,
                    "TELEGRAM_API_BASE_URL": api.base_url, "ALUR_TICK_FIRST": "600", "PYTHONUNBUFFERED": "1",
                    "ALUR_SOP_DIR": str(DEFAULT_SOP_DIR)})
        logs = [directory / f"{backend}-{workers}-{i}.log" for i in range(workers)]
        procs: list[subprocess.Popen[bytes]] = []
        try:
            procs += [_start_worker(env, log, directory) for log in logs]
            deadline = time.monotonic() + 90
            while not _all_started(logs):
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("a worker did not start: " + _tail(logs))
                await asyncio.sleep(0.2)
            users = [api.user(FIRST_TG + i, first_name=f"Petugas {i}") for i in range(people)]
            await _warm_up(api, users[: min(4, people)])
            probe = Probe(api, timeout=60)
            cpu0 = sum(_cpu_seconds(p.pid) for p in procs)
            pg_pids = _postgres_pids()
            pg0 = {pid: _cpu_seconds(pid) for pid in pg_pids}
            busy0, total0 = _machine_ticks()
            t0 = time.monotonic()
            await gather_people([_person(probe, u, rounds) for u in users], probe.errors)
            seconds = time.monotonic() - t0
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
    return WorkersResult(backend, workers, people, len(samples), seconds,
                         percentile([s.latency for s in samples], 0.95), cpu / n, pg_cpu / n,
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
    await gather_people([_person(probe, u, 2) for u in users], probe.errors)


async def _person(probe: Probe, user: FakeUser, rounds: int) -> None:
    for _ in range(rounds):
        await probe(user, "status", partial(user.send, "/status"), lambda m: bool(m.text))


async def run_workers(
    directory: Path, counts: list[int], pg: PostgresUrl | None, people: int = 40, rounds: int = 15
) -> list[WorkersResult]:
    out = [await run_workers_config(directory, "sqlite", 1, people, rounds, None)]
    if pg is not None:
        for n in counts:
            out.append(await run_workers_config(directory, "postgresql", n, people, rounds, pg))
    return out


def print_workers(results: list[WorkersResult]) -> None:
    print(f"alur bench --workers: {results[0].people} people each sending /status as fast as "
          f"answered; limits off; {os.cpu_count()} cores shared by the fake server, the people, PostgreSQL and "
          f"the workers ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print(f"{'backend':<11} {'workers':>7} {'interactions':>12} {'per second':>11} {'p95':>8} "
          f"{'worker CPU ms/int.':>18} {'PostgreSQL CPU ms/int.':>22} {'machine busy':>12} {'vs 1 worker':>11}")
    base: dict[str, float] = {}
    for r in results:
        base.setdefault(r.backend, r.throughput)
        pg = f"{r.postgres_cpu_per_interaction * 1000:.1f}" if r.backend == "postgresql" else "-"
        print(f"{r.backend:<11} {r.workers:>7} {r.interactions:>12} {r.throughput:>11.1f} {r.p95 * 1000:>6.0f}ms "
              f"{r.cpu_per_interaction * 1000:>18.1f} {pg:>22} {r.machine_busy:>12.0%} "
              f"{r.throughput / base[r.backend]:>10.2f}×")
        for err in r.errors[:3]:
            print(f"  ! {r.backend}/{r.workers}: {err}")
