"""Reliability in-process: confirmed-but-unhandled updates, redelivery, double taps, faulty Bot API,
fuzzed input, the token in logs, backup and restore."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.qa.answers import Answerer
from bot.runtime import open_services
from bot.text import payloads
from bot.text.notices import render_notice
from bot.text.render import Renderer, to_plain
from sandbox.fake_bot_api import parse_html
from scheduler.application import build_application
from scheduler.serve import TokenFilter

from observe import audit_trail, event_types, notices, unfinished_updates
from roster import advance
from world import World, alur_world

pytestmark = pytest.mark.timeout(240)



async def _file(w: World) -> str:
    return (await w.file_information_request()).register_no


async def _fetch_and_confirm_without_handling(w: World) -> list[int]:
    """What a crash right after getUpdates looks like: recorded, confirmed at Telegram, never handled."""
    app = build_application(w.services, token=w.api.token, base_url=w.api.base_url,
                            base_file_url=w.api.base_file_url, start_sender=False)
    await app.initialize()
    updates = await app.bot.get_updates(timeout=0)
    for update in updates:  # what PTB's Updater does with a batch before it asks for the next one
        await app.update_queue.put(update)
    await app.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)  # Telegram forgets them now
    await app.shutdown()  # the crash: the queue is never processed
    return [u.update_id for u in updates]


async def test_update_confirmed_but_not_handled_is_replayed_after_restart(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        register_no = await _file(w)
        tu = w["tu"]
        card = await tu.wait_for_text(register_no)
        await w.stop()
        await tu.tap(card, "✅ Selesai")  # the bot is down; Telegram holds the tap
        w.services = await open_services(w.settings, clock=w.clock, sync_people=False)
        ids = await _fetch_and_confirm_without_handling(w)
        assert w.api.pending_updates() == []  # Telegram will not deliver it again
        assert await unfinished_updates(w.services.db) == ids
        await w.services.close()
        await w.start()  # replays the recorded update
        await tu.wait_for(lambda m: "oleh Anda" in (m.text or ""))
        wn = await w.services.workflow.queries.what_next(1)
        assert wn.current[0].step.number == "3"
        for _ in range(100):  # the handler finishes after its edit is out; its mark goes with the next batch
            if not await unfinished_updates(w.services.db):
                break
            await asyncio.sleep(0.1)
        assert await unfinished_updates(w.services.db) == []


async def test_redelivered_update_and_double_tap_have_one_effect(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        register_no = await _file(w)
        tu = w["tu"]
        card = await tu.wait_for_text(register_no)
        q1 = await tu.tap(card, "✅ Selesai")
        q2 = await tu.tap(card, "✅ Selesai")  # a double tap, before the first is answered
        a1, a2 = await tu.wait_answer(q1), await tu.wait_answer(q2)
        assert not a1.show_alert and a2.show_alert and "sudah diselesaikan" in a2.text
        # Telegram delivers the same update again (e.g. after a network hiccup)
        raw = next(c for c in w.api.calls_to("getUpdates") if c.response and c.response.get("result"))
        first = raw.response["result"][0]
        w.api.inject_update(first)
        await asyncio.sleep(0.5)
        events = await event_types(w.services.workflow, 1)
        assert events.count("step_completed") == 2  # step 1 (filing) and step 2, once
        # handled updates are kept for the retention period (30 days by default), then pruned by the tick
        from datetime import timedelta

        from scheduler.tick import tick

        assert (await tick(w.services)).pruned_updates == 0
        w.clock.advance(timedelta(days=31))
        assert (await tick(w.services)).pruned_updates == 2  # two taps; the redelivery shares an id


async def test_two_people_tap_at_once_one_wins(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False) as w:
        register_no = await _file(w)
        await advance(w.services.workflow, 1, 4)  # to step 6, the data processor
        w.sender.kick()
        staf, staf2 = w["staf"], w["staf2"]
        card = await staf.wait_for_text(register_no)
        sid = (await w.services.workflow.queries.what_next(1)).current[0].instance.id
        await w.services.workflow.delegation.reassign(sid, w.roster["kabid"].id, w.roster["staf2"].id, "Dodi cuti")
        w.sender.kick()
        card2 = await staf2.wait_for(lambda m: register_no in (m.text or "") and m.buttons)
        qa = await staf.tap(card, "✅ Selesai")  # the old holder's stale card
        qb = await staf2.tap(card2, "✅ Selesai")
        a, b = await staf.wait_answer(qa), await staf2.wait_answer(qb)
        assert a.show_alert and "bukan tugas Anda" in a.text
        assert not b.show_alert
        prompt = await staf2.wait_for_text("Kirim dokumennya")
        await staf2.tap(prompt, "Selesai tanpa lampiran")
        await staf2.wait_for(lambda m: "oleh Anda" in (m.text or ""))
        done = [e for e in await audit_trail(w.services.workflow, 1) if e.type == "step_completed"
                and e.data.get("step") == "6"]
        assert len(done) == 1 and done[0].actor_id == w.roster["staf2"].id


async def test_faulty_bot_api_30_percent_everything_delivered(tmp_path: Path) -> None:
    async with alur_world(tmp_path, paced=False, read_timeout=1.0, timeout_delay=1.5) as w:

        async def time_passes() -> None:  # the sender's retries wait on the (movable) clock
            while True:
                await asyncio.sleep(0.2)
                w.clock.advance(seconds=30)
                w.sender.kick()

        ticker = asyncio.create_task(time_passes())
        try:
            w.api.fault_rate(0.3, seed=7, kinds=("429", "500", "timeout"))
            register_no = await _file(w)
            for _ in range(11):
                wn = await w.services.workflow.queries.what_next(1)
                if not wn.current:
                    break
                holder = wn.current[0].holder
                sid = wn.current[0].instance.id
                user = w.api.chat(holder.telegram_id)
                await _finish_under_faults(w, user, register_no, sid)
            await _finish_under_faults(w, w["officer"], register_no, None)
            case = await w.services.workflow.queries.case_by_ref(register_no)
            assert case.state == "completed"
            for _ in range(300):
                rows = await notices(w.services.db)
                if all(r.state in ("sent", "dead") for r in rows):
                    break
                await asyncio.sleep(0.1)
        finally:
            ticker.cancel()
        w.api.clear_faults()
        not_sent = [(r.kind, r.state, r.last_error) for r in rows if r.state != "sent" and r.kind != "document"]
        assert not_sent == []
        assert len(w.api.injected_faults) >= 10, "the fault injection did run"
        assert not w.api.server_errors


async def _finish_under_faults(w: World, user, register_no: str, sid: int | None) -> None:  # type: ignore[no-untyped-def]
    """Tap the step's first button until the step is done; a fault may eat a tap, its answer or the card."""

    async def done() -> bool:
        if sid is not None:
            inst = await w.services.workflow.queries.step(sid)
            return inst is not None and not inst.is_open
        return (await w.services.workflow.queries.case_by_ref(register_no)).state != "open"

    for _ in range(12):
        if await done():
            return
        prompt = next((m for m in reversed(user.inbox) if "Kirim dokumennya" in (m.text or "") and m.buttons), None)
        card = next((m for m in reversed(user.inbox) if register_no in (m.text or "") and m.buttons
                     and ("Selesai" in m.button_texts[0] or "Disetujui" in m.button_texts[0]
                          or "Sudah diterima" in m.button_texts[0])), None)
        listing = next((m for m in reversed(user.inbox[-3:]) if "Tugas Anda" in (m.text or "") and m.buttons), None)
        if card is None and prompt is None and listing is not None:
            await user.tap(listing, listing.button_texts[0])  # the task list opens the card again
        elif card is None and prompt is None:
            await user.send("/tugas")  # the card itself may have been lost: ask for it again
        elif prompt is not None:
            await user.tap(prompt, "Selesai tanpa lampiran")
        else:
            await user.tap(card, card.button_texts[0])
        for _ in range(50):  # give the bot (and its retries) time before tapping again
            await asyncio.sleep(0.2)
            if await done() or any("Kirim dokumennya" in (m.text or "") and m.buttons for m in user.inbox[-2:]):
                break
    raise AssertionError(f"step {sid} of {register_no} never finished\n{user.dump()}")


def _valid_telegram_html(text: str) -> None:
    parse_html(text)  # raises HtmlParseError like Telegram's 400 "can't parse entities"
    assert 0 < len(to_plain(text)) <= 4096


_ANSWERER: Answerer | None = None


def _answerer() -> Answerer:
    global _ANSWERER
    if _ANSWERER is None:
        from bot.sop.catalog import load_catalog

        _ANSWERER = Answerer(load_catalog())
    return _ANSWERER


weird_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=4096
) | st.sampled_from(["<b>", "&amp;", "</i><script>alert(1)</script>", "a & b < c > d", "&#x1F600;", '"\'<>&'])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weird_text)
def test_fuzz_questions_always_answer_in_valid_html(text: str) -> None:
    answer = _answerer().answer(text)
    _valid_telegram_html(answer.html)


@settings(max_examples=150, deadline=None)
@given(weird_text, weird_text)
def test_fuzz_intake_values_render_valid_notices(a: str, b: str) -> None:
    renderer = Renderer()
    payload = {"case_id": 1, "register_no": "KTP-INFO-2026-0001", "title": a[:300], "sop_id": "x",
               "requester": b[:200], "agency": a[:100], "step_instance_id": 1, "step": "2", "text": b,
               "role": "Petugas", "requirements": [a[:50]], "outputs": [b[:50]], "duration_text": "0,5 jam",
               "due_at": None, "note": "", "decision": None, "hands_off": False, "acting_for": None,
               "reassigned_by": a[:40], "reason": b[:500], "files": [], "for_requester": False}
    _valid_telegram_html(render_notice(renderer, "assignment", payloads.parse("assignment", payload)).html)


async def test_fuzzed_messages_through_the_bot_never_break_it(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    samples: list[str] = []

    @settings(max_examples=25, deadline=None, database=None)
    @given(weird_text)
    def collect(text: str) -> None:
        samples.append(text)

    collect()
    async with alur_world(tmp_path, paced=False) as w:
        officer = w["officer"]
        caplog.set_level(logging.ERROR)
        await officer.send("/ajukan")
        menu = await officer.next_message()
        await officer.tap(menu, "Permintaan Informasi Pembangunan Daerah")
        await officer.wait_for_text("1/4")
        await officer.send(samples[0][:900] or "x")  # an intake answer with whatever characters
        await officer.next_message()
        await officer.send("/batal")
        await officer.next_message()
        for text in samples:
            if text.startswith("/"):
                text = " " + text
            await officer.send(text)
            reply = await officer.next_message(timeout=10)
            assert reply.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        assert not w.api.server_errors


def test_token_filter_redacts_the_token() -> None:
    token = "123456:ABCdefGHIjklMNOpqrsTUVwxyz"
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "POST https://api.telegram.org/bot%s/getMe",
                               (token,), None)
    TokenFilter(token).filter(record)
    assert token not in record.getMessage() and "<token>" in record.getMessage()


def _restore(backup: Path, database: Path) -> None:
    """The documented restore: with the bot stopped, replace the database file (and drop its WAL files)."""
    database.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    backup.rename(database)


@pytest.mark.sqlite_only("the SQLite online backup of the file and its restore; PostgreSQL is backed up with pg_dump")
async def test_backup_restore_and_continue(tmp_path: Path) -> None:
    from bot.cli.main import main

    async with alur_world(tmp_path, paced=False) as w:
        register_no = await _file(w)
        card = await w["tu"].wait_for_text(register_no)
        await w["tu"].tap(card, "✅ Selesai")
        await w["tu"].wait_for(lambda m: "oleh Anda" in (m.text or ""))
        backup = tmp_path / "cadangan.sqlite3"
        await w.services.db.backup(backup)  # online, while the bot runs
        await w.stop()
        _restore(backup, tmp_path / "alur.sqlite3")
        await w.start()
        wn = await w.services.workflow.queries.what_next(1)
        assert wn.current[0].step.number == "3"
        kaban = w["kaban"]
        await kaban.send("/tugas")
        listing = await kaban.wait_for(lambda m: "Tugas Anda" in (m.text or "") and m.buttons)
        await kaban.tap(listing, listing.button_texts[0])
        kcard = await kaban.wait_for(lambda m: register_no in (m.text or "") and m.buttons and m is not listing
                                     and "Tugas Anda" not in (m.text or ""))
        await kaban.tap(kcard, kcard.button_texts[0])
        await kaban.wait_for(lambda m: "Diputuskan" in (m.text or ""))
        assert (await w.services.workflow.queries.what_next(1)).current[0].step.number == "4"
    import os

    os.environ["ALUR_DB"] = str(tmp_path / "alur.sqlite3")
    try:  # the command line tool, as an admin would run it next to the bot
        assert await asyncio.to_thread(main, ["backup", str(tmp_path / "again.sqlite3")]) == 0
    finally:
        del os.environ["ALUR_DB"]
    assert (tmp_path / "again.sqlite3").stat().st_size > 0
