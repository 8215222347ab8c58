"""The outbox sender against the fake Bot API: limits, 429, 5xx, 403, dead letters, crash recovery."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.states import NoticeKind
from bot.text.payloads import ProgressPayload

from observe import interrupt_while_sending, notices, queue_notice
from world import World, alur_world

pytestmark = pytest.mark.timeout(180)


async def queue(
    w: World, person_id: int, chat_id: int, n: int = 1, priority: int = 1, code: str = "INFO"
) -> None:
    for i in range(n):
        await queue_notice(
            w.services.db, person_id, chat_id,
            ProgressPayload(case_id=1, register_no=f"KTP-{code}-2026-{i + 1:04d}", title="Uji", sop_id="x",
                            step="3", text="Langkah uji", role="Kepala Badan", due_at=None, holder_id=None,
                            returned=False),
            kind=NoticeKind.PROGRESS, priority=priority, now=w.clock.now(),
        )


async def test_300_notifications_to_100_chats_within_limits(tmp_path: Path) -> None:
    async with alur_world(tmp_path, start_sender=False) as w:
        people = []
        for i in range(100):
            tg = 10_000 + i
            w.api.user(tg, first_name=f"Pegawai {i}")
            p = await w.services.people.add_staff(name=f"Pegawai {i}", roles=["fungsional_perencana"],
                                                  institution="ketapang", unit="perstradal", telegram_id=tg)
            people.append(p)
        for p in people:
            await queue(w, p.id, p.telegram_id, 3)
        await w.sender.drain(timeout=120)
        sent = await notices(w.services.db, state="sent")
        assert len(sent) == 300
        per_chat = {}
        for m in w.api.sent_messages:
            per_chat[m.chat_id] = per_chat.get(m.chat_id, 0) + 1
        assert len([c for c in per_chat if c >= 10_000]) == 100 and all(
            n == 3 for c, n in per_chat.items() if c >= 10_000
        )
        assert w.api.limit_violations == []
        assert w.sender.stats["rate_limited"] == 0


async def test_429_waits_retry_after_then_delivers(tmp_path: Path) -> None:
    async with alur_world(tmp_path, start_sender=False, paced=False) as w:
        tu = w.roster["tu"]
        await queue(w, tu.id, tu.telegram_id, 2)
        w.api.fail_next("sendMessage", 429, retry_after=3)
        await w.sender.flush()
        rows = await notices(w.services.db)
        assert [r.state for r in rows] == ["pending", "pending"] and "429" in (rows[0].last_error or "")
        assert rows[0].not_before == w.clock.now() + timedelta(seconds=3)
        await w.sender.drain()
        assert len(w["tu"].inbox) == 0  # order per chat: the second waits behind the first
        w.clock.advance(seconds=3)
        await w.sender.drain(timeout=30)
        assert [m.text.split("\n")[0] for m in w["tu"].inbox] == [
            "🔄 KTP-INFO-2026-0001 · Uji", "🔄 KTP-INFO-2026-0002 · Uji"]


async def test_5xx_and_network_errors_back_off_then_deliver(tmp_path: Path) -> None:
    async with alur_world(tmp_path, start_sender=False, paced=False) as w:
        tu = w.roster["tu"]
        await queue(w, tu.id, tu.telegram_id, 1)
        w.api.fail_next("sendMessage", 500, count=2)
        await w.sender.flush()
        row = (await notices(w.services.db))[0]
        assert row.state == "pending" and row.attempts == 1
        w.clock.advance(seconds=2)
        await w.sender.flush()
        row = (await notices(w.services.db))[0]
        assert row.attempts == 2 and row.not_before == w.clock.now() + timedelta(seconds=4)
        w.clock.advance(seconds=4)
        await w.sender.drain(timeout=30)
        assert (await notices(w.services.db))[0].state == "sent" and len(w["tu"].inbox) == 1


async def test_keeps_failing_goes_to_dead_letters(tmp_path: Path) -> None:
    async with alur_world(tmp_path, start_sender=False, paced=False) as w:
        tu = w.roster["tu"]
        await queue(w, tu.id, tu.telegram_id, 1)
        w.api.fail_next("sendMessage", 502, count=100)
        for _ in range(w.sender.max_attempts):
            await w.sender.flush()
            w.clock.advance(minutes=11)
        row = (await notices(w.services.db))[0]
        assert row.state == "dead" and row.attempts == w.sender.max_attempts
        assert "502" in (row.last_error or "") or "network" in (row.last_error or "").lower()


async def test_blocked_person_is_marked_unreachable_and_supervisor_told(tmp_path: Path) -> None:
    async with alur_world(tmp_path, start_sender=False, paced=False) as w:
        staf = w.roster["staf"]
        w["staf"].blocked = True
        await queue(w, staf.id, staf.telegram_id, 2)
        await w.sender.drain(timeout=30)
        rows = await notices(w.services.db)
        assert [r.state for r in rows if r.to == staf.id] == ["held", "held"]  # kept for their /start
        assert len([c for c in w.api.calls_to("sendMessage") if int(c.params["chat_id"]) == staf.telegram_id]) == 1
        person = await w.services.people.get(staf.id)
        assert person is not None and not person.reachable
        told = [r for r in rows if r.kind == "unreachable"]
        assert {r.to for r in told} == {w.roster["kabid"].id, w.roster["admin"].id}
        notice = await w["kabid"].wait_for_text("tidak dapat dihubungi", include_existing=True)
        assert "Dodi" in notice.text


async def test_crash_between_send_and_mark_repeats_once_never_more(tmp_path: Path) -> None:
    async with alur_world(tmp_path, start_sender=False, paced=False) as w:
        tu = w.roster["tu"]
        await queue(w, tu.id, tu.telegram_id, 1)
        row = (await notices(w.services.db))[0]
        await w.sender.flush()
        assert len(w["tu"].inbox) == 1
        # a crash after the HTTP call, before 'sent' was written, leaves it 'sending'
        await interrupt_while_sending(w.services.db, row.id)
        assert await w.sender.recover() == 1
        await w.sender.drain(timeout=30)
        assert len(w["tu"].inbox) == 2  # repeated once
        await interrupt_while_sending(w.services.db, row.id)
        assert await w.sender.recover() == 0
        await w.sender.drain(timeout=30)
        assert len(w["tu"].inbox) == 2  # never a third time
        assert (await notices(w.services.db))[0].state == "sent"


async def test_replies_go_before_bulk(tmp_path: Path) -> None:
    async with alur_world(tmp_path, start_sender=False, paced=False) as w:
        tu = w.roster["tu"]
        await queue(w, tu.id, tu.telegram_id, 3, priority=2, code="BULK")
        await queue(w, tu.id, tu.telegram_id, 1, priority=0, code="REPLY")
        await w.sender.drain(timeout=30)
        firsts = [m.text.split(" · ")[0] for m in w["tu"].inbox]
        assert firsts == ["🔄 KTP-REPLY-2026-0001", "🔄 KTP-BULK-2026-0001", "🔄 KTP-BULK-2026-0002",
                          "🔄 KTP-BULK-2026-0003"]


class _HeldChat:
    """The pacing several workers share, with one chat held (another worker's send to it in flight)."""

    def __init__(self, chat: int, seconds: float) -> None:
        self.chat = chat
        self.until = time.monotonic() + seconds

    async def reserve(self, chat: int | str, chat_interval: float, overall_interval: float) -> float:
        left = self.until - time.monotonic()
        return -min(left, 0.5) if int(chat) == self.chat and left > 0 else 0.0

    async def sent(self, chat: int | str, pause: float) -> None:
        return None


async def test_a_chat_held_by_another_worker_does_not_hold_up_other_chats(tmp_path: Path) -> None:
    """Several workers: a chat whose shared pacing says 'not yet' for long (say, a send of a worker
    that died still marked in flight) waits alone; the sender's next rounds serve the other chats."""
    async with alur_world(tmp_path, start_sender=False, paced=False) as w:
        tu, kaban = w.roster["tu"], w.roster["kaban"]
        assert w.sender.limiter is not None
        held = _HeldChat(tu.telegram_id, 15.0)
        w.sender.limiter.shared = held
        await queue(w, tu.id, tu.telegram_id, 1)
        await queue(w, kaban.id, kaban.telegram_id, 3, code="SEKR")
        start = time.monotonic()
        while len([m for m in w.api.sent_messages if m.chat_id == kaban.telegram_id]) < 3:
            assert time.monotonic() - start < 8, "the held chat held up the others"
            await w.sender.flush()
        assert not [m for m in w.api.sent_messages if m.chat_id == tu.telegram_id]
        held.until = 0.0
        await w.sender.drain(timeout=20)
        assert len([m for m in w.api.sent_messages if m.chat_id == tu.telegram_id]) == 1
        w.sender.limiter.shared = None
