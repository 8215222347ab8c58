"""Where each update goes: commands, button taps by action, and a person's next message by their prompt."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core.states import PromptKind
from bot.workflow.errors import WorkflowError
from handlers import cases, catalog, intake, questions, registration, supervision, tasks
from handlers.context import AlurContext
from handlers.keyboards import decode
from handlers.replies import answer, person_of, reply, reply_error
from handlers.taps import TapHandler, Tapped

log = logging.getLogger(__name__)

TAP_HANDLERS: dict[str, TapHandler] = {
    "done": tasks.on_done,
    "done_without_output": tasks.on_done_without_output,
    "branch": tasks.on_branch,
    "reassign": tasks.on_reassign,
    "reassign_to": tasks.on_reassign_to,
    "reason": tasks.on_reason,
    "attach": tasks.on_attach,
    "detail": tasks.on_detail,
    "noop": tasks.on_noop,
    "tasks": tasks.on_tasks,
    "task_page": tasks.on_task_page,
    "task_card": tasks.on_task_card,
    "case": cases.on_case,
    "whatnext": cases.on_whatnext,
    "history": cases.on_history,
    "cancel_case": cases.on_cancel_case,
    "sop": catalog.on_sop,
    "sop_page": catalog.on_sop,
    "step": catalog.on_step,
    "sop_list": catalog.on_sop_list,
    "region": registration.on_region,
    "agency": registration.on_agency,
    "total": questions.on_total,
    "intake_start": intake.on_choose,
    "intake_resume": intake.on_resume,
    "intake_restart": intake.on_restart,
    "intake_confirm": intake.on_confirm,
    "intake_skip": intake.on_skip,
    "intake_choice": intake.on_choice,
    "intake_cancel": intake.on_cancel,
    "sop_chart": catalog.on_sop_chart,
    "case_chart": cases.on_case_chart,
    "board_link": supervision.on_board_link,
}

PROMPT_ANSWERS = {
    PromptKind.INTAKE: intake.answer,
    PromptKind.OUTPUT: tasks.answer_document,
    PromptKind.ATTACH: tasks.answer_document,
    PromptKind.REASSIGN_REASON: tasks.answer_reason,
    PromptKind.CANCEL_REASON: cases.answer_cancel_reason,
    PromptKind.DECISION_REASON: tasks.answer_decision_reason,
}


async def on_tap(update: Update, context: AlurContext) -> None:
    """Every button: decode the ids, let the action's handler check and act, and answer the tap once."""
    query = update.callback_query
    assert query is not None
    tap = decode(query.data)
    handler = TAP_HANDLERS.get(tap.action) if tap is not None else None
    if tap is None or handler is None:
        await answer(query, context.error_text("garbage"), alert=True)
        return
    t = Tapped(query, tap)
    try:
        await handler(update, context, t)
    finally:
        await t.ok()


async def on_message(update: Update, context: AlurContext) -> None:
    """A text, document or photo in a private chat: the answer to what the bot asked, else a question."""
    message = update.effective_message
    assert message is not None
    person = await person_of(update, context)
    prompt = await context.workflow.prompts.pending(person.id) if person is not None else None
    if person is not None and prompt is not None:
        void = await context.workflow.prompts.void(person, prompt)
        if void is not None:  # the step or request moved on: this message was meant as its answer
            await reply(update, context, "prompt_void", register_no=void.register_no, step=void.step_no,
                        closed=void.closed)
            return
        try:
            await PROMPT_ANSWERS[prompt.kind](update, context, person, prompt)
        except WorkflowError as exc:
            await reply_error(update, context, exc.code, **exc.params)
        return
    if message.text:
        await questions.on_question(update, context)
    else:
        await reply(update, context, "file_without_context")


async def on_batal(update: Update, context: AlurContext) -> None:
    """/batal: stop whatever the bot is waiting for (an intake draft is discarded)."""
    person = await person_of(update, context)
    prompt = await context.workflow.prompts.pending(person.id) if person is not None else None
    if person is None or prompt is None:
        await reply_error(update, context, "nothing_to_cancel")
        return
    if prompt.kind == PromptKind.INTAKE:
        await intake.cancel(update, context, person)
        return
    await context.workflow.prompts.clear(person.id)
    await reply(update, context, "cancelled_pending")


async def on_error(update: object, context: AlurContext) -> None:
    log.error("unhandled error in a handler", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await reply_error(update, context, "internal")
        except Exception:  # the error path must not raise again
            log.exception("could not tell the user about the error")


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", registration.start))
    app.add_handler(CommandHandler(["bantuan", "help"], registration.help_command))
    app.add_handler(CommandHandler("ajukan", intake.ajukan))
    app.add_handler(CommandHandler("tugas", tasks.tugas))
    app.add_handler(CommandHandler("status", cases.status))
    app.add_handler(CommandHandler("lanjut", cases.lanjut))
    app.add_handler(CommandHandler("riwayat", cases.riwayat))
    app.add_handler(CommandHandler("sop", catalog.sop_command))
    app.add_handler(CommandHandler("siapa", questions.siapa))
    app.add_handler(CommandHandler("ringkasan", supervision.ringkasan))
    app.add_handler(CommandHandler("batal", on_batal))
    app.add_handler(CallbackQueryHandler(on_tap))
    app.add_handler(MessageHandler((filters.TEXT & ~filters.COMMAND | filters.Document.ALL | filters.PHOTO) & private,
                                   on_message))
    app.add_handler(MessageHandler(filters.COMMAND & private, questions.unknown_command))
    app.add_error_handler(on_error)
