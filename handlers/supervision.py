"""/ringkasan: a supervisor's digest on demand (the daily one is sent by the scheduler)."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bot.text.charts import overdue_chart
from bot.workflow.digest import DigestBuilder
from handlers import tasks
from handlers.common import reply_error, require_person, services, text_of
from handlers.keyboards import Tap


async def ringkasan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ringkasan: the same digest the supervisor gets each working morning, now."""
    person = await require_person(update, context)
    if person is None:
        return
    s = services(context)
    if s.workflow.supervision.scope_of(person) is None:
        await reply_error(update, context, "supervisor_only")
        return
    builder = DigestBuilder(s.workflow.deps)
    await builder.load(s.clock.now())
    digest = builder.build(person)
    assert digest is not None
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text_of(context, "digest", d=digest.as_payload()), parse_mode="HTML")
    chart = await asyncio.to_thread(overdue_chart, digest.overdue_by_unit, digest.day.isoformat())
    if chart:
        await context.bot.send_photo(chat.id, chart, caption="Langkah terlambat per unit")


async def on_tasks(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await tasks.tugas(update, context)
