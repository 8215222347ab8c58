"""Transport under attack and strain (issue 11 rows 1, 2, 3, 4, 10, 16; issue 13's limiter and ledger).

End to end where a user or an attacker could do it: the real `alur run` process against the fake
Bot API (webhook forgery, a locked database, a rejected token), or the real Application in
``alur_world`` (floods, a failed handled-mark). No timed assertions: order and counts only.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot import storage
from bot.sop.catalog import DEFAULT_SOP_DIR
from bot.storage.db import Database
from bot.storage.dialect import PostgresUrl
from sandbox.fake_bot_api import FakeBotApi
from scheduler.ratelimit import ChatRateLimiter
from scheduler.serve import EXIT_DIED, _watch
from scheduler.updates import MAX_QUEUE, Slots, slot_lent

from world import alur_world

pytestmark = pytest.mark.timeout(240)

ADMIN, TU = 2009, 2001
EXIT_STARTUP = 2
"""What `alur run` exits with when it cannot start (a bad setting or file, a refused token, a taken port)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AlurRun:
    """`alur run` as a child process, its output in a file."""

    def __init__(self, api: FakeBotApi, tmp_path: Path, *args: str, token: str | None = None,
                 **env: str) -> None:
        self.db_path = tmp_path / "alur.sqlite3"
        self.log = tmp_path / "bot.log"
        self.env = {**os.environ, "TELEGRAM_BOT_TOKEN": token or api.token, "TELEGRAM_API_BASE_URL": api.base_url,
                    "ALUR_DB": str(self.db_path), "ALUR_PEOPLE": str(DEFAULT_SOP_DIR / "demo_people.yaml"),
                    "PYTHONUNBUFFERED": "1", **env}
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AlurRun:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "run", *self.args], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)
        return self

    async def exit_code(self, timeout: float = 60) -> int:  # noqa: ASYNC109
        assert self.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(self.proc.wait, timeout)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"alur run did not exit\n{self.output()}")
        return int(self.proc.returncode)

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.exit_code(30)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


async def until(check, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return True
        await asyncio.sleep(0.1)
    return False


# ----------------------------------------------------------------------------- row 1, 2: the webhook


async def test_webhook_rejects_a_forged_post_and_serves_telegram(tmp_path: Path) -> None:
    """Row 1: a POST without the secret (from 'the admin', to the attacker's chat) gets 403 and changes
    nothing; Telegram's own deliveries (with the secret) are answered. Row 2: `alur run --webhook` starts."""
    port = free_port()
    local = f"http://127.0.0.1:{port}/tg"
    async with FakeBotApi(bot_username="alur_hook_bot", webhook_proxy=lambda url: local) as api:
        bot = AlurRun(api, tmp_path, "--webhook", "https://alur.example.go.id/tg",
                      ALUR_WEBHOOK_LISTEN="127.0.0.1", ALUR_WEBHOOK_PORT=str(port)).start()
        try:
            assert await until(lambda: api.calls_to("setWebhook")), bot.output()
            secret = api.calls_to("setWebhook")[-1].params.get("secret_token")
            assert secret and len(secret) >= 32
            attacker = api.user(6666, first_name="Penyusup")
            admin = api.user(ADMIN, first_name="Admin")
            forged = {"update_id": 999_000_001, "message": {
                "message_id": 1, "date": int(time.time()), "chat": attacker.chat_dict(),
                "from": admin.user_dict(), "text": "/ringkasan"}}
            async with aiohttp.ClientSession() as session:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "tebakan-yang-salah-0123456789abcdef"}):
                    async with session.post(local, json=forged, headers=headers) as response:
                        assert response.status in (401, 403)
            await attacker.send("/bantuan")  # a real delivery through Telegram (the fake), with the secret
            help_reply = await attacker.wait_for(lambda m: bool(m.text), timeout=30)
            assert "/ringkasan" not in help_reply.text  # the attacker is unregistered: public help only
            await asyncio.sleep(1.0)
            assert all("Ringkasan" not in (m.text or "") for m in attacker.inbox)
            assert admin.inbox == []
            db = await Database.open(bot.db_path, migrate=False)
            try:
                assert await storage.updates.update_states(db, [999_000_001]) == {}  # never even recorded
                assert await storage.app_settings.setting(db, "webhook_secret") == secret
            finally:
                await db.close()
            assert await bot.stop() == 0
            assert api.token not in bot.output()
        finally:
            bot.kill()


async def test_webhook_listener_that_cannot_start_exits_cleanly(tmp_path: Path) -> None:
    """Row 2: a port already taken ends the process with exit code 2 (not half-alive), token unprinted."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeBotApi() as api:
            bot = AlurRun(api, tmp_path, "--webhook", "https://alur.example.go.id/tg",
                          ALUR_WEBHOOK_LISTEN="127.0.0.1", ALUR_WEBHOOK_PORT=str(port)).start()
            try:
                assert await bot.exit_code(60) == EXIT_STARTUP, bot.output()
            finally:
                bot.kill()
            assert "Webhook tidak dapat mendengarkan" in bot.output()
            assert api.token not in bot.output() and api.token.split(":")[1] not in bot.output()


def test_webhook_extra_is_a_dependency() -> None:
    """Row 2: a fresh install brings PTB's webhook server (tornado)."""
    requires = importlib.metadata.requires("alur") or []
    ptb = next(r for r in requires if r.startswith("python-telegram-bot"))
    assert "webhooks" in ptb
    import tornado  # noqa: F401  (installed with the extra)


# ----------------------------------------------------------------------------- row 10: the token


async def test_rejected_token_is_never_printed(tmp_path: Path) -> None:
    """Row 10: the Bot API answers 401 at start-up; the process exits 2 and prints no token anywhere."""
    wrong = "987654321:AAWrongTokenThatTelegramRejects-000111"
    async with FakeBotApi() as api:
        bot = AlurRun(api, tmp_path, token=wrong).start()
        try:
            assert await bot.exit_code(60) == EXIT_STARTUP, bot.output()
        finally:
            bot.kill()
        out = bot.output()
        assert "token" in out.lower()  # it says what is wrong …
        assert wrong not in out and wrong.split(":")[1] not in out  # … without showing it


# ----------------------------------------------------------------------------- row 3: a locked database


def _hold_write_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes the database's write lock and keeps it."""
    code = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30); "
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(float(sys.argv[2])); "
            "c.execute('COMMIT')")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.slow
async def test_locked_database_every_update_answered_once_afterwards(tmp_path: Path) -> None:
    """Row 3: another process holds the write lock for 15 s (longer than SQLite's busy timeout); every
    message sent meanwhile is answered exactly once after the release, and polling lives on."""
    async with FakeBotApi(bot_username="alur_lock_bot") as api:
        bot = AlurRun(api, tmp_path).start()
        staff = [api.user(tg, first_name=f"Pegawai {tg}") for tg in (2001, 2002, 2003, 2004)]
        try:
            await staff[0].send("/bantuan")
            await staff[0].wait_for(lambda m: "/tugas" in (m.text or ""), timeout=60)
            holder = _hold_write_lock(bot.db_path, 15)
            try:
                for person in staff:
                    person.mark()
                    await person.send("/bantuan")
                    await asyncio.sleep(1.5)
            finally:
                await asyncio.to_thread(holder.wait, 60)
            for person in staff:
                await person.wait_for(lambda m: "/tugas" in (m.text or ""), timeout=60)
            await asyncio.sleep(3)  # anything answered twice would have arrived by now
            for person in staff:
                helps = [m for m in person.inbox if "/tugas" in (m.text or "")]
                assert len(helps) == (2 if person is staff[0] else 1), person.dump()
            staff[1].mark()
            await staff[1].send("/bantuan")  # and it goes on answering
            await staff[1].wait_for(lambda m: "/tugas" in (m.text or ""), timeout=30)
            assert bot.proc is not None and bot.proc.poll() is None
            assert await bot.stop() == 0
        finally:
            bot.kill()
        assert "Exception happened while polling" not in bot.output()


@pytest.mark.sqlite_only("holds SQLite's file write lock; PostgreSQL has no database-wide write lock")
async def test_failed_handled_mark_never_repeats_a_reply(tmp_path: Path) -> None:
    """Row 3: the write that marks an update handled hits a lock longer than the busy timeout; the
    mark is retried, so a restart does not replay the update (the old ledger answered twice)."""
    async with alur_world(tmp_path, paced=False, start_sender=False) as w:
        tu = w["tu"]
        held: list[sqlite3.Connection] = []

        def lock_when_replied(kind: str, chat: object, payload: object) -> None:
            if kind == "message" and getattr(chat, "id", None) == TU and not held:
                conn = sqlite3.connect(w.settings.db_path, isolation_level=None, timeout=0.5)
                conn.execute("BEGIN IMMEDIATE")  # between the reply and its handled-mark
                held.append(conn)
                asyncio.get_running_loop().call_later(12, conn.execute, "COMMIT")

        stop_listening = w.api.on_event(lock_when_replied)
        await tu.send("/bantuan")
        await tu.wait_for(lambda m: "/tugas" in (m.text or ""))
        stop_listening()
        assert held

        async def handled() -> bool:
            rows = await w.services.db.read.fetchall("SELECT state FROM updates")
            return bool(rows) and all(r["state"] == "handled" for r in rows)

        assert await until(handled, timeout=60)
        await w.restart()
        await asyncio.sleep(2)
        assert len([m for m in tu.inbox if "/tugas" in (m.text or "")]) == 1, tu.dump()
        held[0].close()


async def test_polling_confirms_an_update_only_once_it_is_recorded(tmp_path: Path) -> None:
    """Row 3: PTB confirms a batch by asking getUpdates for the next one, and it sends getUpdates past the
    rate limiter; the request itself waits for the ledger. While the write of a message is held back, no
    getUpdates confirms it, so a kill -9 in between cannot lose it (Telegram would deliver it again)."""
    async with alur_world(tmp_path, paced=False) as w:
        ledger = w.app.ledger
        record = ledger._record
        release = asyncio.Event()

        async def slow_record(batch):  # type: ignore[no-untyped-def]
            await release.wait()
            return await record(batch)

        ledger._record = slow_record  # type: ignore[method-assign]
        tu = w["tu"]
        await tu.send("/bantuan")
        assert await until(lambda: asyncio.sleep(0, bool(w.api.delivered_update_ids)), timeout=10)
        uid = w.api.delivered_update_ids[-1]
        await asyncio.sleep(2.5)  # PTB polls with timeout=1 here: it would have asked again twice by now
        offsets = [int(c.params.get("offset") or 0) for c in w.api.calls_to("getUpdates")]
        assert max(offsets) <= uid, (uid, offsets)
        release.set()
        await tu.wait_for(lambda m: "/tugas" in (m.text or ""), timeout=20)
        assert await until(lambda: asyncio.sleep(0, max(int(c.params.get("offset") or 0)
                                                        for c in w.api.calls_to("getUpdates")) > uid), timeout=10)
        ledger._record = record  # type: ignore[method-assign]


async def test_a_dead_ledger_makes_the_process_exit_non_zero(tmp_path: Path) -> None:
    """Row 3: when a part the bot cannot live without stops, `alur run` exits 1 for its service manager."""
    async with alur_world(tmp_path, paced=False) as w:
        w.app.ledger.failed = RuntimeError("disk full")
        never = asyncio.Event()
        assert await asyncio.wait_for(_watch(w.app, never.wait), 10) == EXIT_DIED
        w.app.ledger.failed = None


# ----------------------------------------------------------------------------- row 4: floods


@pytest.mark.slow
async def test_one_chats_flood_does_not_hold_up_anyone_else(tmp_path: Path) -> None:
    """Row 4: 100 messages from one person at once; another person's /bantuan is answered before more than
    a few of the flood's replies, the flooder gets one polite notice and the excess is dropped; an
    unregistered flooder gets at most two replies."""
    async with alur_world(tmp_path) as w:  # real pacing: one message per second per chat
        flooder, other = w["tu"], w["kabid"]
        stranger = w.api.user(7777, first_name="Iseng")
        for i in range(100):
            await flooder.send(f"/bantuan {i}")
        for i in range(30):
            await stranger.send(f"halo {i}")
        await asyncio.sleep(0.5)
        await other.send("/bantuan")
        await other.wait_for(lambda m: "/tugas" in (m.text or ""), timeout=30)
        answered_before = len([m for m in flooder.inbox if "/tugas" in (m.text or "")])
        assert answered_before <= 5, f"{answered_before} flood replies went first"
        notice = await flooder.wait_for(lambda m: "lebih cepat" in (m.text or ""), timeout=30)
        assert notice

        async def all_settled() -> bool:
            rows = await w.services.db.read.fetchall("SELECT state, COUNT(*) AS n FROM updates GROUP BY state")
            counts = {r["state"]: r["n"] for r in rows}
            return counts.get("received", 0) == 0 and sum(counts.values()) >= 131

        assert await until(all_settled, timeout=120)
        dropped = await w.services.db.read.fetchone("SELECT COUNT(*) AS n FROM updates WHERE state = 'dropped'")
        assert dropped is not None and dropped["n"] >= 100 - MAX_QUEUE
        assert len([m for m in flooder.inbox if "lebih cepat" in (m.text or "")]) == 1
        assert len([m for m in flooder.inbox if "/tugas" in (m.text or "")]) <= MAX_QUEUE
        assert 1 <= len(stranger.inbox) <= 2, stranger.dump()


# ----------------------------------------------------------------------------- row 16: retention


async def test_handled_updates_keep_no_payload(tmp_path: Path) -> None:
    """Row 16: once handled, the ledger forgets the message (names, phone numbers)."""
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        await officer.send("nomor saya 0812 3456 7890, siapa yang menangani data?")
        await officer.next_message()

        async def forgotten() -> bool:
            rows = await w.services.db.read.fetchall("SELECT state, payload FROM updates")
            return bool(rows) and all(r["state"] == "handled" and r["payload"] is None for r in rows)

        assert await until(forgotten)


async def test_alur_prune_applies_retention_and_keeps_the_audit_trail(tmp_path: Path) -> None:
    """Row 16: `alur prune` deletes old sent notices and handled updates and archives the events of
    long-closed cases; /riwayat still shows them and the archive stays append-only."""
    from datetime import UTC, datetime, timedelta

    from bot.cli.main import main
    from bot.core.clock import ManualClock

    start = datetime.now(UTC) - timedelta(days=41)  # the command line tool reads the real clock
    async with alur_world(tmp_path, paced=False, clock=ManualClock(start)) as w:
        case = await w.file_information_request()
        await w.deliver()
        await w.services.workflow.cancellation.cancel(case.id, w.roster["officer"].id, "Tidak jadi")
        await w.deliver()
        w.clock.advance(timedelta(days=41))
        fresh = await w.file_information_request()
        events_before = len(await storage.events.events_of_case(w.services.db, case.id))
        assert events_before >= 3
        await w.stop()
        target = w.settings.db_path
        os.environ["ALUR_DB"] = target.url if isinstance(target, PostgresUrl) else str(target)
        try:
            assert await asyncio.to_thread(main, ["prune", "--days", "30"]) == 0
        finally:
            del os.environ["ALUR_DB"]
        await w.start()
        db = w.services.db
        old_sent = await db.fetchone("SELECT COUNT(*) AS n FROM outbox WHERE created_at < ?",
                                     ((start + timedelta(days=2)).isoformat(),))
        assert old_sent is not None and old_sent["n"] == 0
        hot = await db.fetchone("SELECT COUNT(*) AS n FROM events WHERE case_id = ?", (case.id,))
        assert hot is not None and hot["n"] == 0
        assert len(await storage.events.events_of_case(db, case.id)) == events_before  # archived, not lost
        assert await storage.events.events_of_case(db, fresh.id)  # an open case keeps its events where they are
        with pytest.raises(Exception, match="append-only"):
            async with db.transaction() as tx:
                await tx.execute("DELETE FROM events_archive")
        with pytest.raises(Exception, match="append-only"):
            async with db.transaction() as tx:
                await tx.execute("DELETE FROM events WHERE case_id = ?", (fresh.id,))


# ----------------------------------------------------------------------------- the limiter and the slots


async def test_limiter_serves_ready_chats_in_arrival_order_and_never_waits_for_later_ones() -> None:
    limiter = ChatRateLimiter(private_interval=0.3, global_rate=1000)
    order: list[str] = []

    def sender(name: str, chat: int, priority: int = 0):  # type: ignore[no-untyped-def]
        async def callback() -> dict[str, int]:
            order.append(name)
            return {}
        return limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat},
                                       {"priority": priority})

    await sender("a1", 1)  # chat 1 is now paced for 0.3 s
    await sender("x3", 3)  # and chat 3
    tasks = [asyncio.create_task(sender("a2", 1)), asyncio.create_task(sender("bulk-c", 3, 2)),
             asyncio.create_task(sender("b1", 2)), asyncio.create_task(sender("c1", 3)),
             asyncio.create_task(sender("d1", 4))]
    await asyncio.gather(*tasks)
    # b1 and d1 do not wait behind a2 (their chats are free) and keep their arrival order; when chat 3 frees
    # up, the reply c1 goes before the bulk message that arrived earlier
    assert order[:2] == ["a1", "x3"] and order[2:4] == ["b1", "d1"]
    assert order.index("c1") < order.index("bulk-c")


async def test_limiter_global_window_is_exact() -> None:
    limiter = ChatRateLimiter(private_interval=0.0, global_rate=10)
    stamps: list[float] = []

    async def callback() -> dict[str, int]:
        stamps.append(time.monotonic())
        return {}

    await asyncio.gather(*(limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": 100 + i}, None)
                           for i in range(25)))
    assert len(stamps) == 25
    for i, t in enumerate(stamps):
        assert sum(1 for u in stamps[i:] if u - t < 1.0) <= 10


async def test_slots_are_lent_while_waiting_and_taken_back_first() -> None:
    from scheduler import updates

    slots = Slots(1)
    await slots.acquire()  # the update's slot
    held = updates._Held(slots)
    token = updates._current.set(held)
    try:
        async with slot_lent():  # waiting for the rate limiter: the slot is free for others
            other = asyncio.create_task(slots.acquire())
            await asyncio.sleep(0)
            assert other.done()  # another update runs meanwhile
            newcomer = asyncio.create_task(slots.acquire())
            await asyncio.sleep(0)
            asyncio.get_running_loop().call_later(0.05, slots.release)  # the other update ends
        assert held.held and not newcomer.done()  # the lender took its slot back before the newcomer
    finally:
        updates._current.reset(token)
    slots.release()
    await asyncio.wait_for(newcomer, 1)


async def test_sla_aggregates_match_a_full_recomputation(tmp_path: Path) -> None:
    from datetime import timedelta

    from bot.workflow.analytics import fold_sla, sla_report

    async with alur_world(tmp_path, paced=False, start_sender=False) as w:
        s = w.services
        cases = []
        for _ in range(3):
            cases.append(await w.file_information_request())
            w.clock.advance(timedelta(hours=5))
        for case in cases:
            current = (await s.workflow.queries.what_next(case.id)).current[0]
            await s.workflow.steps.complete_step(current.instance.id, current.instance.holder_id)
            w.clock.advance(timedelta(days=1, minutes=30))
        before = await sla_report(s.db, s.catalog, s.calendar)
        assert sum(r.count for r in before) == 3
        since = w.clock.now() - timedelta(days=1, hours=3)
        before_since = await sla_report(s.db, s.catalog, s.calendar, since=since)
        w.clock.advance(timedelta(hours=1))
        assert await fold_sla(s.db, s.calendar, w.clock.now()) > 0
        assert await storage.sla.watermark(s.db) is not None
        assert await sla_report(s.db, s.catalog, s.calendar) == before
        assert await sla_report(s.db, s.catalog, s.calendar, since=since) == before_since
