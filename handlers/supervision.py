"""/ringkasan: a supervisor's digest on demand (the daily one is sent by the scheduler)."""

from __future__ import annotations

from telegram import Update

from bot.text.charts import overdue_chart
from bot.workflow.digest import DigestBuilder
from handlers.context import AlurContext
from handlers.replies import reply_error, require_person


async def ringkasan(update: Update, context: AlurContext) -> None:
    """/ringkasan: the same digest the supervisor gets each working morning, now."""
    person = await require_person(update, context)
    if person is None:
        return
    s = context.services
    if s.workflow.supervision.scope_of(person) is None:
        await reply_error(update, context, "supervisor_only")
        return
    builder = DigestBuilder(s.workflow.deps)
    await builder.load(s.clock.now())
    digest = builder.build(person)
    assert digest is not None
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, context.text("digest", d=digest.as_payload()), parse_mode="HTML")
    chart = overdue_chart(digest.overdue_by_unit, digest.day.isoformat())
    if chart:
        await context.bot.send_photo(chat.id, chart, caption="Langkah terlambat per unit")
