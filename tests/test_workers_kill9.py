"""Three real `alur run` workers share one PostgreSQL and the fake Bot API; one is killed with SIGKILL
every few seconds and started again while officers and staff complete Ketapang requests.

Afterwards: no request lost, no update left unhandled or taken by two workers at once beyond its
lease, no step completed twice, every notification delivered at least once and at most twice, each
digest queued once, and the fake Bot API saw no flood limit broken by the workers together.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import storage
from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.storage.db import Database, DatabaseError, migrations
from bot.storage.dialect import Dialect, PostgresUrl
from bot.text import payloads
from bot.text.notices import render_notice
from bot.text.render import Renderer
from sandbox.fake_bot_api import FakeBotApi, FakeUser

from alur_process import clean_env
from test_kill9 import ANSWERS, SERVICE, BotProcess, newest, until

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]

WORKERS = 3
MIN_KILLS = 6
OFFICERS = (3001, 3002, 3003, 3004)
STAFF = (2001, 2002, 2003, 2004, 2005, 2006)
OTHERS = (2007, 2009)
WIB = ZoneInfo("Asia/Jakarta")
LATEST = migrations(Dialect.POSTGRESQL)[-1][0]


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
    async with FakeBotApi(bot_username="alur_workers_bot") as api:
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url,
                        ALUR_DB=pg_url.url, ALUR_PEOPLE=str(DEFAULT_SOP_DIR / "demo_people.yaml"),
                        ALUR_WORKERS=str(WORKERS), ALUR_TICK_SECONDS="2", ALUR_TICK_FIRST="1", ALUR_TZ="Asia/Jakarta")
        bots = [BotProcess(env, tmp_path / f"worker{i}.log") for i in range(WORKERS)]
        staff = {tg: api.user(tg, first_name=f"Pegawai {tg}") for tg in STAFF}
        for tg in OTHERS:  # the rest of demo_people.yaml: they get digests too
            api.user(tg, first_name=f"Pegawai {tg}")
        officers = {tg: api.user(tg, first_name=f"Pejabat {tg}", username=f"pejabat_{tg}") for tg in OFFICERS}
        db: Database | None = None
        stop = asyncio.Event()
        kill_task: asyncio.Task[None] | None = None
        filed: list[str] = []
        try:
            bots[0].start()
            assert await until(lambda: schema_ready(pg_url), timeout=60), "the first worker never created the tables"
            for bot in bots[1:]:
                bot.start()
            db = await Database.open(pg_url, migrate=False)
            kill_task = asyncio.create_task(killer(bots, stop, rng))

            async def officer_flow(tg: int) -> None:
                officer = officers[tg]
                await _register(officer, tg, db)
                register_no = await _file_request(officer, tg, db)
                filed.append(register_no)
                await _work_it_through(register_no, officer, tg, staff, db)

            await asyncio.gather(*(officer_flow(tg) for tg in OFFICERS))
            assert await until(lambda: asyncio.sleep(0, sum(b.kills for b in bots) >= MIN_KILLS), timeout=60)
            stop.set()
            await kill_task
            # the digest: all workers restarted cleanly with a digest moment a minute or two ahead
            for bot in bots:
                bot.stop()
            local = datetime.now(WIB) + timedelta(minutes=1 if datetime.now(WIB).second < 40 else 2)
            for bot in bots:
                bot.env["ALUR_DIGEST_TIME"] = local.strftime("%H:%M")
                bot.start()
            assert await until(lambda: _digests_queued(db), timeout=200), "no digest was queued"
            assert await until(lambda: _outbox_settled(db), timeout=120), "outbox never drained"
            # the worker holding the tick is killed after the digests went out: none is queued again
            for bot in bots:
                before = _starts(bot)
                bot.kill()
                bot.start()
                assert await until(lambda b=bot, n=before: asyncio.sleep(0, _starts(b) > n), timeout=60)
            await asyncio.sleep(4)  # a few ticks on the restarted workers
            assert await until(lambda: _outbox_settled(db), timeout=120), "outbox never drained after the restarts"
            for bot in bots:
                bot.stop()
                assert bot.proc is not None and bot.proc.returncode == 0, "a worker did not stop cleanly on SIGTERM"
            await _verify(db, api, filed, bots)
        finally:
            stop.set()
            if kill_task is not None and not kill_task.done():
                kill_task.cancel()
            for bot in bots:
                bot.stop_all()
            if db is not None:
                await db.close()


def _starts(bot: BotProcess) -> int:
    return bot.log.read_text(encoding="utf-8", errors="replace").count("Alur berjalan")


async def _digests_queued(db: Database) -> bool:
    row = await db.fetchone("SELECT COUNT(*) AS n FROM digests")
    return row is not None and row["n"] > 0


async def _outbox_settled(db: Database) -> bool:
    counts = await storage.outbox.outbox_counts(db)
    return not counts.get("pending") and not counts.get("sending")


async def _register(officer: FakeUser, tg: int, db: Database) -> None:
    async def registered() -> bool:
        return await storage.people.person_by_telegram(db, tg) is not None

    while not await registered():
        start = newest(officer, lambda m: any("Ketapang" in t for t in m.button_texts))
        agency = newest(officer, lambda m: "Dinas Kesehatan" in m.button_texts)
        if agency is not None:
            await officer.tap(agency, "Dinas Kesehatan")
        elif start is not None:
            await officer.tap(start, "Bappeda Kabupaten Ketapang")
        else:
            await officer.send("/start")
        await until(registered, timeout=8)


async def _file_request(officer: FakeUser, tg: int, db: Database) -> str:
    person = await storage.people.person_by_telegram(db, tg)
    assert person is not None

    async def new_case() -> str | None:
        cases = await storage.cases.cases_of_requester(db, person.id, limit=10)
        return cases[0].register_no if cases else None

    for _ in range(200):
        if (register_no := await new_case()) is not None:
            return register_no
        draft = await storage.drafts.draft(db, person.id)
        if draft is None:
            menu = newest(officer, lambda m: SERVICE in m.button_texts)
            if menu is None:
                await officer.send("/ajukan")
                await until(lambda: asyncio.sleep(0, newest(officer, lambda m: SERVICE in m.button_texts)),
                            timeout=8)
                menu = newest(officer, lambda m: SERVICE in m.button_texts)
            if menu is not None:
                await officer.tap(menu, SERVICE)
            await until(lambda: _draft_exists(db, person.id), timeout=8)
            continue
        position = draft.position
        if position < len(ANSWERS):
            await officer.send(ANSWERS[position])
        elif position == len(ANSWERS):
            await officer.send_document(b"%PDF-1.4 surat", "surat_permintaan.pdf", "application/pdf")
        else:
            summary = newest(officer, lambda m: "✅ Kirim" in m.button_texts)
            if summary is None:
                await officer.send("/ajukan")
                if await until(lambda: asyncio.sleep(0, newest(officer, lambda m: "▶️ Lanjutkan isian"
                                                               in m.button_texts)), timeout=8):
                    resume = newest(officer, lambda m: "▶️ Lanjutkan isian" in m.button_texts)
                    if resume is not None:
                        await officer.tap(resume, "▶️ Lanjutkan isian")
            else:
                await officer.tap(summary, "✅ Kirim")
        await until(lambda p=position: _moved(db, person.id, p), timeout=8)
    raise AssertionError(f"officer {tg} could not file a request")


async def _draft_exists(db: Database, person_id: int) -> bool:
    return await storage.drafts.draft(db, person_id) is not None


async def _moved(db: Database, person_id: int, position: int) -> bool:
    draft = await storage.drafts.draft(db, person_id)
    return draft is None or draft.position != position


async def _work_it_through(
    register_no: str, officer: FakeUser, officer_tg: int, staff: dict[int, FakeUser], db: Database
) -> None:
    case = await storage.cases.case_by_register(db, register_no)
    assert case is not None
    for _ in range(60):
        case = await storage.cases.case(db, case.id)
        assert case is not None
        if case.state != "open":
            return
        steps = await storage.steps.open_steps_of_case(db, case.id)
        if not steps:
            await asyncio.sleep(0.2)
            continue
        instance = steps[0]
        holder = await storage.people.person(db, instance.holder_id) if instance.holder_id else None
        assert holder is not None and holder.telegram_id is not None
        user = officer if holder.telegram_id == officer_tg else staff[holder.telegram_id]

        async def closed(sid: int = instance.id) -> bool:
            s = await storage.steps.step(db, sid)
            return s is not None and not s.is_open

        for _attempt in range(15):
            if await closed():
                break
            prompt = newest(user, lambda m, n=instance.step_no: "Kirim dokumennya" in (m.text or "")
                            and f"Langkah {n} " in (m.text or "") and bool(m.buttons))
            card = newest(user, lambda m, r=register_no, n=instance.step_no: r in (m.text or "")
                          and f"Langkah {n}" in (m.text or "") and bool(m.buttons))
            if prompt is not None:
                await user.tap(prompt, "Selesai tanpa lampiran")
            elif card is not None:
                await user.tap(card, card.button_texts[0])
            else:
                await user.send("/tugas")
            await until(closed, timeout=8)
        assert await closed(), f"{register_no} langkah {instance.step_no} never finished"
    raise AssertionError(f"{register_no} did not finish")


async def _verify(db: Database, api: FakeBotApi, filed: list[str], bots: list[BotProcess]) -> None:
    kills = sum(b.kills for b in bots)
    assert kills >= MIN_KILLS
    cases = await storage.cases.cases(db)
    assert sorted(c.register_no for c in cases) == sorted(filed) and len(filed) == len(OFFICERS)
    assert all(c.state == "completed" for c in cases)
    for case in cases:  # no step completed twice
        events = await storage.events.events_of_case(db, case.id)
        done = Counter(e.step_instance_id for e in events if e.type in ("step_completed", "step_decided"))
        assert all(n == 1 for n in done.values()), done
        numbers = Counter(s.step_no for s in await storage.steps.steps_of_case(db, case.id))
        assert all(n == 1 for n in numbers.values()), numbers
    # every update Telegram delivered was recorded once and finished; none taken over more than once
    rows = await db.fetchall("SELECT update_id, state, attempts FROM updates")
    recorded = {int(r["update_id"]): r for r in rows}
    assert set(api.delivered_update_ids) <= set(recorded), "an update Telegram delivered is not in the ledger"
    states = Counter(r["state"] for r in rows)
    assert states.get("received", 0) == 0, states
    assert all(int(r["attempts"]) <= 3 for r in rows)
    taken_over = sum(1 for r in rows if int(r["attempts"]) > 1)
    # notifications: each delivered at least once and at most twice
    renderer = Renderer()
    sent_texts = Counter((int(c.params["chat_id"]), c.params.get("text")) for c in api.calls_to("sendMessage") if c.ok)
    wanted: Counter[tuple[int, str | None]] = Counter()
    outbox = await storage.outbox.outbox(db)
    assert outbox and all(r.state == "sent" for r in outbox), [(r.kind, r.state, r.chat_id, r.last_error)
                                                               for r in outbox if r.state != "sent"]
    cards: set[tuple[int, str | None]] = set()
    for row in outbox:
        assert row.chat_id is not None
        if row.kind in ("document", "digest_chart"):
            continue
        key = (row.chat_id, render_notice(renderer, row.kind, payloads.parse(row.kind, row.payload)).html)
        wanted[key] += 1
        if row.kind == "assignment":
            cards.add(key)
    for key, n in wanted.items():
        assert n <= sent_texts[key], (key, n, sent_texts[key])
        if key not in cards:  # a task card a staff member opens from /tugas repeats the assignment's text
            assert sent_texts[key] <= 2 * n, (key, n, sent_texts[key])
    # digests: queued once per supervisor and day, though the tick moved between workers
    digests = Counter((r.chat_id, r.created_at.date()) for r in outbox if r.kind == "digest")
    assert digests and all(n == 1 for n in digests.values()), digests
    # Telegram's limits, counted by the fake Bot API over all workers together
    assert api.limit_violations == [], api.limit_violations[:5]
    repeats = sum(sent_texts[k] - n for k, n in wanted.items())
    print(f"\n{WORKERS} workers: {kills} kills, {len(cases)} requests, {len(rows)} updates "
          f"({taken_over} taken over after a kill, {states.get('failed', 0)} given up), {len(outbox)} notifications, "
          f"{repeats} repeated once, {len(digests)} digests, 0 limit violations")
