"""Questions in plain Indonesian (free text and /siapa): about the asker's own requests and tasks, and the SOPs."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.qa.answers import Answer, Answerer
from bot.qa.live import WorkflowLive
from bot.text.buttons import Button
from handlers.common import command_args, error_text, person_of, reply, services, sop_keys
from handlers.keyboards import Tap, markup, sop_key

ANSWERER = "answerer"


def _buttons(raw: list) -> list[list[Button]]:
    """Answer buttons (label, action, arg) as keyboard rows; 'step' and 'total' args are 'sop_id:…'."""
    rows = []
    for label, action, arg in raw:
        if action in ("step", "total"):
            sop_id, *rest = str(arg).split(":")
            args: tuple = (sop_key(sop_id), *rest) if action == "total" else (sop_id, *rest)
        elif action == "tasks":
            args = ()
        else:
            args = (arg,)
        rows.append([Button(label, action, args)])
    return rows


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, result: Answer) -> None:
    chat = update.effective_chat
    assert chat is not None
    keyboard = _buttons(list(result.buttons) + list(result.choices))
    await context.bot.send_message(chat.id, result.html, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard),
                                   disable_web_page_preview=True)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Answer as the person asking: their requests and tasks first, the SOPs of their institution first.

    Someone unregistered or deactivated is answered from the catalog only and never sees a request.
    """
    answerer: Answerer = context.application.bot_data[ANSWERER]
    asker = await person_of(update, context)
    s = services(context)
    result = await answerer.ask(question, asker=asker, live=WorkflowLive(s.workflow))
    await _send(update, context, result)


async def on_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text outside any conversation or pending question."""
    message = update.message
    if message is None or not message.text:
        return
    if await person_of(update, context) is None:
        await reply(update, context, "need_registration")
        return
    await answer(update, context, message.text)


async def siapa(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/siapa <teks>: who handles something, with the SOP, step and role."""
    question = command_args(context)
    if not question:
        await reply(update, context, "usage", command="siapa")
        return
    await answer(update, context, f"siapa yang {question}")


async def on_total(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """📋 Rincian per langkah: the per-step breakdown under a total (SOP data only, for anyone)."""
    query = update.callback_query
    assert query is not None
    sop_id = sop_keys(context).resolve(tap.str_arg(0))
    first, last = tap.str_arg(1), tap.str_arg(2)
    answerer: Answerer = context.application.bot_data[ANSWERER]
    result = answerer.total_breakdown(sop_id, first, last) if sop_id and first and last else None
    if result is None:
        await query.answer(error_text(context, "garbage"), show_alert=True)
        return
    await query.answer()
    await _send(update, context, result)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, context, "unknown_command")
