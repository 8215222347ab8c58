"""The outbox sender: delivers queued notifications within Telegram's limits, retrying safely.

* order: per chat in queue order; across chats, answers to what someone just did (priority 0)
  before normal notifications (1) before bulk ones (reminders, digests: 2);
* pace: the bot's ChatRateLimiter (one message per second to a private chat, 20/min to a
  group, under 30/s overall) — the sender only picks chats that are free to receive;
* failures: 429 waits ``retry_after``; network errors and 5xx back off exponentially; 403
  (blocked, or never started) holds the person's messages until they write to the bot, marks
  them unreachable and tells their supervisor; a message that keeps
  failing, or that Telegram refuses (400), goes to the dead letters admins see in /ringkasan.
A message is marked ``sending`` before the HTTP call and ``sent`` after it, so a crash in
between repeats that one message once (see storage.outbox.reset_sending), never more.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from datetime import timedelta

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot import storage
from bot.runtime import Services
from bot.storage.records import OutboxMessage
from bot.text import payloads
from bot.text.notices import Notice, render_notice
from bot.text.render import Renderer
from handlers.keyboards import markup
from scheduler.ratelimit import ChatRateLimiter

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)
MAX_BATCH = 30
"""Messages handed to the rate limiter per round: about a second's worth, not the whole queue."""
ROUND_WAIT = 1.0
"""Seconds a round waits for its sends. A send still waiting then (its chat paced by another worker, or
marked in flight by a worker that died) goes on alone, and later rounds skip its chat until it ends."""
STOP_WAIT = 5.0
"""Seconds a stopping sender gives the sends still under way before it cancels them."""
NO_RETRIES = {"retries": 0}
"""The sender retries durably through the outbox, so the limiter must not retry its sends."""


class OutboxSender:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        renderer: Renderer,
        *,
        max_attempts: int | None = None,
    ) -> None:
        self.s = services
        self.bot = bot
        self.renderer = renderer
        self.max_attempts = max_attempts or services.settings.max_attempts
        limiter = getattr(bot, "rate_limiter", None)
        self.limiter: ChatRateLimiter | None = limiter if isinstance(limiter, ChatRateLimiter) else None
        self.retry_at: dict[int, float] = {}
        self.wake = asyncio.Event()
        self.stats = {"sent": 0, "retried": 0, "dead": 0, "rate_limited": 0, "blocked": 0}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._under_way: dict[int, asyncio.Task[bool]] = {}
        """Per chat: the delivery of its head message, while it lasts (at most one per chat)."""

    def kick(self) -> None:
        self.wake.set()

    async def recover(self) -> int:
        """At start: messages a crash left half-sent go back in the queue (once)."""
        async with self.s.db.transaction() as tx:
            return await storage.outbox.reset_sending(tx)

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="outbox-sender")

    async def stop(self) -> None:
        self._stopping = True
        self.wake.set()
        if self._task is not None:
            await self._task
        under_way = list(self._under_way.values())
        if under_way:
            _, late = await asyncio.wait(under_way, timeout=STOP_WAIT)
            for task in late:  # still waiting for its chat: the row stays pending (or, mid-send, is repeated once)
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def run(self) -> None:
        await self.recover()
        while not self._stopping:
            try:
                sent = await self.flush()
            except Exception:  # the loop must survive anything a single round throws
                log.exception("outbox round failed")
                sent = 0
            if sent:
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=await self._idle_timeout())
            except TimeoutError:
                pass

    async def _idle_timeout(self) -> float:
        now = time.monotonic()
        waits = [t - now for t in self.retry_at.values() if t > now]
        if self.limiter is not None:
            free = self.limiter.next_free()
            if free is not None:
                waits.append(free - now)
        return max(0.02, min([1.0, *waits]))

    def _chat_free(self, chat_id: int, mono: float) -> bool:
        if self.retry_at.get(chat_id, 0.0) > mono:
            return False
        return self.limiter is None or self.limiter.ready_at(chat_id) <= mono

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a bound for tests and the demo
        """Send until nothing is due (tests, demo, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.flush()
            due = await storage.outbox.due_outbox(self.s.db, self.s.clock.now(), limit=1)
            if not due:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("outbox not drained")

    async def flush(self) -> int:
        """One round: the head message of every chat that may receive one now, sent concurrently.

        The round waits ``ROUND_WAIT`` at most: a send still waiting for its chat goes on alone, so one
        chat held up (by another worker's send to it) never holds up the others."""
        now = self.s.clock.now()
        due = await storage.outbox.due_outbox(self.s.db, now)
        seen: set[int] = set()
        batch: list[OutboxMessage] = []
        mono = time.monotonic()
        for message in due:
            chat = message.chat_id
            if chat is None or chat in seen:
                continue
            seen.add(chat)  # only a chat's first queued message may go: order per chat is kept
            if chat not in self._under_way and self._chat_free(chat, mono):
                batch.append(message)
            if len(batch) >= MAX_BATCH:
                break
        if not batch:
            return 0
        done, _ = await asyncio.wait([self._start_delivery(m) for m in batch], timeout=ROUND_WAIT)
        return sum(1 for t in done if not t.cancelled() and t.exception() is None and t.result() is True)

    def _start_delivery(self, message: OutboxMessage) -> asyncio.Task[bool]:
        chat = message.chat_id
        assert chat is not None
        task = asyncio.create_task(self._deliver(message), name=f"outbox-{message.id}")
        self._under_way[chat] = task

        def ended(t: asyncio.Task[bool]) -> None:
            self._under_way.pop(chat, None)
            if not t.cancelled() and t.exception() is not None:
                log.error("delivery failed unexpectedly: %r", t.exception())
            self.wake.set()  # the chat's next message may go

        task.add_done_callback(ended)
        return task

    async def _deliver(self, message: OutboxMessage) -> bool:
        """Render, wait for the rate limiter's grant, *then* mark the row sending and send it: the window in
        which a crash leaves a row 'sending' (and so repeated, or given up after two crashes) is the HTTP
        call alone, never the wait for Telegram's pacing."""
        assert message.chat_id is not None
        try:
            payload = payloads.parse(message.kind, message.payload)
            if isinstance(payload, payloads.DigestChartPayload):  # drawn in the chart worker: wait off the loop
                notice = await asyncio.to_thread(render_notice, self.renderer, message.kind, payload)
            else:
                notice = render_notice(self.renderer, message.kind, payload, board_url=self.s.settings.web_url)
        except Exception as exc:  # a payload the templates cannot render will never succeed
            await self._dead(message, f"render: {exc!r}")
            return False
        chat = message.chat_id
        priority = int(message.priority)
        reserved = self.limiter is not None
        if self.limiter is not None:
            await self.limiter.reserve(chat, priority)
        try:
            async with self.s.db.transaction() as tx:
                if not await storage.outbox.mark_sending(tx, message.id):
                    return False
            use_grant, reserved = reserved, False  # from here the limiter owns the grant (and gives it back)
            sent = await self._send(chat, notice, priority, reserved=use_grant)
        except RetryAfter as exc:
            self.stats["rate_limited"] += 1
            delay = _retry_after(exc)
            self.retry_at[chat] = time.monotonic() + delay
            await self._retry(message, timedelta(seconds=delay), f"429 retry_after={delay}", count=False)
            return False
        except Forbidden as exc:
            await self._blocked(message, str(exc))
            return False
        except BadRequest as exc:
            await self._dead(message, f"400 {exc}")
            return False
        except (TimedOut, NetworkError) as exc:
            await self._backoff(message, f"network: {exc}")
            return False
        except TelegramError as exc:
            await self._backoff(message, f"telegram: {exc}")
            return False
        finally:
            if reserved and self.limiter is not None:
                self.limiter.release(chat)
        async with self.s.db.transaction() as tx:
            await storage.outbox.mark_sent(tx, message.id, self.s.clock.now(), sent.message_id)
        self.stats["sent"] += 1
        return True

    async def _send(self, chat: int, notice: Notice, priority: int, *, reserved: bool = False) -> Message:
        """One outbox row is one Telegram message (a text, a document, or a picture)."""
        once = ({"rate_limit_args": {**NO_RETRIES, "priority": priority, "reserved": reserved}}
                if self.limiter is not None else {})
        if notice.documents:
            doc = notice.documents[0]
            return await self.bot.send_document(chat, doc.file_id, caption=doc.file_name or None, **once)
        if notice.photo is not None:
            return await self.bot.send_photo(chat, notice.photo, caption=notice.photo_caption or None, **once)
        return await self.bot.send_message(chat, notice.html, parse_mode=ParseMode.HTML,
                                           reply_markup=markup(notice.keyboard), disable_web_page_preview=True,
                                           **once)

    async def _retry(self, message: OutboxMessage, delay: timedelta, error: str, *, count: bool) -> None:
        self.stats["retried"] += 1
        async with self.s.db.transaction() as tx:
            await storage.outbox.mark_retry(tx, message.id, self.s.clock.now() + delay, error, count_attempt=count)

    async def _backoff(self, message: OutboxMessage, error: str) -> None:
        if message.attempts + 1 >= self.max_attempts:
            await self._dead(message, error)
            return
        delay = min(MAX_BACKOFF, timedelta(seconds=2 ** (message.attempts + 1)))
        await self._retry(message, delay, error, count=True)

    async def _dead(self, message: OutboxMessage, error: str) -> None:
        self.stats["dead"] += 1
        log.warning("outbox message %s is undeliverable: %s", message.id, error)
        async with self.s.db.transaction() as tx:
            await storage.outbox.mark_dead(tx, message.id, error)

    async def _blocked(self, message: OutboxMessage, error: str) -> None:
        """403: Telegram refuses this chat (blocked, or never opened). A person's messages are held until they
        write to the bot, not dead-lettered; the workflow decides who is told."""
        self.stats["blocked"] += 1
        async with self.s.db.transaction() as tx:
            if message.person_id is None:
                await storage.outbox.mark_dead(tx, message.id, f"403 {error}")
            else:
                await storage.outbox.hold(tx, message.id, f"403 {error}")
        await self.s.workflow.reachability.refused(message.person_id, "blocked" if "blocked" in error else
                                                   "not_started")


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
