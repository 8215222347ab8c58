"""One rate limiter for every message the bot sends (replies and the outbox alike).

Telegram asks bots to stay under about 30 messages per second overall, one per second in
a private chat and 20 per minute in a group. PTB's own AIORateLimiter does not pace private
chats, so this limiter does: each chat has its own queue (messages to one chat keep their
order) and a shared window caps the total. Edits and callback answers are not messages and
pass straight through the pacing.

Retries: a handler's reply (an answer to what someone just did) is retried here on 429
(after ``retry_after``) and on network errors/5xx (short backoff), a few times. The outbox
sender passes ``rate_limit_args={"retries": 0, "bulk": …}``: it reschedules durably itself, and
its normal and bulk notices give way to replies.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

SENDING_ENDPOINTS = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "sendAudio", "sendVideo", "sendVoice",
    "sendAnimation", "sendSticker", "sendLocation", "sendContact", "sendPoll", "copyMessage", "forwardMessage",
})
PRIVATE_INTERVAL = 1.02
GROUP_INTERVAL = 3.05
GLOBAL_RATE = 25
DEFAULT_RETRIES = 4
NO_RETRY_ENDPOINTS = frozenset({"getUpdates", "getMe", "close", "logOut"})


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
        self._next: dict[int | str, float] = {}
        self._locks: dict[int | str, asyncio.Lock] = {}
        self._window: deque[float] = deque()
        self._inflight = 0
        self._urgent = 0
        self._chat_urgent: dict[int | str, int] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def ready_at(self, chat_id: int | str) -> float:
        """Monotonic time at which this chat may receive its next message."""
        return self._next.get(chat_id, 0.0)

    def _interval(self, chat_id: int | str) -> float:
        if isinstance(chat_id, str) or chat_id < 0:
            return self.group_interval
        return self.private_interval

    async def _global(self, bulk: bool) -> None:
        """Wait for room under the overall rate; bulk sends also wait while any reply is waiting.

        Room means fewer than ``global_rate`` messages in flight or completed within the last
        second (counting in-flight requests keeps bunched arrivals at Telegram under the limit).
        Replies to what someone just did are never queued behind reminders and digests.
        """
        if not bulk:
            self._urgent += 1
        try:
            while True:
                now = self.monotonic()
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) + self._inflight < self.global_rate and (not bulk or self._urgent == 0):
                    self._inflight += 1
                    return
                wait = 1.0 - (now - self._window[0]) + 0.001 if self._window else 0.01
                await asyncio.sleep(min(max(wait, 0.001), 0.05))
        finally:
            if not bulk:
                self._urgent -= 1

    def _done(self) -> None:
        self._inflight -= 1
        self._window.append(self.monotonic())

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
        bulk = bool(args_.get("bulk"))
        attempt = 0
        while True:
            try:
                return await self._paced(callback, args, kwargs, endpoint, data, bulk)
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
        data: dict[str, Any], bulk: bool,
    ) -> Any:
        """Send when the chat may receive again; a reply waiting for the chat goes before a bulk message."""
        chat_id = data.get("chat_id")
        if endpoint not in SENDING_ENDPOINTS or chat_id is None:
            return await callback(*args, **kwargs)
        key: int | str = int(chat_id) if str(chat_id).lstrip("-").isdigit() else str(chat_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        if not bulk:
            self._chat_urgent[key] = self._chat_urgent.get(key, 0) + 1
        try:
            while True:
                async with lock:
                    wait = self._next.get(key, 0.0) - self.monotonic()
                    if wait <= 0 and (not bulk or not self._chat_urgent.get(key)):
                        await self._global(bulk)
                        try:
                            return await callback(*args, **kwargs)
                        finally:
                            self._done()
                            # counted from when Telegram has the message: two sends never land closer
                            self._next[key] = self.monotonic() + self._interval(key)
                # not this one's turn yet: wait outside the lock so a reply can overtake a bulk message
                await asyncio.sleep(min(max(wait, 0.005), 0.05))
        finally:
            if not bulk:
                self._chat_urgent[key] -= 1
                if not self._chat_urgent[key]:
                    del self._chat_urgent[key]


def _seconds(value: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
