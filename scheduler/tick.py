"""Clock ticks: PTB's JobQueue only says 'a minute passed'; the state is in SQLite.

Each tick runs the reminder sweep, folds newly completed steps into the standard-time aggregates,
runs the digest round and wakes the outbox sender; once an hour it applies the retention period
(``ALUR_RETENTION_DAYS``: sent outbox rows, handled updates, events of long-closed cases to the
archive; on PostgreSQL also the send-pacing rows of chats free for an hour). A tick that finds
nothing to do costs a few indexed queries; a tick missed while the bot was down is made up by the
next one (alarms and digests are rows, not jobs). The interval (``ALUR_TICK_SECONDS``, 60 s) and the
delay of the first tick after start (``ALUR_TICK_FIRST``, 5 s) are settings; a tick logs nothing
unless it fails.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram.ext import Application

from bot import storage
from bot.core.states import Role
from bot.runtime import Services
from bot.workflow.analytics import fold_sla
from bot.workflow.digest import DigestRound
from bot.workflow.reminders import ReminderSweep, SweepResult
from handlers.context import AlurContext

log = logging.getLogger(__name__)
TICK_SECONDS = 60.0
FIRST_TICK_SECONDS = 5.0
PRUNE_EVERY = timedelta(hours=1)
_last_prune: weakref.WeakKeyDictionary[object, datetime] = weakref.WeakKeyDictionary()
INTAKE_IDLE = timedelta(minutes=30)
"""An intake question unanswered this long is set aside (the draft stays; the person is told once)."""


@dataclass
class TickResult:
    sweep: SweepResult
    digests: int
    pruned_updates: int = 0
    paused_intakes: int = 0
    pruned_outbox: int = 0
    archived_events: int = 0
    folded_steps: int = 0


def sweeper(services: Services) -> ReminderSweep:
    return ReminderSweep(services.workflow.deps)


async def tick(services: Services) -> TickResult:
    result = await sweeper(services).run()
    now = services.clock.now()
    folded = await fold_sla(services.db, services.calendar, now)
    digests = await DigestRound(services.workflow.deps, services.settings.digest_time,
                                started_at=services.started_at, catch_up=not services.first_start).run()
    paused = await services.intake.pause_idle(INTAKE_IDLE)
    out = TickResult(result, digests, paused_intakes=paused, folded_steps=folded)
    last = _last_prune.get(services.db)
    if last is None or now - last >= PRUNE_EVERY or now < last:
        pruned = await storage.retention.prune(services.db, now, services.settings.retention_days)
        _last_prune[services.db] = now
        out.pruned_updates, out.pruned_outbox = pruned.updates, pruned.outbox
        out.archived_events = pruned.events_archived
    return out


async def _job(context: AlurContext) -> None:
    try:
        if not await context.services.db.lead(Role.TICK):
            return  # another worker sharing the database runs the tick
        result = await tick(context.services)
    except Exception:  # a failed tick is retried by the next one
        log.exception("scheduler tick failed")
        return
    if result.digests or result.paused_intakes or any(result.sweep.sent.values()):
        context.kick_outbox()


def schedule_jobs(app: Application, *, interval: float = TICK_SECONDS, first: float = FIRST_TICK_SECONDS) -> None:
    assert app.job_queue is not None, "install python-telegram-bot[job-queue]"
    app.job_queue.run_repeating(_job, interval=interval, first=first, name="alur-tick")
