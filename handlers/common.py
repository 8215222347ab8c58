"""What every handler needs: the services, the person behind an update, replying with a template."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.runtime import Services
from bot.storage.records import Person
from bot.text.buttons import Keyboard
from bot.text.render import Renderer
from handlers.keyboards import SopKeys, Tap, markup

T = TypeVar("T")

SERVICES = "services"
RENDERER = "renderer"
SOP_KEYS = "sop_keys"
KICK = "outbox_kick"


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data[SERVICES]


def renderer(context: ContextTypes.DEFAULT_TYPE) -> Renderer:
    return context.application.bot_data[RENDERER]


def sop_keys(context: ContextTypes.DEFAULT_TYPE) -> SopKeys:
    return context.application.bot_data[SOP_KEYS]


def kick_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Wake the outbox sender: a state change just queued notifications."""
    kick = context.application.bot_data.get(KICK)
    if kick is not None:
        kick()


async def person_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Person | None:
    """The registered person behind the update (binding a staff @username on first contact)."""
    user = update.effective_user
    if user is None:
        return None
    s = services(context)
    person = await s.people.by_telegram(user.id)
    if person is None and user.username:
        person = await s.people.bind_username(telegram_id=user.id, username=user.username)
        if person is not None:
            kick_outbox(context)
    if person is not None and not person.active:
        return None
    if person is not None and not person.reachable:
        await s.workflow.reachability.wrote(person.id)
    return person


def text_of(context: ContextTypes.DEFAULT_TYPE, template: str, /, **ctx: Any) -> str:
    return renderer(context).render(template, **ctx)


async def reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, template: str, keyboard: Keyboard | None = None, /, **ctx: Any
) -> None:
    """Answer in the chat the update came from, with a rendered template."""
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(
        chat.id, text_of(context, template, **ctx), parse_mode=ParseMode.HTML, reply_markup=markup(keyboard),
        disable_web_page_preview=True,
    )


async def reply_error(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, **params: Any) -> None:
    await reply(update, context, "error", code=code, params=params)


def error_text(context: ContextTypes.DEFAULT_TYPE, code: str, **params: Any) -> str:
    return renderer(context).plain("error", code=code, params=params)


async def require_person(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Person | None:
    """The registered person, or None after telling an unregistered one how to register."""
    person = await person_of(update, context)
    if person is None:
        if update.callback_query is not None:
            await update.callback_query.answer(error_text(context, "not_registered"), show_alert=True)
        else:
            await reply(update, context, "need_registration")
    return person


async def tapped(
    update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap, load: Callable[[int], Awaitable[T | None]]
) -> tuple[Person, T] | None:
    """The registered person who tapped and the record the tap's first id names, or None after an alert."""
    query = update.callback_query
    assert query is not None
    person = await require_person(update, context)
    if person is None:
        return None
    ident = tap.int_arg(0)
    record = await load(ident) if ident is not None else None
    if record is None:
        await query.answer(error_text(context, "garbage"), show_alert=True)
        return None
    return person, record


def command_args(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or []).strip()
