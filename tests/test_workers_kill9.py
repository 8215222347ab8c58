"""Three real `alur run` workers share one PostgreSQL and the fake Bot API; one is killed with SIGKILL
every few seconds and started again while 50 officers and the staff complete Ketapang requests.

Reminders and the digest fall due while the workers are being killed: every step's reminder comes one
working minute after it opens (``ALUR_REMIND_FRACTION``, round-the-clock working hours, no holiday
today), and the digest moment is set a minute or two after the start. A few holders wait for their
reminder before they act, so some are certainly due.

Afterwards: no request lost, no update left unhandled or taken by two workers at once beyond its
lease, no step completed twice, every notification delivered at least once and at most twice, each
due reminder and each digest queued exactly once, and the fake Bot API saw no flood limit broken by
the workers together.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import storage
from bot.storage.db import Database, DatabaseError, migrations
from bot.storage.dialect import Dialect, PostgresUrl
from bot.storage.records import StepInstance
from bot.text import payloads
from bot.text.notices import render_notice
from bot.text.render import Renderer
from sandbox.fake_bot_api import FakeBotApi, FakeUser

from alur_process import clean_env
from test_kill9 import BotProcess, Crowd, file_request, newest, register, until, work_it_through

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]

WORKERS = 3
MIN_KILLS = 6
OFFICERS = tuple(range(3001, 3051))
ARRIVALS = 1.2
"""Seconds between one officer's first /start and the next one's: all 50 are at work after a minute."""
HOLDERS = {"petugas_tu": 5, "kepala_badan": 5, "sekretaris": 3, "kabid": 5, "sub_koordinator": 5,
           "staf_pengolah_data": 3}
"""People per role: the least-loaded holder gets each step, so the 50 requests spread over them."""
UNIT_ROLES = ("kabid", "sub_koordinator", "staf_pengolah_data")
ADMIN = 2999
WAIT_FOR_REMINDER = {3001: "2", 3011: "4", 3021: "5", 3031: "8", 3041: "9"}
"""Officer -> the step whose holder waits for its reminder before acting (due one working minute after it opens)."""
REMINDER_SLACK = timedelta(seconds=20)
"""A step open this long past its reminder moment must have had its reminder (ticks every 2 s, a killed
leader is replaced within about a second)."""
WIB = ZoneInfo("Asia/Jakarta")
LATEST = migrations(Dialect.POSTGRESQL)[-1][0]


def write_roster(folder: Path) -> tuple[Path, list[int]]:
    """A busier Bappeda Ketapang than the demo's: several people hold each role; and one admin."""
    people: list[dict[str, object]] = []
    tg = 2100
    for role, count in HOLDERS.items():
        for n in range(1, count + 1):
            tg += 1
            person: dict[str, object] = {"telegram": tg, "name": f"{role.replace('_', ' ').title()} {n}",
                                         "roles": [role], "institution": "ketapang"}
            if role in UNIT_ROLES:
                person["unit"] = "perstradal"
            people.append(person)
    people.append({"telegram": ADMIN, "name": "Admin Sistem", "roles": ["admin"], "institution": "ketapang"})
    path = folder / "people.yaml"
    path.write_text(yaml.safe_dump({"people": people}, allow_unicode=True), encoding="utf-8")
    return path, [*range(2101, tg + 1), ADMIN]


def write_holidays(folder: Path) -> Path:
    """No holiday today or tomorrow (WIB), whatever the date: reminders and the digest need a working day."""
    today = datetime.now(WIB).date()
    days = [today, today + timedelta(days=1)]
    years = {y: {"decree": "test", "cuti_bersama": [], "removed": [d.isoformat() for d in days if d.year == y]}
             for y in {d.year for d in days}}
    path = folder / "holidays.yaml"
    path.write_text(yaml.safe_dump({"years": years}), encoding="utf-8")
    return path


async def schema_ready(url: PostgresUrl) -> bool:
    try:
        db = await Database.open(url, migrate=False, create=False)
    except DatabaseError:
        return False
    try:
        return await db.schema_version() == LATEST
    except Exception:
        return False
    finally:
        await db.close()


async def killer(bots: list[BotProcess], stop: asyncio.Event, rng: random.Random) -> None:
    """Every few seconds one worker is killed with SIGKILL and started again a moment later."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=rng.uniform(2.5, 5.0))
        except TimeoutError:
            pass
        if stop.is_set():
            return
        bot = rng.choice(bots)
        bot.kill()
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        bot.start()


async def test_three_workers_one_killed_again_and_again_lose_nothing(tmp_path: Path, pg_url: PostgresUrl) -> None:
    rng = random.Random(15)
    roster, staff_ids = write_roster(tmp_path)
    # the digest falls due while the workers are being killed: at the start of a minute, 90-150 s from now
    digest_at = (datetime.now(WIB) + timedelta(seconds=150)).replace(second=0, microsecond=0)
    async with FakeBotApi(bot_username="alur_workers_bot") as api:
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url,
                        ALUR_DB=pg_url.url, ALUR_PEOPLE=str(roster), ALUR_HOLIDAYS=str(write_holidays(tmp_path)),
                        ALUR_WORKERS=str(WORKERS), ALUR_TICK_SECONDS="2", ALUR_TICK_FIRST="1", ALUR_TZ="Asia/Jakarta",
                        ALUR_WORK_HOURS="mon-sun 00:00-24:00", ALUR_REMIND_FRACTION="0.01",
                        ALUR_DIGEST_TIME=digest_at.strftime("%H:%M"))
        bots = [BotProcess(env, tmp_path / f"worker{i}.log") for i in range(WORKERS)]
        crowd = Crowd({tg: api.user(tg, first_name=f"Pegawai {tg}") for tg in staff_ids}, patience=12.0,
                      list_every=20.0, step_limit=300.0)
        for tg in OFFICERS:
            crowd.users[tg] = api.user(tg, first_name=f"Pejabat {tg}", username=f"pejabat_{tg}")
        db: Database | None = None
        stop = asyncio.Event()
        kill_task: asyncio.Task[None] | None = None
        filed: list[str] = []
        started = time.monotonic()
        try:
            bots[0].start()
            assert await until(lambda: schema_ready(pg_url), timeout=60), "the first worker never created the tables"
            for bot in bots[1:]:
                bot.start()
            db = await Database.open(pg_url, migrate=False)
            kill_task = asyncio.create_task(killer(bots, stop, rng))

            async def officer_flow(n: int, tg: int) -> None:
                await asyncio.sleep(n * ARRIVALS)
                officer = crowd.users[tg]
                await register(officer, db)
                register_no = await file_request(officer, db)
                filed.append(register_no)
                await work_it_through(register_no, crowd, db,
                                      before_step=_reminder_wait(register_no, WAIT_FOR_REMINDER.get(tg)))

            try:
                await asyncio.gather(*(officer_flow(n, tg) for n, tg in enumerate(OFFICERS)))
            except BaseException:
                await _debug_dump(db, api, crowd.users, tmp_path)
                raise
            worked = time.monotonic() - started
            # the kills go on until the digest was queued and a few workers died after it
            assert await until(lambda: _digests_queued(db), timeout=240), "no digest was queued"
            after_digest = sum(b.kills for b in bots)
            assert await until(lambda: asyncio.sleep(0, sum(b.kills for b in bots) >= max(MIN_KILLS, after_digest + 3)),
                               timeout=60)
            stop.set()
            await kill_task  # the worker killed last has been started again
            assert await until(lambda: asyncio.sleep(0, all(b.serving() for b in bots)), timeout=60)
            assert await until(lambda: _outbox_settled(db), timeout=120), "outbox never drained"
            for bot in bots:
                bot.stop()
                assert bot.proc is not None and bot.proc.returncode == 0, "a worker did not stop cleanly on SIGTERM"
            await _verify(db, api, filed, bots, crowd.asked_again, worked, time.monotonic() - started)
        finally:
            stop.set()
            if kill_task is not None and not kill_task.done():
                kill_task.cancel()
            for bot in bots:
                bot.stop_all()
            if db is not None:
                await db.close()


def _reminder_wait(register_no: str, step_no: str | None):  # type: ignore[no-untyped-def]
    """Before acting on ``step_no``, its holder waits (up to 3 minutes) for the reminder of that step."""
    async def wait(instance: StepInstance, user: FakeUser) -> None:
        if instance.step_no != step_no:
            return

        def reminded() -> object | None:
            return newest(user, lambda m: f"Pengingat · {register_no}" in (m.text or "")
                          and f"Langkah {step_no}:" in (m.text or ""))

        await until(lambda: asyncio.sleep(0, reminded() is not None), timeout=180)

    return wait


async def _digests_queued(db: Database) -> bool:
    row = await db.fetchone("SELECT COUNT(*) AS n FROM digests")
    return row is not None and row["n"] > 0


async def _outbox_settled(db: Database) -> bool:
    counts = await storage.outbox.outbox_counts(db)
    return not counts.get("pending") and not counts.get("sending")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def _latencies(db: Database) -> str:
    """Where the time went: an update from recorded to handled, a notification from queued to sent,
    a step from opened to done (median, 90th percentile, maximum; seconds)."""
    def spread(pairs: list[tuple[str | None, str | None]]) -> str:
        values = [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() for a, b in pairs if a and b]
        if not values:
            return "-"
        return f"{_percentile(values, 0.5):.1f}/{_percentile(values, 0.9):.1f}/{max(values):.0f}"

    updates = await db.fetchall("SELECT received_at, handled_at FROM updates")
    outbox = await db.fetchall("SELECT created_at, sent_at FROM outbox")
    steps = await db.fetchall("SELECT opened_at, completed_at FROM step_instances")
    return (f"update {spread([(r['received_at'], r['handled_at']) for r in updates])} s, "
            f"notification {spread([(r['created_at'], r['sent_at']) for r in outbox])} s, "
            f"step {spread([(r['opened_at'], r['completed_at']) for r in steps])} s (median/90%/max)")


async def _verify(
    db: Database, api: FakeBotApi, filed: list[str], bots: list[BotProcess], asked_again: Counter[int],
    worked: float, wall: float,
) -> None:
    kills = sum(b.kills for b in bots)
    assert kills >= MIN_KILLS
    cases = await storage.cases.cases(db)
    assert sorted(c.register_no for c in cases) == sorted(filed) and len(filed) == len(OFFICERS)
    assert all(c.state == "completed" for c in cases)
    reminder_events: Counter[int] = Counter()
    for case in cases:  # no step completed twice
        events = await storage.events.events_of_case(db, case.id)
        done = Counter(e.step_instance_id for e in events if e.type in ("step_completed", "step_decided"))
        assert all(n == 1 for n in done.values()), done
        reminder_events.update(e.step_instance_id for e in events if e.type == "reminder_sent")
        steps = await storage.steps.steps_of_case(db, case.id)
        numbers = Counter(s.step_no for s in steps)
        assert all(n == 1 for n in numbers.values()), numbers
    # every update Telegram delivered was recorded once and finished; none taken over more than once
    rows = await db.fetchall("SELECT update_id, state, attempts FROM updates")
    recorded = {int(r["update_id"]): r for r in rows}
    assert set(api.delivered_update_ids) <= set(recorded), "an update Telegram delivered is not in the ledger"
    states = Counter(r["state"] for r in rows)
    assert states.get("received", 0) == 0, states
    assert all(int(r["attempts"]) <= 3 for r in rows)
    taken_over = sum(1 for r in rows if int(r["attempts"]) > 1)
    # notifications: each delivered at least once and at most twice (plus the cards a person asked for again)
    renderer = Renderer()
    sent_texts = Counter((int(c.params["chat_id"]), c.params.get("text")) for c in api.calls_to("sendMessage") if c.ok)
    sent_docs = Counter((int(c.params["chat_id"]), c.params.get("document")) for c in api.calls_to("sendDocument")
                        if c.ok)
    wanted: Counter[tuple[int, str | None]] = Counter()
    wanted_docs: Counter[tuple[int, str | None]] = Counter()
    outbox = await storage.outbox.outbox(db)
    assert outbox and all(r.state == "sent" for r in outbox), [(r.kind, r.state, r.chat_id, r.last_error)
                                                               for r in outbox if r.state != "sent"]
    for row in outbox:
        assert row.chat_id is not None
        if row.kind == "document":
            wanted_docs[(row.chat_id, payloads.parse(row.kind, row.payload).file_id)] += 1
        elif row.kind != "digest_chart":
            wanted[(row.chat_id, render_notice(renderer, row.kind, payloads.parse(row.kind, row.payload)).html)] += 1
    for key, n in wanted.items():
        assert n <= sent_texts[key] <= 2 * n + asked_again[key[0]], (key, n, sent_texts[key])
    for key, n in wanted_docs.items():
        assert n <= sent_docs[key] <= 2 * n, (key, n, sent_docs[key])
    # reminders: each step's reminder queued once at most, and exactly once when the step stayed open past it
    queued = Counter(int(r.payload["step_instance_id"]) for r in outbox if r.kind == "reminder")
    assert all(n == 1 for n in queued.values()), queued
    assert reminder_events == queued, (reminder_events, queued)
    alarms = await db.fetchall("SELECT id, remind_at, reminded_at, completed_at FROM step_instances")
    due = [a for a in alarms if a["remind_at"] and a["completed_at"]
           and datetime.fromisoformat(a["completed_at"]) - datetime.fromisoformat(a["remind_at"]) > REMINDER_SLACK]
    assert all(queued[int(a["id"])] == 1 for a in due), [a["id"] for a in due if not queued[int(a["id"])]]
    for a in alarms:
        assert (a["reminded_at"] is not None) == (int(a["id"]) in queued), a
    assert len(due) >= len(WAIT_FOR_REMINDER), (len(due), "reminders the waiting holders were to get")
    # digests: queued once per supervisor and day, though the tick moved between workers
    digests = Counter((r.chat_id, r.created_at.date()) for r in outbox if r.kind == "digest")
    assert digests and all(n == 1 for n in digests.values()), digests
    # Telegram's limits, counted by the fake Bot API over all workers together
    assert api.limit_violations == [], api.limit_violations[:5]
    repeats = sum(sent_texts[k] - n for k, n in wanted.items()) + sum(sent_docs[k] - n for k, n in wanted_docs.items())
    print(f"\n{WORKERS} workers: {kills} kills, {len(cases)} requests, {len(rows)} updates "
          f"({taken_over} taken over after a kill, {states.get('failed', 0)} given up), {len(outbox)} notifications, "
          f"{repeats} repeated once, {sum(queued.values())} reminders ({len(due)} due), {len(digests)} digests, "
          f"0 limit violations; requests done in {worked:.0f} s, {wall:.0f} s in all")
    print(f"latency: {await _latencies(db)}")


async def _debug_dump(db, api, people, tmp_path):  # type: ignore[no-untyped-def]  # TEMPORARY
    import json
    out = []
    rows = await db.fetchall("SELECT s.id, s.case_id, s.step_no, s.holder_id, s.opened_at, p.telegram_id FROM "
                             "step_instances s JOIN people p ON p.id = s.holder_id WHERE s.state = 'open'")
    now = datetime.now(WIB)
    for r in rows:
        out.append(f"open step {dict(r)} age {(now - datetime.fromisoformat(r['opened_at'])).total_seconds():.0f}s")
    chats = {int(r["telegram_id"]) for r in rows}
    for chat in sorted(chats):
        out.append(f"== chat {chat}")
        for m in people[chat].inbox[-12:]:
            out.append("   " + m.describe()[:200] + f" data={m.callback_data}")
        ups = await db.fetchall("SELECT update_id, state, attempts, worker, lease_until, received_at, handled_at, "
                                "payload FROM updates WHERE chat_key = ? ORDER BY update_id", (str(chat),))
        for u in ups[-15:]:
            d = dict(u)
            pl = json.loads(d.pop("payload") or "{}")
            what = pl.get("callback_query", {}).get("data") or pl.get("message", {}).get("text")
            out.append(f"   upd {d} {what}")
        pace = await db.fetchall("SELECT key, next_at, now() AS now FROM send_pacing WHERE key = ?", (str(chat),))
        out.append(f"   pacing {[dict(x) for x in pace]}")
        ob = await db.fetchall("SELECT id, kind, state, attempts, not_before, created_at FROM outbox WHERE chat_id = ? "
                               "AND state <> 'sent'", (chat,))
        out.append(f"   outbox unsent {[dict(x) for x in ob]}")
    states = await db.fetchall("SELECT state, attempts, COUNT(*) AS n FROM updates GROUP BY state, attempts")
    out.append(f"updates {[dict(x) for x in states]}")
    ob = await db.fetchall("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    out.append(f"outbox {[dict(x) for x in ob]}")
    out.append(await _latencies(db))
    (tmp_path / "debug.txt").write_text("\n".join(out))
