"""/ringkasan: a supervisor's digest on demand (the daily one is sent by the scheduler), and the way into
the supervisors' board (📊 Buka papan; a one-time login link for a computer)."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.text.charts import overdue_chart
from bot.text.notices import board_keyboard
from bot.workflow.board import BoardSessions, login_url
from bot.workflow.digest import DigestBuilder
from handlers.context import AlurContext
from handlers.keyboards import markup
from handlers.replies import person_of, reply, reply_error, require_person
from handlers.taps import Tapped


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
    await context.bot.send_message(chat.id, context.text("digest", d=digest.as_payload()), parse_mode="HTML",
                                   reply_markup=markup(board_keyboard(s.settings.web_url)))
    chart = await asyncio.to_thread(overdue_chart, digest.overdue_by_unit, digest.day.isoformat())
    if chart:
        await context.bot.send_photo(chat.id, chart, caption="Langkah terlambat per unit")


async def on_board_link(update: Update, context: AlurContext, t: Tapped) -> None:
    """🔗 Tautan masuk: a one-time login link to the board for a desktop browser (single use, short expiry)."""
    person = await person_of(update, context)
    if person is None:
        await t.alert(context, "not_registered")
        return
    s = context.services
    if s.workflow.supervision.scope_of(person) is None:
        await t.alert(context, "not_allowed_view")
        return
    await t.ok()
    if not s.settings.web_url:
        await reply(update, context, "board_link", url=None)
        return
    token = await BoardSessions(s.db, s.clock).create_login(person.id)
    await reply(update, context, "board_link", url=login_url(s.settings.web_url, token))
