"""Updates of different chats are handled concurrently; updates of one chat keep their order.

python-telegram-bot handles one update at a time by default, so one slow reply (waiting for
its chat's one-message-per-second pacing) holds up everyone behind it. Its concurrent mode
gives up ordering, which a conversation (/ajukan) needs. This processor runs up to
``max_concurrent_updates`` updates at once but serialises those of the same chat (or, for
updates without a chat, the same user).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | str, asyncio.Lock] = {}

    @staticmethod
    def key(update: object) -> int | str:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return f"user:{update.effective_user.id}"
        return "other"

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self.key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
