"""Never lose an update Telegram considers delivered, never handle one twice, never stall polling.

python-telegram-bot confirms a batch of updates when it asks for the next one (getUpdates with a
higher offset), and answers a webhook call once ``update_queue.put`` returns. So:

* **Recording, batched.** ``put`` buffers the update; one transaction writes the whole batch PTB
  fetched (group commit). Polling: the getUpdates request itself awaits :meth:`UpdateLedger.flush`
  (scheduler/request.py; PTB sends getUpdates past the rate limiter), so nothing is confirmed before
  it is on disk. Webhook: ``put`` waits for its flush.
  An update reaches the handlers only after it is recorded.
* **A locked database** (another process holding the write lock, a backup) makes a write retry
  with backoff, for as long as it takes; nothing raises into PTB's polling loop, which simply waits
  (Telegram keeps the updates meanwhile), and every update is handled once the lock is released.
* **Exactly once.** A recorded update counts as one attempt; an update id seen again (Telegram
  redelivering after a restart, a replay racing a redelivery) is skipped while this process has it
  or once it is handled. Handled and dropped marks are written in batches too, with the same
  retries; until written, the process remembers them, so a failed mark cannot repeat a reply here.
  After a crash, recorded-but-unhandled updates are replayed at start, at most ``MAX_ATTEMPTS``.
* **Privacy.** The payload is cleared when an update is handled or dropped.

If the writer dies anyway (a bug, a full disk), ``failed`` is set and ``alur run`` exits non-zero
so a service manager restarts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot import storage
from bot.core.clock import Clock
from bot.core.states import UpdateState
from bot.storage.db import Database

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 2
BACKOFF = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


def is_busy(exc: BaseException) -> bool:
    """SQLite's 'database is locked' / 'busy': another writer; worth waiting for."""
    return isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc).lower() for word in ("locked", "busy"))


async def retrying(what: str, write: Callable[[], Awaitable[Any]], stopping: Callable[[], bool] = lambda: False) -> Any:
    """Run ``write`` until it succeeds, waiting with backoff while the database is locked."""
    attempt = 0
    while True:
        try:
            return await write()
        except Exception as exc:
            if not is_busy(exc) or stopping():
                raise
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            if attempt in (0, 10) or attempt % 50 == 0:
                log.warning("database busy while %s; retrying (attempt %d)", what, attempt + 1)
            attempt += 1
            await asyncio.sleep(delay)


class _RecentIds:
    """The last ``size`` update ids seen: Telegram redelivers only unconfirmed (recent) ones."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._ids: set[int] = set()
        self._order: deque[int] = deque()

    def add(self, uid: int) -> None:
        if uid in self._ids:
            return
        self._ids.add(uid)
        self._order.append(uid)
        if len(self._order) > self.size:
            self._ids.discard(self._order.popleft())

    def __contains__(self, uid: object) -> bool:
        return uid in self._ids


class UpdateLedger:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.queue: asyncio.Queue[Any] | None = None  # the Application's queue, for recorded updates
        self._incoming: list[tuple[Update, asyncio.Future[None] | None]] = []
        self._finished: dict[int, UpdateState] = {}
        self._claimed = _RecentIds()  # ids this process is handling or has handled
        self._flushing: asyncio.Task[None] | None = None
        self._marking: asyncio.Task[None] | None = None
        self._stopping = False
        self.failed: BaseException | None = None
        self.stats = {"recorded": 0, "transactions": 0, "skipped": 0, "retried": 0}
        self.shared = False
        """Several workers (scheduler/cluster.py): recorded updates are not handed to this process's
        handlers here; every worker claims them per chat from the database."""
        self.after_marks: Callable[[], None] | None = None
        """Called once marks are written (a chat's next updates may be claimed then)."""

    # ------------------------------------------------------------------ recording

    def add(self, update: Update, *, wait: bool = False) -> asyncio.Future[None] | None:
        """Buffer one update for the next group commit; a future when the caller must wait for it."""
        future = asyncio.get_running_loop().create_future() if wait else None
        self._incoming.append((update, future))
        self._schedule_flush()
        return future

    def _schedule_flush(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_loop(), name="ledger-flush")

    async def flush(self) -> None:
        """Everything buffered so far is on disk (and handed to the handlers) when this returns."""
        while self._incoming or (self._flushing is not None and not self._flushing.done()):
            if self.failed is not None:
                raise RuntimeError("the update ledger stopped") from self.failed
            self._schedule_flush()
            task = self._flushing
            assert task is not None
            await asyncio.shield(task)

    async def _flush_loop(self) -> None:
        await asyncio.sleep(0)  # let the rest of the batch arrive: one transaction for all of it
        while self._incoming:
            batch, self._incoming = self._incoming, []
            try:
                accepted = await retrying("recording updates", lambda b=batch: self._record(b))  # type: ignore[misc]
            except Exception as exc:
                self.failed = exc
                log.critical("the update ledger cannot write; the process must restart", exc_info=exc)
                for _, future in batch:
                    if future is not None and not future.done():
                        future.set_exception(exc)
                raise
            for update in accepted:
                if self.queue is not None:
                    self.queue.put_nowait(update)
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_result(None)

    async def _record(self, batch: list[tuple[Update, asyncio.Future[None] | None]]) -> list[Update]:
        updates = [u for u, _ in batch]
        if self.shared:
            return await self._record_shared(updates)
        rows = [(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
        accepted: list[Update] = []
        async with self.db.transaction() as tx:
            results = dict(await storage.updates.record_updates(tx, rows, self.clock.now()))
            known = [uid for uid, new in results.items() if not new]
            states = await storage.updates.update_states(tx, known) if known else {}
            for update in updates:
                uid = update.update_id
                if uid in self._claimed:
                    self.stats["skipped"] += 1
                    continue
                if not results.get(uid, False):
                    state, attempts = states.get(uid, (UpdateState.HANDLED, 0))
                    if state != UpdateState.RECEIVED:
                        self.stats["skipped"] += 1
                        continue
                    if await storage.updates.count_attempt(tx, uid) > MAX_ATTEMPTS:
                        await storage.updates.finish_updates(tx, [(uid, UpdateState.FAILED)], self.clock.now())
                        log.error("update %s abandoned after %s interrupted attempts", uid, attempts)
                        continue
                self._claimed.add(uid)
                accepted.append(update)
        self.stats["transactions"] += 1
        self.stats["recorded"] += len(rows)
        return accepted

    async def _record_shared(self, updates: list[Update]) -> list[Update]:
        """Several workers: write the batch with each update's chat key and wake the claimers; an id
        already recorded (Telegram redelivering to a new receiver) is left to the claims."""
        rows = [(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False), chat_key(u)) for u in updates]
        async with self.db.transaction() as tx:
            results = await storage.updates.record_updates(tx, rows, self.clock.now())
            await storage.updates.announce_updates(tx)
        self.stats["skipped"] += sum(1 for _, new in results if not new)
        self.stats["transactions"] += 1
        self.stats["recorded"] += len(rows)
        return []

    def take(self, update: Update) -> bool:
        """Several workers: an update this worker claimed goes to its handlers unless it has it already."""
        uid = update.update_id
        if uid in self._claimed or uid in self._finished:
            return False
        self._claimed.add(uid)
        if self.queue is not None:
            self.queue.put_nowait(update)
        return True

    # ------------------------------------------------------------------ marking

    def begin(self, update: Update) -> bool:
        """Whether to handle this update now: recorded updates were claimed when written."""
        uid = update.update_id
        if uid in self._finished:
            return False
        self._claimed.add(uid)  # a webhook test or replay putting it straight in: still once per process
        return True

    def finish(self, update_id: int, state: UpdateState = UpdateState.HANDLED) -> None:
        """Remember the outcome now; write it with the next batch of marks."""
        self._finished[update_id] = state
        self._claimed.add(update_id)
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_loop(), name="ledger-marks")

    async def _mark_loop(self) -> None:
        await asyncio.sleep(0)
        while True:
            pending = dict(self._finished)
            if not pending:
                return
            try:
                await retrying("marking updates handled", lambda p=pending: self._mark(p))  # type: ignore[misc]
            except Exception as exc:
                self.failed = exc
                log.critical("the update ledger cannot write; the process must restart", exc_info=exc)
                raise
            for uid, state in pending.items():
                if self._finished.get(uid) == state:
                    del self._finished[uid]
            if self.after_marks is not None:
                self.after_marks()

    async def _mark(self, pending: dict[int, UpdateState]) -> None:
        async with self.db.transaction() as tx:
            await storage.updates.finish_updates(tx, list(pending.items()), self.clock.now())
        self.stats["transactions"] += 1

    async def drain(self) -> None:
        """Write every buffered update and mark (shutdown, tests)."""
        await self.flush()
        while self._finished or (self._marking is not None and not self._marking.done()):
            if self._marking is None or self._marking.done():
                self._marking = asyncio.create_task(self._mark_loop(), name="ledger-marks")
            await asyncio.shield(self._marking)

    # ------------------------------------------------------------------ restart

    async def replay(self, app: Application) -> int:
        """Put recorded-but-unhandled updates back in the queue, oldest first (at start). Several
        workers: nothing here, the claims take them over once their worker's lease has run out."""
        if self.shared:
            return 0
        recorded = await storage.updates.unfinished_updates(self.db)
        replayed = 0
        for row in recorded:
            if row.payload is None:
                continue
            update = Update.de_json(json.loads(row.payload), app.bot)
            if update is None:
                continue
            attempts = await retrying("counting a replay", lambda uid=row.update_id: self._count(uid))  # type: ignore[misc]
            if attempts > MAX_ATTEMPTS:
                await retrying("abandoning an update", lambda uid=row.update_id: self._mark({uid: UpdateState.FAILED}))  # type: ignore[misc]
                log.error("update %s abandoned after %s interrupted attempts", row.update_id, attempts - 1)
                continue
            self._claimed.add(update.update_id)
            app.update_queue.put_nowait(update)
            replayed += 1
        if replayed:
            log.info("replaying %d update(s) received before a restart", replayed)
        return replayed

    async def _count(self, update_id: int) -> int:
        async with self.db.transaction() as tx:
            return await storage.updates.count_attempt(tx, update_id)


def chat_key(update: Update) -> str:
    """The key a chat's updates are claimed by together: the chat, else the user (as the per-chat processor)."""
    if update.effective_chat is not None:
        return str(update.effective_chat.id)
    if update.effective_user is not None:
        return f"user:{update.effective_user.id}"
    return "other"


class LedgerQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The Application's update queue: an update is on disk before anyone can confirm it.

    ``wait_for_disk``: a webhook answers Telegram when ``put`` returns, so ``put`` waits for the
    write; polling confirms only with the next getUpdates, which the ledger's flush precedes.
    """

    def __init__(self, ledger: UpdateLedger, *, wait_for_disk: bool = False) -> None:
        super().__init__()
        self.ledger = ledger
        self.wait_for_disk = wait_for_disk
        ledger.queue = self

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            future = self.ledger.add(item, wait=self.wait_for_disk)
            if future is not None:
                await future
            return
        await super().put(item)


class LedgerApplication(Application):  # type: ignore[type-arg]
    """Application that consults the ledger around every update it processes."""

    ledger: UpdateLedger | None = None

    async def process_update(self, update: object) -> None:
        ledger = self.ledger
        if ledger is None or not isinstance(update, Update):
            await super().process_update(update)
            return
        if not ledger.begin(update):
            return
        try:
            await super().process_update(update)
        finally:
            ledger.finish(update.update_id)
