"""/ringkasan: a supervisor's digest on demand (the daily one is sent by the scheduler)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.text.buttons import Button, Keyboard
from bot.text.charts import overdue_chart
from bot.workflow.board import BoardSessions, login_url
from bot.workflow.digest import DigestBuilder, scope_of
from handlers import tasks
from handlers.common import error_text, reply, reply_error, require_person, services, text_of
from handlers.keyboards import Tap, markup


async def ringkasan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ringkasan: the same digest the supervisor gets each working morning, now."""
    person = await require_person(update, context)
    if person is None:
        return
    if scope_of(person) is None:
        await reply_error(update, context, "supervisor_only")
        return
    s = services(context)
    builder = DigestBuilder(s.db, s.catalog, s.calendar)
    await builder.load(s.clock.now())
    digest = builder.build(person)
    assert digest is not None
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text_of(context, "digest", d=digest.as_payload()), parse_mode="HTML",
                                   reply_markup=markup(board_keyboard(s.settings.web_url)))
    chart = overdue_chart(digest.overdue_by_unit, digest.day.isoformat())
    if chart:
        await context.bot.send_photo(chat.id, chart, caption="Langkah terlambat per unit")


async def on_tasks(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await tasks.tugas(update, context)


def board_keyboard(web_url: str | None) -> Keyboard:
    """📊 Buka papan (the Mini App) and a one-time link for a computer, when the board has a public address."""
    if not web_url:
        return []
    return [[Button("📊 Buka papan", "board", url=web_url, web_app=True)],
            [Button("🔗 Tautan masuk (komputer)", "board_link")]]


async def on_board_link(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """A one-time login link to the board for a desktop browser (single use, short expiry)."""
    query = update.callback_query
    assert query is not None
    person = await require_person(update, context)
    if person is None:
        return
    s = services(context)
    if scope_of(person) is None or not person.active:
        await query.answer(error_text(context, "not_allowed_view"), show_alert=True)
        return
    await query.answer()
    if not s.settings.web_url:
        await reply(update, context, "board_link", url=None)
        return
    token = await BoardSessions(s.db, s.clock).create_login(person.id)
    await reply(update, context, "board_link", url=login_url(s.settings.web_url, token))
