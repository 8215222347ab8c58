"""kill -9 the real `alur run` process at random moments of a multi-person flow, 20+ times.

The bot runs as a separate process against the fake Bot API in this process; the test drives
simulated people and reads the SQLite file for ground truth. Afterwards: no request lost, no
step completed twice, every notification delivered at least once and at most twice, and the
token nowhere in the process's logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot import storage
from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.storage.db import Database, migrations
from bot.storage.records import StepInstance
from bot.text import payloads
from bot.text.notices import render_notice
from bot.text.render import Renderer
from sandbox.fake_bot_api import FakeBotApi, FakeUser, InboxMessage

from alur_process import clean_env

pytestmark = [pytest.mark.timeout(420), pytest.mark.slow]

MIN_KILLS = 20
OFFICER = 3001
SERVICE = "Permintaan Informasi Pembangunan Daerah"
ANSWERS = ["Data IPM per kecamatan 2025", "Renja Dinas Kesehatan 2027", "0812 3456 7890"]


class BotProcess:
    """`alur run` in a child process that the test kills with SIGKILL and starts again."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.cwd = log.parent
        self.proc: subprocess.Popen[bytes] | None = None
        self.started: list[subprocess.Popen[bytes]] = []
        self.kills = 0
        self.start_args: tuple[str, ...] = ("run",)
        self.log_offset = 0

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the previous bot process is still running"
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli.main", *self.start_args], env=self.env, cwd=self.cwd, stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.started.append(self.proc)

    def serving(self) -> bool:
        """The process started last has logged its start (its signal handlers are in place)."""
        with self.log.open("rb") as log:
            log.seek(self.log_offset)
            return b"Alur berjalan" in log.read()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.kills += 1

    def stop(self) -> None:
        """SIGTERM (a clean stop) for the current process, SIGKILL if it does not end in 20 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop_all(self) -> None:
        """Every process this test started ends, whatever happened (also when the test failed)."""
        self.stop()
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


async def killer(bot: BotProcess, stop: asyncio.Event, rng: random.Random) -> None:
    try:
        while not stop.is_set():
            bot.start()
            try:
                await asyncio.wait_for(stop.wait(), timeout=rng.uniform(1.5, 4.0))
            except TimeoutError:
                pass
            if not stop.is_set():
                bot.kill()
    finally:
        bot.kill()  # the process running when the flow ended; the undisturbed last run replaces it


async def until(check, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    """Poll ``check`` until it holds or ``timeout`` seconds pass (False then, so the caller can act again)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


LATEST_SCHEMA = migrations()[-1][0]


def _schema_version(db_path: Path) -> int:
    if not db_path.exists():  # connecting would create it
        return 0
    try:
        with contextlib.closing(sqlite3.connect(db_path, timeout=0.5)) as conn:
            row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    except sqlite3.Error:  # no table yet, or the file is locked while it is being created
        return 0
    return int(row[0] or 0) if row else 0


async def schema_ready(db_path: Path) -> bool:
    """Every migration applied by the bot: the file appears before its tables do, so its existence says nothing."""
    return await asyncio.to_thread(_schema_version, db_path) == LATEST_SCHEMA


def newest(user: FakeUser, predicate) -> object | None:  # type: ignore[no-untyped-def]
    return next((m for m in reversed(user.inbox) if predicate(m)), None)


async def test_kill_9_twenty_times_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    async with FakeBotApi(bot_username="alur_kill_bot") as api:
        db_path = tmp_path / "alur.sqlite3"
        log = tmp_path / "bot.log"
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url,
                        ALUR_DB=str(db_path), ALUR_PEOPLE=str(DEFAULT_SOP_DIR / "demo_people.yaml"))
        bot = BotProcess(env, log)
        officer = api.user(OFFICER, first_name="Wati", username="wati_dinkes")
        crowd = Crowd({tg: api.user(tg, first_name=f"Pegawai {tg}") for tg in (2001, 2002, 2003, 2004, 2005, 2006)})
        crowd.users[OFFICER] = officer
        stop = asyncio.Event()
        kill_task = asyncio.create_task(killer(bot, stop, rng))
        db: Database | None = None
        filed: list[str] = []
        try:
            try:
                assert await until(lambda: schema_ready(db_path), timeout=60), "the bot never created its tables"
                db = await Database.open(db_path, migrate=False)
                await register(officer, db)
                while bot.kills < MIN_KILLS or not filed:
                    filed.append(await file_request(officer, db))
                    await work_it_through(filed[-1], crowd, db)
            finally:
                stop.set()
                await kill_task
            starts = _starts(log)
            bot.start()  # a last, undisturbed run delivers what is still queued
            assert db is not None
            assert await until(lambda: asyncio.sleep(0, _starts(log) > starts), timeout=30), "no last start"
            assert await until(lambda: _outbox_settled(db), timeout=90), "outbox never drained"
            bot.stop()
            assert bot.proc is not None and bot.proc.returncode == 0, "the last run did not stop cleanly on SIGTERM"
            await _verify(db, api, filed, bot, log, crowd.asked_again)
        finally:
            bot.stop_all()
            if db is not None:
                await db.close()


def _starts(log: Path) -> int:
    return log.read_text(encoding="utf-8", errors="replace").count("Alur berjalan")


async def register(officer: FakeUser, db: Database) -> None:
    """The officer registers with /start (Bappeda Ketapang, then Dinas Kesehatan), again until the bot has them."""
    async def registered() -> bool:
        return await storage.people.person_by_telegram(db, officer.id) is not None

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


async def file_request(officer: FakeUser, db: Database) -> str:
    """The officer files one Ketapang data request through /ajukan, taking up the draft where the bot left it."""
    person = await storage.people.person_by_telegram(db, officer.id)
    assert person is not None
    before = {c.register_no for c in await storage.cases.cases_of_requester(db, person.id, limit=1000)}

    async def new_case() -> str | None:
        now = {c.register_no for c in await storage.cases.cases_of_requester(db, person.id, limit=1000)}
        extra = now - before
        return extra.pop() if extra else None

    while (register_no := await new_case()) is None:
        draft = await storage.drafts.draft(db, person.id)
        if draft is None:
            menu = newest(officer, lambda m: SERVICE in m.button_texts)
            if menu is None or not await until(lambda: _draft_exists(db, person.id), timeout=0.1):
                officer.mark()
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
                await officer.send("/ajukan")  # offers to resume; the summary comes with the next step
                resume = None
                if await until(lambda: asyncio.sleep(0, newest(officer, lambda m: "▶️ Lanjutkan isian"
                                                               in m.button_texts)), timeout=8):
                    resume = newest(officer, lambda m: "▶️ Lanjutkan isian" in m.button_texts)
                if resume is not None:
                    await officer.tap(resume, "▶️ Lanjutkan isian")
            else:
                await officer.tap(summary, "✅ Kirim")
        await until(lambda p=position: _moved(db, person.id, p), timeout=8)
    return register_no


async def _draft_exists(db: Database, person_id: int) -> bool:
    return await storage.drafts.draft(db, person_id) is not None


async def _moved(db: Database, person_id: int, position: int) -> bool:
    draft = await storage.drafts.draft(db, person_id)
    return draft is None or draft.position != position


def _tap_for(user: FakeUser, step_id: int) -> tuple[InboxMessage, str] | None:
    """The newest message in the holder's chat with a button for this step, and that button's callback data.

    In order: the output prompt's "Selesai tanpa lampiran", the task card's first button (✅ Selesai, or the
    first branch of a decision), the step's entry in a /tugas list (which sends the card again)."""
    for actions in (("dn",), ("d", "b"), ("tc",)):
        for message in reversed(user.inbox):
            data = next((d for d in message.callback_data
                         if d.split(":")[0] in actions and d.split(":")[1:2] == [str(step_id)]), None)
            if data is not None:
                return message, data
    return None


@dataclass
class Crowd:
    """The simulated people of a kill test, by Telegram id, and what they asked the bot for again.

    Each behaves like one person, however many requests they hold: they wait for a task card before
    asking for their list, and send /tugas at most once every ``list_every`` seconds."""

    users: dict[int, FakeUser]
    patience: float = 8.0
    """Seconds a person waits for a card, or for a tap to show its effect, before acting again."""
    list_every: float = 15.0
    step_limit: float = 120.0
    """Seconds one step may take before the test fails."""
    asked_again: Counter[int] = field(default_factory=Counter)
    """Per chat: task cards opened again from the /tugas list (a copy they asked for, not a re-send)."""
    listed_at: dict[int, float] = field(default_factory=dict)

    async def ask_for_list(self, user: FakeUser) -> None:
        now = asyncio.get_running_loop().time()
        if now - self.listed_at.get(user.id, -self.list_every) < self.list_every:
            return
        self.listed_at[user.id] = now
        user.mark()
        await user.send("/tugas")


async def work_it_through(
    register_no: str, crowd: Crowd, db: Database, *,
    before_step: Callable[[StepInstance, FakeUser], Awaitable[None]] | None = None,
) -> None:
    """Each step's holder (staff, or the officer) finishes it from Telegram until the request is closed.

    The holder waits for the step's card; without one they send /tugas and open it from the list. A tap
    that changed nothing within ``crowd.patience`` seconds is made again, as by a person whose tap went
    unanswered. ``before_step`` runs once as each step opens."""
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
        user = crowd.users[holder.telegram_id]
        if before_step is not None:
            await before_step(instance, user)

        async def closed(sid: int = instance.id) -> bool:
            s = await storage.steps.step(db, sid)
            return s is not None and not s.is_open

        tapped: tuple[int, str] | None = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + crowd.step_limit
        while loop.time() < deadline:
            async def moved(sid: int = instance.id, chat: FakeUser = user,
                            before: tuple[int, str] | None = tapped) -> bool:
                """The step is done, or there is something new to tap (the card, the output prompt, a list)."""
                found = _tap_for(chat, sid)
                return (found is not None and (found[0].message_id, found[1]) != before) or await closed()

            await until(moved, timeout=crowd.patience)
            if await closed():
                break
            found = _tap_for(user, instance.id)
            if found is None:
                await crowd.ask_for_list(user)
                tapped = None
                continue
            message, data = found
            if data.startswith("tc:"):  # the /tugas list: its button sends the card again
                crowd.asked_again[user.id] += 1
            await user.tap_data(message, data)
            tapped = (message.message_id, data)
        assert await closed(), f"{register_no} langkah {instance.step_no} not finished in {crowd.step_limit:.0f} s"
    raise AssertionError(f"{register_no} did not finish")


async def _outbox_settled(db: Database) -> bool:
    counts = await storage.outbox.outbox_counts(db)
    return not counts.get("pending") and not counts.get("sending")


async def _verify(
    db: Database, api: FakeBotApi, filed: list[str], bot: BotProcess, log: Path, asked_again: Counter[int]
) -> None:
    assert bot.kills >= MIN_KILLS
    # no request lost: every request the officer saw confirmed exists, and all were finished
    cases = await storage.cases.cases(db)
    assert sorted(c.register_no for c in cases) == sorted(filed)
    assert all(c.state == "completed" for c in cases)
    # no step completed twice
    for case in cases:
        events = await storage.events.events_of_case(db, case.id)
        done = Counter(e.step_instance_id for e in events if e.type in ("step_completed", "step_decided"))
        assert all(n == 1 for n in done.values()), done
        numbers = Counter(s.step_no for s in await storage.steps.steps_of_case(db, case.id))
        assert all(n == 1 for n in numbers.values()), numbers
    # every notification delivered at least once and at most twice
    renderer = Renderer()
    sent_texts = Counter((int(c.params["chat_id"]), c.params.get("text")) for c in api.calls_to("sendMessage") if c.ok)
    sent_docs = Counter((int(c.params["chat_id"]), c.params.get("document")) for c in api.calls_to("sendDocument")
                        if c.ok)
    wanted: Counter[tuple[int, str | None]] = Counter()
    wanted_docs: Counter[tuple[int, str | None]] = Counter()
    rows = await storage.outbox.outbox(db)
    assert rows and all(r.state == "sent" for r in rows), [(r.kind, r.state, r.last_error) for r in rows
                                                          if r.state != "sent"]
    for row in rows:
        assert row.chat_id is not None
        if row.kind == "document":
            wanted_docs[(row.chat_id, payloads.parse(row.kind, row.payload).file_id)] += 1
        else:
            wanted[(row.chat_id, render_notice(renderer, row.kind, payloads.parse(row.kind, row.payload)).html)] += 1
    for key, n in wanted.items():  # plus the copies a person asked for from the /tugas list
        assert n <= sent_texts[key] <= 2 * n + asked_again[key[0]], (key, n, sent_texts[key])
    for key, n in wanted_docs.items():
        assert n <= sent_docs[key] <= 2 * n, (key, n, sent_docs[key])
    # the token never appears in the bot's logs
    text = await asyncio.to_thread(log.read_text, encoding="utf-8", errors="replace")
    repeats = sum(sent_texts[k] - n for k, n in wanted.items()) + sum(sent_docs[k] - n for k, n in wanted_docs.items())
    print(f"\nkill -9: {bot.kills} kills, {len(cases)} requests, {len(rows)} notifications, {repeats} repeated once, "
          f"{text.count('replaying')} start(s) replayed recorded updates, "
          f"{text.count('Alur berjalan')} process starts")
    assert "Alur berjalan" in text
    assert api.token not in text
