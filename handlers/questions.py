"""Questions in plain Indonesian (free text and /siapa): about the asker's own requests and tasks, and the SOPs."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.qa.answers import Answer
from bot.qa.live import WorkflowLive
from bot.text.buttons import Button
from handlers.context import AlurContext
from handlers.keyboards import markup, sop_key
from handlers.replies import person_of, reply
from handlers.taps import Tapped


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


async def _send(update: Update, context: AlurContext, result: Answer) -> None:
    chat = update.effective_chat
    assert chat is not None
    keyboard = _buttons(list(result.buttons) + list(result.choices))
    await context.bot.send_message(chat.id, result.html, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard),
                                   disable_web_page_preview=True)


async def answer(update: Update, context: AlurContext, question: str) -> None:
    """Answer as the person asking: their requests and tasks first, the SOPs of their institution first.

    Someone unregistered or deactivated is answered from the catalog only and never sees a request.
    """
    answerer = context.answerer
    asker = await person_of(update, context)
    s = context.services
    result = await answerer.ask(question, asker=asker, live=WorkflowLive(s.workflow))
    await _send(update, context, result)


async def on_question(update: Update, context: AlurContext) -> None:
    """Free text outside any conversation or pending question."""
    message = update.message
    if message is None or not message.text:
        return
    if await person_of(update, context) is None:
        await reply(update, context, "need_registration")
        return
    await answer(update, context, message.text)


async def siapa(update: Update, context: AlurContext) -> None:
    """/siapa <teks>: who handles something, with the SOP, step and role."""
    question = context.command_args
    if not question:
        await reply(update, context, "usage", command="siapa")
        return
    await answer(update, context, f"siapa yang {question}")


async def on_total(update: Update, context: AlurContext, t: Tapped) -> None:
    """📋 Rincian per langkah: the per-step breakdown under a total (SOP data only, for anyone)."""
    sop_id = context.sop_keys.resolve(t.tap.str_arg(0))
    first, last = t.tap.str_arg(1), t.tap.str_arg(2)
    answerer = context.answerer
    result = answerer.total_breakdown(sop_id, first, last) if sop_id and first and last else None
    if result is None:
        await t.alert_text(context.error_text("garbage"))
        return
    await t.ok()
    await _send(update, context, result)


async def unknown_command(update: Update, context: AlurContext) -> None:
    await reply(update, context, "unknown_command")
