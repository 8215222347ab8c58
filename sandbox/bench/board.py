"""The supervisors' board at scale: page load with 100,000 cases (a year of work) in the database.

`python -m sandbox.bench.board [--cases N]` builds the database once (bulk rows, not the engine:
cases spread over 365 days, 90% closed with every step done, the rest open at a random step,
about one in six open steps overdue), then times the board as a supervisor's browser loads it:
the frame and the board part over HTTP, for a Kabid (one unit), a Kepala Badan (the institution)
and an admin of the institution, with 30 days and 1 year of standard-time statistics, and one case page.
'pertama' is the first load of a viewer and period (the standard-time table measured); 'berikutnya'
the loads after it within five minutes (that table kept). Prints measured numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bot.config import Settings
from bot.core.clock import ManualClock, iso
from bot.runtime import Services, open_services
from bot.sop.model import snapshot
from web.auth import make_init_data
from web.server import WebServer

from .common import MONDAY_8

TOKEN = "1:BENCH"
SOPS = ["ketapang-permintaan-informasi", "ketapang-permintaan-konsultasi", "ketapang-fasilitasi-aplikasi",
        "kotim-rakordal", "kotim-rkpd", "kotim-krenova", "kotim-monev-pemerintahan"]


async def build(path: Path, cases: int, now: datetime) -> None:
    s = await open_services(Settings(db_path=path), clock=ManualClock(now), sync_people=False)
    try:
        await _build(s, cases, now)
    finally:
        await s.close()


async def _build(s: Services, cases: int, now: datetime) -> None:
    rng = random.Random(7)
    staff: dict[tuple[str, str | None, str], list[int]] = {}
    tg = 10_000
    for sop_id in SOPS:
        sop = s.catalog[sop_id]
        for step in sop.steps:
            key = (sop.institution, sop.unit, step.actor)
            if key in staff or step.actor == "requester":
                continue
            role = s.catalog.roles[step.actor]
            unit = sop.unit if role.scope == "unit" else None
            if role.kind != "staff":
                continue
            ids = []
            for i in range(3):
                tg += 1
                p = await s.people.add_staff(name=f"{role.name} {i + 1}", roles=[step.actor],
                                             institution=sop.institution, unit=unit, telegram_id=tg)
                ids.append(p.id)
            staff[key] = ids
    for inst, unit in (("ketapang", "perstradal"), ("kotim", "p2epd")):
        for role in ("kabid", "kepala_badan"):
            tg += 1
            await s.people.add_staff(name=f"{role} {inst}", roles=[role], institution=inst,
                                     unit=unit if role == "kabid" else None, telegram_id=tg)
    await s.people.add_staff(name="Admin", roles=["admin"], institution="ketapang", unit=None, telegram_id=9)
    officer = await s.people.register_officer(telegram_id=8, username=None, name="OPD", agency_id="ktp-dinkes")
    case_rows, step_rows = [], []
    async with s.db.transaction() as tx:
        for sop_id in SOPS:
            sop = s.catalog[sop_id]
            await tx.execute("INSERT OR IGNORE INTO sop_versions (hash, sop_id, snapshot, created_at) "
                             "VALUES (?, ?, ?, ?)", (sop.content_hash, sop.id, snapshot(sop), iso(now)))
    counters: dict[str, int] = {}
    for n in range(1, cases + 1):
        sop = s.catalog[SOPS[n % len(SOPS)]]
        created = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        prefix = f"{sop.institution[:3].upper()}-{sop.register_code}"
        counters[prefix] = counters.get(prefix, 0) + 1
        is_open = rng.random() < 0.10 and created > now - timedelta(days=60)
        stop_at = rng.randrange(len(sop.steps)) if is_open else len(sop.steps)
        t = created
        closed_at = None
        for i, step in enumerate(sop.steps[: stop_at + 1] if is_open else sop.steps):
            holders = staff.get((sop.institution, sop.unit, step.actor)) or [officer.id]
            holder = rng.choice(holders)
            d = sop.duration(step)
            standard = timedelta(minutes=(d.minutes if d else 60) + 24 * 60 * ((d.working_days if d else 0)
                                                                                + 30 * (d.months if d else 0)))
            due = t + standard
            if is_open and i == stop_at:
                if rng.random() < 0.15:
                    due = now - timedelta(hours=rng.randint(1, 48))
                step_rows.append((n, step.number, step.actor, "open", holder if rng.random() > 0.03 else None,
                                  iso(t), iso(due), None, None))
                break
            taken = standard * rng.uniform(0.2, 1.6)
            done = t + taken
            step_rows.append((n, step.number, step.actor, "done", holder, iso(t), iso(due), iso(done), holder))
            t = done
            closed_at = done
        state = "open" if is_open else "completed"
        case_rows.append((n, f"{prefix}-{created.year}-{counters[prefix]:06d}", sop.id, sop.content_hash,
                          sop.institution, sop.unit, officer.id, f"Permohonan {n}", state, iso(created),
                          None if is_open else iso(closed_at)))
    async with s.db.transaction() as tx:
        await tx.conn.executemany(
            "INSERT INTO cases (id, register_no, sop_id, sop_hash, institution, unit, requester_id, title, intake, "
            "state, created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?)", case_rows)
        await tx.conn.executemany(
            "INSERT INTO step_instances (case_id, step_no, role, state, holder_id, opened_at, due_at, completed_at, "
            "completed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", step_rows)
    await s.db.conn.execute("ANALYZE")
    print(f"basis data: {cases:,} permohonan, {len(step_rows):,} langkah")


async def measure(path: Path, now: datetime, rounds: int) -> None:
    clock = ManualClock(now)
    s = await open_services(Settings(db_path=path), clock=clock, sync_people=False)
    server = await WebServer(s, token=TOKEN, listen="127.0.0.1", port=0, secure_cookie=False).start()
    people = {p.name: p for p in await s.people.all()}
    viewers = [("Kabid (satu unit)", people["kabid ketapang"]),
               ("Kepala Badan (instansi)", people["kepala_badan ketapang"]), ("Admin (instansi)", people["Admin"])]
    try:
        for label, person in viewers:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                r = await http.post(server.url + "/auth/telegram",
                                    json={"initData": make_init_data(person.telegram_id, TOKEN, now)})
                assert r.status == 200, await r.text()
                for query, name in (("", "30 hari"), ("?periode=365", "1 tahun")):
                    times = []
                    for _ in range(rounds + 1):
                        t0 = time.perf_counter()
                        frame = await http.get(server.url + "/")
                        await frame.read()
                        part = await http.get(server.url + "/api/papan" + query)
                        body = await part.read()
                        assert part.status == 200
                        times.append((time.perf_counter() - t0) * 1000)
                    first, rest = times[0], times[1:]
                    print(f"  {label:<24} {name:<8} halaman (bingkai + papan): pertama {first:7.1f} ms, "
                          f"berikutnya median {statistics.median(rest):7.1f} ms, {len(body) / 1000:.0f} kB")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await http.post(server.url + "/auth/telegram",
                            json={"initData": make_init_data(people["kabid ketapang"].telegram_id, TOKEN, now)})
            row = await s.db.fetchone("SELECT register_no FROM cases WHERE state = 'open' AND unit = 'perstradal' "
                                      "ORDER BY id DESC LIMIT 1")
            assert row is not None
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                r = await http.get(server.url + f"/api/kasus/{row['register_no']}")
                await r.read()
                times.append((time.perf_counter() - t0) * 1000)
            print(f"  {'Kabid':<24} {'kasus':<8} satu permohonan: median {statistics.median(times):7.1f} ms")
    finally:
        await server.stop()
        await s.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bench.board")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="reuse (or build) this database file")
    args = parser.parse_args(argv)
    now = MONDAY_8.replace(hour=10).astimezone(UTC)
    path = args.db or Path(tempfile.mkdtemp()) / "board.sqlite3"
    if not path.exists():
        t0 = time.perf_counter()
        asyncio.run(build(path, args.cases, now))
        print(f"dibangun dalam {time.perf_counter() - t0:.1f} s")
    asyncio.run(measure(path, now, args.rounds))


if __name__ == "__main__":
    main()
