"""One rate limiter for every message the bot sends (replies and the outbox alike): fair and exact.

Telegram asks bots to stay under about 30 messages per second overall, one per second in a
private chat and 20 per minute in a group. Every send that creates a message waits here for a
*grant*; edits, callback answers and other calls pass straight through.

* **Queues.** One queue per priority (0 replies to what someone just did, 1 normal notices,
  2 bulk reminders and digests), each served in arrival order. A grant goes to the first waiting
  send, most urgent queue first, whose chat may receive now; a send whose chat is still paced
  does not hold up sends to other chats, and no later send to a ready chat overtakes an earlier
  one of the same priority. So a reply waits only for its own chat's pacing and the global
  window, never for later arrivals.
* **Global window (exact).** At most ``global_rate`` messages in any window of one second, counted
  from the grant until one second after Telegram answered: a sliding-window log of completion
  times plus the sends in flight. This never exceeds Telegram's count at its end, whatever the
  network delay (PTB's AIORateLimiter uses aiolimiter's leaky bucket, which bursts ``max_rate``
  and then drips, so a one-second window can see almost twice the rate).
* **Per-chat pacing (exact).** A chat's next message is granted ``private_interval`` (groups:
  ``group_interval``) after Telegram answered the previous one, so two never land closer; a
  ``retry_after`` from a 429 pushes the chat's next grant back as far.
* **Update slots.** While a handler's send waits for its grant it gives its concurrent-update
  slot back (``scheduler.updates.slot_lent``), so replies parked here never starve other chats.

Nothing polls: a waiting send sleeps on a future that the dispatcher resolves, woken by a
completion or by a timer set for the next moment a chat or the window frees up.

Retries: a handler's reply is retried here on 429 (after ``retry_after``) and on network
errors/5xx (short backoff), a few times. The outbox sender passes
``rate_limit_args={"retries": 0, "priority": n}``: it reschedules durably itself.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from scheduler.updates import slot_lent

log = logging.getLogger(__name__)

SENDING_ENDPOINTS = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "sendAudio", "sendVideo", "sendVoice",
    "sendAnimation", "sendSticker", "sendLocation", "sendContact", "sendPoll", "copyMessage", "forwardMessage",
    "sendVenue", "sendDice",
})
PRIVATE_INTERVAL = 1.02
GROUP_INTERVAL = 3.05
GLOBAL_RATE = 28
"""Messages per second overall: under Telegram's ~30 with a margin for clock differences."""
SHARED_RATE = 25
"""Several workers: bot-wide slots per second. A send reaches Telegram some time after its slot, and that lag
differs between workers (a busy event loop, a restarted worker warming up); 28 slots a second let a few late
sends bunch with punctual ones into 31 in one second (seen once in the SIGKILL test), 25 leave room for five."""
WINDOW = 1.0
DEFAULT_RETRIES = 4
NO_RETRY_ENDPOINTS = frozenset({"getUpdates", "getMe", "close", "logOut"})
PRIORITIES = (0, 1, 2)
REPLY, NORMAL, BULK = PRIORITIES


class SharedPacer(Protocol):
    async def reserve(self, chat: int | str, chat_interval: float, overall_interval: float) -> float: ...
    async def sent(self, chat: int | str, pause: float) -> None: ...


@dataclass(eq=False)
class _Ticket:
    key: int | str
    priority: int
    seq: int
    future: asyncio.Future[None] = field(repr=False)


class ChatRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self,
        private_interval: float = PRIVATE_INTERVAL,
        group_interval: float = GROUP_INTERVAL,
        global_rate: int = GLOBAL_RATE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.private_interval = private_interval
        self.group_interval = group_interval
        self.global_rate = global_rate
        self.monotonic = monotonic
        self._queues: dict[int, deque[_Ticket]] = {p: deque() for p in PRIORITIES}
        self._next: dict[int | str, float] = {}  # monotonic time a chat may receive again
        self._busy: set[int | str] = set()  # chats with a message in flight
        self._window: deque[float] = deque()  # completion times within the last WINDOW
        self._inflight = 0
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self.shared: SharedPacer | None = None
        """Several workers: the pacing all workers share (storage.pacing), asked after this process's
        own grant and told when Telegram answered."""
        self._reporting: set[asyncio.Task[None]] = set()
        self.stats = {"granted": 0, "waited": 0, "max_queue": 0}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ------------------------------------------------------------------ state the sender reads

    def ready_at(self, chat_id: int | str) -> float:
        """Monotonic time at which this chat may receive its next message (a chat in flight: later)."""
        if chat_id in self._busy:
            return float("inf")
        return self._next.get(chat_id, 0.0)

    def next_free(self) -> float | None:
        """The earliest future moment some paced chat frees up (for the sender's idle wait)."""
        now = self.monotonic()
        later = [t for t in self._next.values() if t > now]
        return min(later) if later else None

    def waiting(self) -> int:
        return sum(len(q) for q in self._queues.values())

    # ------------------------------------------------------------------ the dispatcher

    def _interval(self, key: int | str) -> float:
        if isinstance(key, str) or key < 0:
            return self.group_interval
        return self.private_interval

    def _room(self, now: float) -> int:
        while self._window and now - self._window[0] >= WINDOW:
            self._window.popleft()
        return self.global_rate - len(self._window) - self._inflight

    def _pump(self) -> None:
        """Grant every waiting send that may go now, most urgent queue first, each in arrival order."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self.monotonic()
        room = self._room(now)
        wake: float | None = None
        for priority in PRIORITIES:
            queue = self._queues[priority]
            if not queue:
                continue
            kept: deque[_Ticket] = deque()
            while queue:
                ticket = queue.popleft()
                if ticket.future.done():  # cancelled while waiting
                    continue
                key = ticket.key
                ready = self._next.get(key, 0.0)
                if room > 0 and key not in self._busy and ready <= now:
                    self._busy.add(key)
                    self._inflight += 1
                    room -= 1
                    ticket.future.set_result(None)
                    self.stats["granted"] += 1
                    continue
                kept.append(ticket)
                if key not in self._busy and ready > now:
                    wake = ready if wake is None else min(wake, ready)
            self._queues[priority] = kept
        if self.waiting() and room <= 0 and self._window:
            free = self._window[0] + WINDOW
            wake = free if wake is None else min(wake, free)
        if wake is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0.0, wake - now), self._pump)

    def _done(self, key: int | str, pause: float = 0.0) -> None:
        if self.shared is not None:
            task = asyncio.get_running_loop().create_task(self._report_sent(key, max(self._interval(key), pause)))
            self._reporting.add(task)
            task.add_done_callback(self._reporting.discard)
        now = self.monotonic()
        self._inflight -= 1
        self._window.append(now)
        self._busy.discard(key)
        self._next[key] = max(self._next.get(key, 0.0), now + max(self._interval(key), pause))
        if len(self._next) > 4096:  # forget chats whose pacing has long passed
            self._next = {k: t for k, t in self._next.items() if t > now}
        self._pump()

    async def _grant(self, key: int | str, priority: int) -> None:
        loop = asyncio.get_running_loop()
        ticket = _Ticket(key, priority, next(self._seq), loop.create_future())
        self._queues[priority].append(ticket)
        self.stats["max_queue"] = max(self.stats["max_queue"], self.waiting())
        self._pump()
        if not ticket.future.done():
            self.stats["waited"] += 1
            try:
                async with slot_lent():
                    await ticket.future
            except BaseException:
                if ticket.future.done() and not ticket.future.cancelled():
                    self._done(key)  # granted just as we were cancelled: give the grant back
                else:
                    ticket.future.cancel()
                raise
        if self.shared is not None:
            try:
                await self._shared_wait(key)
            except BaseException:
                self._done(key)
                raise

    async def _shared_wait(self, key: int | str) -> None:
        """The bot-wide moment for this send (several workers); a database that cannot answer costs only
        this process's own pacing, which still holds its share."""
        assert self.shared is not None
        while True:
            try:
                wait = await self.shared.reserve(key, self._interval(key), WINDOW / min(self.global_rate, SHARED_RATE))
            except Exception as exc:
                log.warning("shared send pacing unavailable (%r); pacing this worker alone", exc)
                return
            if wait == 0:
                return
            self.stats["shared_waits"] = self.stats.get("shared_waits", 0) + 1
            async with slot_lent():
                await asyncio.sleep(abs(wait))
            if wait > 0:
                return  # the slot was reserved; a negative wait was the chat's pacing: ask again

    async def _report_sent(self, key: int | str, pause: float) -> None:
        assert self.shared is not None
        try:
            await self.shared.sent(key, pause)
        except Exception as exc:  # the chat's in-flight mark then simply runs out (30 s)
            log.warning("could not report a send to the shared pacing: %r", exc)

    async def reserve(self, chat_id: int | str, priority: int = BULK) -> None:
        """Wait for a grant to ``chat_id`` now; the next send with ``rate_limit_args={"reserved": True}`` uses
        it (the outbox sender marks a row 'sending' only once it may really go). Unused: :meth:`release`."""
        await self._grant(_key(chat_id), priority)

    def release(self, chat_id: int | str) -> None:
        """Give back a reserved grant that was not used (counted as a send: the window stays safe)."""
        self._done(_key(chat_id))

    # ------------------------------------------------------------------ PTB's interface

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]] | None]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]] | None:
        args_ = rate_limit_args or {}
        retries = 0 if endpoint in NO_RETRY_ENDPOINTS else int(args_.get("retries", DEFAULT_RETRIES))
        priority = int(args_.get("priority", BULK if args_.get("bulk") else REPLY))
        priority = min(max(priority, REPLY), BULK)
        attempt = 0
        while True:
            try:
                return await self._paced(callback, args, kwargs, endpoint, data, priority, args_.get("pace_chat"),
                                         reserved=bool(args_.get("reserved")) and attempt == 0)
            except RetryAfter as exc:
                if attempt >= retries:
                    raise
                await asyncio.sleep(_seconds(exc.retry_after))
            except NetworkError as exc:  # TimedOut and 5xx; PTB's BadRequest is a NetworkError too, never retried
                if isinstance(exc, BadRequest) or attempt >= retries:
                    raise
                await asyncio.sleep(0.25 * 2**attempt)
            attempt += 1

    async def _paced(
        self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any, kwargs: dict[str, Any], endpoint: str,
        data: dict[str, Any], priority: int, pace_chat: int | None = None, *, reserved: bool = False,
    ) -> Any:
        """``pace_chat``: pace another call (a chat's command menu) as if it were a message to that chat.
        ``reserved``: the caller already holds this chat's grant (:meth:`reserve`)."""
        chat_id = data.get("chat_id") if pace_chat is None else pace_chat
        if (endpoint not in SENDING_ENDPOINTS and pace_chat is None) or chat_id is None:
            return await callback(*args, **kwargs)
        key = _key(chat_id)
        if not reserved:
            await self._grant(key, priority)
        pause = 0.0
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            pause = _seconds(exc.retry_after)
            raise
        finally:
            self._done(key, pause)


def _key(chat_id: int | str) -> int | str:
    return int(chat_id) if str(chat_id).lstrip("-").isdigit() else str(chat_id)


def _seconds(value: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
