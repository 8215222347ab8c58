"""Updates of different chats run concurrently and fairly; updates of one chat keep their order.

python-telegram-bot handles one update at a time by default, so one slow reply holds up everyone
behind it; its concurrent mode gives up ordering, which a conversation (/ajukan) needs. This
processor:

* keeps one queue per chat (or, for updates without a chat, per user) served in arrival order;
* lets at most ``max_concurrent_updates`` updates work at once, and a chat takes a slot only when
  its update is at the head of its own queue: one chat never holds more than one slot, so a flood
  from one person cannot fill the slots (PTB's own processor takes the slot first, then waits);
* bounds each chat's queue (``max_queue``): what comes beyond it is dropped, and the person gets
  one polite notice per flood (``on_overflow``);
* answers an unregistered sender (``is_stranger``) one message at a time: a message of theirs that
  reaches the head of their queue while more of theirs wait behind it (or within
  ``stranger_interval`` of the last one taken, when set) is dropped without a reply. Their reply
  waits for the chat's pacing with the chat's queue held, so a flood gets at most one reply per
  pacing interval (about a second), and costs nothing else;
* lends a handler's slot back while it waits for the rate limiter (:func:`slot_lent`), so replies
  parked behind Telegram's pacing never hold slots.

Dropped updates are reported to ``on_drop`` (the ledger marks them, so a restart does not replay
them).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

MAX_CONCURRENT = 64
MAX_QUEUE = 20
"""Updates one chat may have waiting or running; a person typing fast never gets near it."""
STRANGER_INTERVAL = 0.0
"""Off by default: someone reading 'type /start' and typing it at once must not be dropped."""
UNBOUNDED = 1_000_000
"""PTB's own semaphore (taken before ``do_process_update``) is set out of the way: the slots live here."""


class Slots:
    """A counting semaphore where a slot given back after a wait is taken again before new work."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.free = count
        self._returning: deque[asyncio.Future[None]] = deque()
        self._new: deque[asyncio.Future[None]] = deque()

    @property
    def in_use(self) -> int:
        return self.count - self.free

    async def acquire(self, *, returning: bool = False) -> None:
        if self.free > 0 and not self._returning and (returning or not self._new):
            self.free -= 1
            return
        future = asyncio.get_running_loop().create_future()
        (self._returning if returning else self._new).append(future)
        try:
            await future
        except BaseException:
            if future.done() and not future.cancelled():
                self.release()
            else:
                future.cancel()
            raise

    def release(self) -> None:
        for queue in (self._returning, self._new):
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)  # the slot passes straight to the waiter
                    return
        self.free += 1


@dataclass
class _Held:
    slots: Slots
    held: bool = True


_current: contextvars.ContextVar[_Held | None] = contextvars.ContextVar("alur_update_slot", default=None)


@contextlib.asynccontextmanager
async def slot_lent() -> AsyncIterator[None]:
    """Give the current update's slot back for the duration (the rate limiter wraps its waits in this)."""
    held = _current.get()
    if held is None or not held.held:
        yield
        return
    held.held = False
    held.slots.release()
    try:
        yield
    finally:
        await held.slots.acquire(returning=True)
        held.held = True


@dataclass
class _ChatQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: int = 0
    notified: bool = False
    last_accepted: float = float("-inf")


Key = int | str


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT,
        *,
        max_queue: int = MAX_QUEUE,
        stranger_interval: float = STRANGER_INTERVAL,
        is_stranger: Callable[[Update], Awaitable[bool]] | None = None,
        on_overflow: Callable[[Update], Awaitable[None]] | None = None,
        on_drop: Callable[[Update, str], Awaitable[None]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(UNBOUNDED)
        self.slots = Slots(max_concurrent_updates)
        self.max_queue = max_queue
        self.stranger_interval = stranger_interval
        self.is_stranger = is_stranger
        self.on_overflow = on_overflow
        self.on_drop = on_drop
        self.monotonic = monotonic
        self._chats: dict[Key, _ChatQueue] = {}
        self.stats = {"processed": 0, "dropped_flood": 0, "dropped_stranger": 0, "notices": 0}

    @property
    def slot_count(self) -> int:
        return self.slots.count

    @staticmethod
    def key(update: object) -> Key:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return f"user:{update.effective_user.id}"
        return "other"

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self.key(update)
        chat = self._chats.setdefault(key, _ChatQueue())
        if chat.pending >= self.max_queue and isinstance(update, Update):
            await self._drop(update, coroutine, "flood", chat)
            return
        chat.pending += 1
        try:
            async with chat.lock:  # FIFO: the chat's updates in arrival order
                if isinstance(update, Update) and await self._stranger_too_soon(update, chat):
                    await self._drop(update, coroutine, "stranger", chat)
                    return
                await self.slots.acquire()
                held = _Held(self.slots)
                token = _current.set(held)
                try:
                    await coroutine
                    self.stats["processed"] += 1
                finally:
                    _current.reset(token)
                    if held.held:
                        self.slots.release()
        finally:
            chat.pending -= 1
            if chat.pending == 0:
                chat.notified = False
                if not chat.lock.locked() and self._chats.get(key) is chat and chat.last_accepted < (
                        self.monotonic() - self.stranger_interval):
                    del self._chats[key]

    async def _stranger_too_soon(self, update: Update, chat: _ChatQueue) -> bool:
        """An unregistered sender's message while another of theirs waits, or within the interval."""
        if self.is_stranger is None or update.message is None:
            return False
        if not await self.is_stranger(update):
            return False
        now = self.monotonic()
        if chat.pending > 1 or now - chat.last_accepted < self.stranger_interval:
            return True
        chat.last_accepted = now
        return False

    async def _drop(self, update: Update, coroutine: Awaitable[Any], reason: str, chat: _ChatQueue) -> None:
        close = getattr(coroutine, "close", None)
        if close is not None:
            close()  # never started: nothing ran
        self.stats["dropped_flood" if reason == "flood" else "dropped_stranger"] += 1
        if self.on_drop is not None:
            try:
                await self.on_drop(update, reason)
            except Exception:
                log.exception("could not record a dropped update")
        if reason == "flood" and not chat.notified and self.on_overflow is not None:
            chat.notified = True
            self.stats["notices"] += 1
            try:
                await self.on_overflow(update)
            except Exception:
                log.exception("could not send the flood notice")

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
