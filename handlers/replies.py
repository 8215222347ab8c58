"""Talking back: the person behind an update, replies from templates, and tap answers that never fail a tap."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.storage.records import Person
from bot.text.buttons import Keyboard
from handlers.context import AlurContext
from handlers.keyboards import markup

log = logging.getLogger(__name__)

_looked_up: ContextVar[tuple[int, Person | None] | None] = ContextVar("looked_up", default=None)


def looked_up(update: Update, person: Person | None) -> None:
    """The transport already read who sent ``update`` (its stranger check, just before the handlers
    run in the same task): ``person_of`` uses that instead of reading it again."""
    if update.effective_user is not None:
        _looked_up.set((update.effective_user.id, person))


async def person_of(update: Update, context: AlurContext) -> Person | None:
    """The registered, active person behind the update; None for strangers and deactivated people.

    Only the Telegram user id identifies someone: a @username is never proof (see bot.workflow.people).
    Someone the bot could not reach is reachable again once they write, and what was held for them goes out.
    """
    user = update.effective_user
    if user is None:
        return None
    known = _looked_up.get()
    if known is not None and known[0] == user.id:
        _looked_up.set(None)  # once: a handler that registers someone reads them again
        person = known[1]
    else:
        person = await context.services.people.by_telegram(user.id)
    if person is None or not person.active:
        return None
    if not person.reachable:
        chat = update.effective_chat
        if await context.workflow.reachability.wrote(person.id, chat.id if chat is not None else user.id):
            context.kick_outbox()
    return person


async def reply(update: Update, context: AlurContext, template: str, keyboard: Keyboard | None = None, /,
                **ctx: Any) -> Message | None:
    """Answer in the chat the update came from, with a rendered template."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(
        chat.id, context.text(template, **ctx), parse_mode=ParseMode.HTML, reply_markup=markup(keyboard),
        disable_web_page_preview=True,
    )


async def reply_photo(update: Update, context: AlurContext, draw: Callable[[], Awaitable[bytes]], template: str,
                      keyboard: Keyboard | None = None, /, **ctx: Any) -> Message | None:
    """A picture (drawn while the chat shows "sending a photo") with a caption from a template."""
    chat = update.effective_chat
    if chat is None:
        return None
    try:
        await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_PHOTO)
    except TelegramError as exc:  # only a courtesy: the picture goes out regardless
        log.info("chat action not sent (%s)", exc)
    photo = await draw()
    return await context.bot.send_photo(chat.id, photo, caption=context.text(template, **ctx),
                                        parse_mode=ParseMode.HTML, reply_markup=markup(keyboard))


async def reply_error(update: Update, context: AlurContext, code: str, **params: Any) -> None:
    await reply(update, context, "error", code=code, params=params)


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a tap (stop the spinner, or show an alert). Never raises: a tap's effect must not depend on it.

    Telegram refuses answers to taps older than about 15 seconds ("query is too old"), e.g. a tap
    replayed after a restart, and a lost response makes a retry fail the same way.
    """
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:
        log.info("a tap could not be answered (%s); its action is applied regardless", exc)


async def alert(query: CallbackQuery, context: AlurContext, code: str, **params: Any) -> None:
    await answer(query, context.error_text(code, **params), alert=True)


async def require_person(update: Update, context: AlurContext) -> Person | None:
    """The registered person, or None after telling an unregistered one how to register."""
    person = await person_of(update, context)
    if person is None:
        if update.callback_query is not None:
            await alert(update.callback_query, context, "not_registered")
        else:
            await reply(update, context, "need_registration")
    return person


async def drop_buttons(message: object) -> None:
    """Take the buttons off a message whose question has been answered (best effort)."""
    if isinstance(message, Message) and message.reply_markup is not None:
        try:
            await message.edit_reply_markup(None)
        except BadRequest:
            pass


async def edit_or_reply(update: Update, context: AlurContext, template: str, keyboard: Keyboard | None = None,
                        /, **ctx: Any) -> None:
    """Replace the tapped message with the template (a new message when it cannot be edited)."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        try:
            await query.message.edit_text(context.text(template, **ctx), parse_mode=ParseMode.HTML,
                                          reply_markup=markup(keyboard))
            return
        except BadRequest:
            pass
    await reply(update, context, template, keyboard, **ctx)
