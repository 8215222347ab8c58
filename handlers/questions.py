"""Questions in plain Indonesian (free text and /siapa), answered from the SOP definitions."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.storage.records import Case, Person
from bot.text.buttons import Button
from bot.workflow.results import WhatNext
from bot.workflow.use_cases import Workflow
from handlers.common import command_args, person_of, reply, services
from handlers.keyboards import markup

ANSWERER = "answerer"


class LiveCases:
    """The answerer's view of running requests: look-ups through the workflow, filtered by the access rule."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow

    async def case_by_ref(self, ref: str | int) -> Case | None:
        return await self.workflow.queries.case_by_ref(ref)

    async def what_next(self, case_id: int) -> WhatNext:
        return await self.workflow.queries.what_next(case_id)

    def may_view(self, person: Person, case: Case) -> bool:
        return self.workflow.access.may_view(person, case)


def _buttons(raw: list) -> list[list[Button]]:
    """Answer buttons (label, action, arg) as keyboard rows; 'step' args are 'sop_id:number'."""
    rows = []
    for label, action, arg in raw:
        args = tuple(str(arg).split(":", 1)) if action == "step" else (arg,)
        rows.append([Button(label, action, args)])
    return rows


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    answerer = context.application.bot_data[ANSWERER]
    viewer = await person_of(update, context)
    result = await answerer.ask(question, cases=LiveCases(services(context).workflow), viewer=viewer)
    chat = update.effective_chat
    assert chat is not None
    keyboard = _buttons(list(result.buttons) + list(result.choices))
    await context.bot.send_message(chat.id, result.html, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard),
                                   disable_web_page_preview=True)


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


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, context, "unknown_command")
