"""Never lose an update Telegram considers delivered.

python-telegram-bot confirms a batch of updates when it asks for the next one (and answers a
webhook call once the update is queued), so a crash after that but before the handlers ran
would drop them. Both paths await ``update_queue.put`` first, so the ledger's queue writes
every update to SQLite there, before it can be confirmed; the application marks it handled
after processing, and at start replays what was recorded but not handled.
An update id already handled is skipped (Telegram redelivers unconfirmed ones after a
restart), and an update is attempted at most twice: a crash while handling repeats it once.
"""

from __future__ import annotations

import asyncio
import json
import logging

from telegram import Update
from telegram.ext import Application

from bot import storage
from bot.core.clock import Clock
from bot.core.states import UpdateState
from bot.storage.db import Database

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 2


class UpdateLedger:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(self, updates: list[Update]) -> None:
        rows = [(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
        async with self.db.transaction() as tx:
            await storage.updates.record_updates(tx, rows, self.clock.now())

    async def begin(self, update_id: int) -> bool:
        """Whether to handle this update now (not yet handled, attempts left)."""
        async with self.db.transaction() as tx:
            state = await storage.updates.begin_update(tx, update_id)
            if state is None:
                return True  # not from getUpdates (a webhook, a test injecting it): handle it
            status, attempts = state
            if status != UpdateState.RECEIVED:
                return False
            if attempts > MAX_ATTEMPTS:
                await storage.updates.finish_update(tx, update_id, UpdateState.FAILED, self.clock.now())
                log.error("update %s abandoned after %s interrupted attempts", update_id, attempts - 1)
                return False
            return True

    async def finish(self, update_id: int) -> None:
        async with self.db.transaction() as tx:
            await storage.updates.finish_update(tx, update_id, UpdateState.HANDLED, self.clock.now())

    async def replay(self, app: Application) -> int:
        """Put recorded-but-unhandled updates back in the queue, oldest first (at start)."""
        recorded = await storage.updates.unfinished_updates(self.db)
        for row in recorded:
            update = Update.de_json(json.loads(row.payload), app.bot)
            if update is not None:
                await app.update_queue.put(update)
        if recorded:
            log.info("replaying %d update(s) received before a restart", len(recorded))
        return len(recorded)


class LedgerQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The Application's update queue: an update is on disk before anyone can confirm it."""

    def __init__(self, ledger: UpdateLedger) -> None:
        super().__init__()
        self.ledger = ledger

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            await self.ledger.record([item])
        await super().put(item)


class LedgerApplication(Application):  # type: ignore[type-arg]
    """Application that consults the ledger around every update it processes."""

    ledger: UpdateLedger | None = None

    async def process_update(self, update: object) -> None:
        ledger = self.ledger
        if ledger is None or not isinstance(update, Update):
            await super().process_update(update)
            return
        if not await ledger.begin(update.update_id):
            return
        try:
            await super().process_update(update)
        finally:
            await ledger.finish(update.update_id)
