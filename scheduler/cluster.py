"""Several `alur run` workers sharing one PostgreSQL (``ALUR_WORKERS`` > 1): who does what, and how.

* **Receiving.** Long polling: Telegram gives updates to one getUpdates consumer per bot, so the
  worker elected ``Role.RECEIVER`` polls and only *records* each batch (one transaction, then
  NOTIFY); it does not handle them itself. Webhook: every worker behind the load balancer records
  what it is posted. Either way an update is on disk before Telegram counts it delivered, once
  (its id is the key).
* **Claiming per chat.** Every worker (the receiver too) claims recorded updates from the
  database, a chat's waiting updates together (``storage.updates.claim_chats``): a chat another
  live worker holds is skipped, so one chat is never handled by two workers at once and its
  updates keep their order in the claiming worker's per-chat queue. A claim is a lease of
  ``LEASE_SECONDS`` that the worker renews every ``RENEW_EVERY`` while it lives; a worker killed
  with SIGKILL stops renewing, and once its leases run out another worker takes the chat's
  waiting updates over (an update taken over counts one more attempt; after ``MAX_ATTEMPTS`` it
  is given up, as a replay is on one process).
* **Webhook order.** Behind a load balancer, two updates of one chat may be posted to two workers,
  and the later one recorded first. Telegram numbers a bot's updates one by one, so the claimer
  holds back every chat whose waiting updates lie above an update id not recorded yet
  (``storage.updates.missing_below``) until that id is recorded, or has been missing for
  ``SETTLE_SECONDS`` (each missing id holds for that long once, counted from when this worker first
  saw it missing). An update recorded more than ``SETTLE_SECONDS`` after a later one of its chat
  (a worker stalled that long between receiving and committing, or Telegram redelivering an update
  a dead worker never recorded) is still handled, once, but after the later one. Long polling needs
  no hold: the receiver records each batch in one transaction.
* **Elected roles.** The tick (reminder sweep, digest round, SLA fold, retention), the outbox
  sender and the receiver each run on one worker at a time: a session advisory lock held on a
  connection of that worker's own (``Database.lead``). A dead worker's connection closes and
  PostgreSQL frees its locks; the others try every ``LEAD_EVERY`` second, so the role moves
  within about a second. The new sender first puts back what the dead one left 'sending' (sent at
  most twice, as after a crash on one process).
* **Telegram's limits** hold for the bot as a whole: every send, a handler's reply on any worker
  or the elected sender's notification, takes its moment from the pacing rows all workers share
  (``storage.pacing``, one row lock per send), after this worker's own limiter.

Every state change is still one transaction (state + events + outbox), as on SQLite; the rows'
conditional updates decide races between workers under READ COMMITTED (bot/storage/db.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from telegram import Update

from bot import storage
from bot.core.states import Role, UpdateState
from scheduler.ledger import MAX_ATTEMPTS, UpdateLedger

if TYPE_CHECKING:
    from scheduler.application import AlurApplication

log = logging.getLogger(__name__)

LEAD_EVERY = 1.0
"""Seconds between tries to take (or checks that this worker still holds) each role."""
LEASE_SECONDS = 10.0
"""How long a claim outlives its worker's last sign of life."""
RENEW_EVERY = 2.0
CLAIM_EVERY = 0.5
"""The claim loop's fallback poll; NOTIFY from the receiver and this worker's own marks wake it sooner."""
SETTLE_SECONDS = 2.0
"""Webhook mode: how long a missing update id holds back the chats whose waiting updates come after it."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Cluster:
    def __init__(self, app: AlurApplication, *, webhook: bool = False, worker: str | None = None) -> None:
        self.app = app
        self.db = app.services.db
        ledger = app.ledger
        assert ledger is not None
        self.ledger: UpdateLedger = ledger
        self.webhook = webhook
        self.worker = worker or worker_name()
        self.leading: set[Role] = set()
        self.wake = asyncio.Event()
        self.stats = {"claimed": 0, "taken_over": 0, "abandoned": 0, "claims": 0, "held": 0}
        self.held: set[int] = set()
        """Updates this worker claimed that may still be waiting: the leases it renews."""
        self._missing_since: dict[int, float] = {}
        self.monotonic: Callable[[], float] = time.monotonic
        self._tasks: list[asyncio.Task[None]] = []
        ledger.shared = True
        ledger.after_marks = self.wake.set

    async def start(self) -> None:
        await self.db.listen(storage.updates.UPDATES_CHANNEL, self.wake.set)
        self._tasks = [
            asyncio.create_task(self._forever("leadership", self._lead_round, LEAD_EVERY), name="cluster-lead"),
            asyncio.create_task(self._claim_loop(), name="cluster-claim"),
            asyncio.create_task(self._forever("lease renewal", self._renew, RENEW_EVERY), name="cluster-renew"),
        ]
        log.info("pekerja %s bergabung (klaim per chat, sewa %.0f detik)", self.worker, LEASE_SECONDS)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        for role in list(self.leading):
            await self._lost(role)
        await self.db.resign()  # the locks go at once: a standby takes over within LEAD_EVERY
        log.info("pekerja %s berhenti: %s", self.worker, ", ".join(f"{k} {v}" for k, v in self.stats.items()))

    def leads(self, role: Role) -> bool:
        return role in self.leading

    # ------------------------------------------------------------------ loops

    async def _forever(self, what: str, work: object, every: float) -> None:
        assert callable(work)
        while True:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again", what)
            await asyncio.sleep(every)

    async def _lead_round(self) -> None:
        for role in Role:
            if role is Role.RECEIVER and self.webhook:
                continue  # every worker receives what the load balancer posts to it
            held = await self.db.lead(role)
            if held and role not in self.leading:
                self.leading.add(role)
                log.info("pekerja %s kini menjalankan peran %s", self.worker, role)
                await self._gained(role)
            elif not held and role in self.leading:
                self.leading.discard(role)
                log.warning("pekerja %s kehilangan peran %s", self.worker, role)
                await self._lost(role)

    async def _gained(self, role: Role) -> None:
        if role is Role.RECEIVER:
            assert self.app.updater is not None
            if not self.app.updater.running:
                await self.app.updater.start_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
        elif role is Role.SENDER and self.app.sender is not None:
            self.app.sender.start()

    async def _lost(self, role: Role) -> None:
        self.leading.discard(role)
        if role is Role.RECEIVER:
            if self.app.updater is not None and self.app.updater.running:
                await self.app.updater.stop()
        elif role is Role.SENDER and self.app.sender is not None:
            await self.app.sender.stop()

    async def _renew(self) -> None:
        asked = list(self.held)
        async with self.db.transaction() as tx:
            waiting = await storage.updates.renew_leases(tx, self.worker, LEASE_SECONDS, asked)
        self.held -= set(asked) - waiting  # handled since (claims made meanwhile stay held)

    async def _claim_loop(self) -> None:
        while True:
            self.wake.clear()
            try:
                taken = await self.claim()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming updates failed; trying again")
                taken = 0
            if taken:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), CLAIM_EVERY)

    async def claim(self) -> int:
        """One claim: hand this worker's newly claimed updates to its handlers; how many."""
        hold = self._hold if self.webhook else None
        rows = await storage.updates.claim_chats(self.db, self.worker, LEASE_SECONDS, hold=hold)
        self.stats["claims"] += 1
        taken = 0
        for row in rows:
            if row.attempts > MAX_ATTEMPTS:
                log.error("update %s abandoned after %s interrupted attempts", row.update_id, row.attempts - 1)
                self.stats["abandoned"] += 1
                self.ledger.finish(row.update_id, UpdateState.FAILED)
                continue
            if row.payload is None:
                continue
            self.held.add(row.update_id)
            update = Update.de_json(json.loads(row.payload), self.app.bot)
            if update is None or not self.ledger.take(update):
                continue
            taken += 1
            if row.attempts > 1:
                self.stats["taken_over"] += 1
        self.stats["claimed"] += taken
        return taken

    def _hold(self, chat: str, missing: list[int]) -> bool:
        """Webhook mode: hold a chat back while an update id below its waiting ones has been missing
        for less than ``SETTLE_SECONDS`` (another worker may be recording it: perhaps this chat's)."""
        now = self.monotonic()
        held = False
        for update_id in missing:
            if now - self._missing_since.setdefault(update_id, now) < SETTLE_SECONDS:
                held = True
        if missing and len(self._missing_since) > 4 * storage.updates.GAP_WINDOW:
            newest = max(self._missing_since)  # ids this far below are out of every chat's window
            self._missing_since = {u: t for u, t in self._missing_since.items()
                                   if u > newest - 2 * storage.updates.GAP_WINDOW}
        if held:
            self.stats["held"] += 1
        return held
