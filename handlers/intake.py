"""/ajukan: choose a service, answer its intake fields one at a time, attach documents, confirm.

The conversation state lives in PTB's ConversationHandler, the answers in the database
(bot.intake): after a restart the next message of a person with a draft resumes it.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.storage.records import Person
from bot.text.buttons import Button, Keyboard
from bot.workflow.errors import WorkflowError
from bot.workflow.intake import Draft, Intake
from bot.workflow.results import FileUpload
from handlers.common import (
    error_text,
    kick_outbox,
    require_person,
    services,
    sop_keys,
    text_of,
)
from handlers.keyboards import decode, grid, markup

CHOOSING, ANSWERING, CONFIRMING = range(3)
INTAKE = "intake"
DRAFT_USERS = "draft_users"
TIMEOUT_SECONDS = 30 * 60


def intake_of(context: ContextTypes.DEFAULT_TYPE) -> Intake:
    return context.application.bot_data[INTAKE]


def _draft_users(context: ContextTypes.DEFAULT_TYPE) -> set[int]:
    return context.application.bot_data.setdefault(DRAFT_USERS, set())


class HasDraft(filters.UpdateFilter):
    """Messages from someone with a saved draft (so a restart does not lose their place)."""

    def __init__(self, users: set[int]) -> None:
        super().__init__(name="HasDraft")
        self.users = users

    def filter(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.users


def upload_of(message: Message) -> FileUpload | None:
    if message.document is not None:
        d = message.document
        return FileUpload(d.file_id, d.file_unique_id, d.file_name or "dokumen", d.mime_type, d.file_size)
    if message.photo:
        p = message.photo[-1]
        return FileUpload(p.file_id, p.file_unique_id, "foto.jpg", "image/jpeg", p.file_size)
    return None


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, template: str, keyboard: Keyboard | None = None,
                **ctx: object) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text_of(context, template, **ctx), parse_mode=ParseMode.HTML,
                                   reply_markup=markup(keyboard))


async def _edit_or_send(update: Update, context: ContextTypes.DEFAULT_TYPE, template: str,
                        keyboard: Keyboard | None = None, **ctx: object) -> None:
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.edit_message_text(text_of(context, template, **ctx), parse_mode=ParseMode.HTML,
                                      reply_markup=markup(keyboard))
    else:
        await _send(update, context, template, keyboard, **ctx)


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, *, intro: bool = False) -> int:
    """Ask the draft's current field, or show the summary when all are answered."""
    fld = draft.current
    if fld is None:
        keyboard = [[Button("✅ Kirim", "intake_confirm")],
                    [Button("✏️ Ulangi", "intake_restart"), Button("✖ Batal", "intake_cancel")]]
        await _send(update, context, "intake_summary", keyboard, draft=draft)
        return CONFIRMING
    rows: Keyboard = []
    if fld.kind == "choice":
        rows.extend([Button(choice, "intake_choice", (i, draft.position))] for i, choice in enumerate(fld.choices))
    tail = [Button("✖ Batal", "intake_cancel")]
    if not fld.required:
        tail.insert(0, Button("Lewati ⏭", "intake_skip", (draft.position,)))
    rows.append(tail)
    s = services(context)
    inst = s.catalog.institutions.get(draft.sop.institution)
    total = draft.sop.total_duration()
    await _send(
        update, context, "intake_question", rows, draft=draft, field=fld, sop=draft.sop, intro=intro,
        institution=inst.name if inst else "", total_text="" if total.is_zero else total.format(),
        documents=[f.label for f in draft.sop.intake if f.kind == "document"],
    )
    return ANSWERING


async def ajukan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/ajukan: offer to resume a saved draft, or list the services this person may request."""
    person = await require_person(update, context)
    if person is None:
        return ConversationHandler.END
    draft = await intake_of(context).get(person.id)
    if draft is not None:
        keyboard = [[Button("▶️ Lanjutkan isian", "intake_resume")], [Button("🆕 Mulai baru", "intake_restart")]]
        await _send(update, context, "intake_resume", keyboard, draft=draft)
        return CHOOSING
    return await _offer_services(update, context, person)


async def _offer_services(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> int:
    s = services(context)
    sops = [sop for sop in s.catalog.startable_by(person.roles or ())
            if person.institution in (None, sop.institution) or person.is_admin]
    names = {i.id: i.name for i in s.catalog.institutions.values()}
    keyboard = grid([Button(sop.title, "intake_start", (sop.id,)) for sop in sops], 1)
    keyboard.append([Button("✖ Batal", "intake_cancel")])
    await _edit_or_send(update, context, "intake_choose", keyboard if sops else None, sops=sops,
                        institution_names=names)
    return CHOOSING if sops else ConversationHandler.END


async def on_choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A service was tapped: start its draft and ask the first field."""
    query = update.callback_query
    assert query is not None
    tap = decode(query.data)
    sop_id = sop_keys(context).resolve(tap.str_arg(0) if tap else None)
    person = await require_person(update, context)
    if person is None:
        return ConversationHandler.END
    if sop_id is None:
        await query.answer(error_text(context, "garbage"), show_alert=True)
        return CHOOSING
    try:
        draft = await intake_of(context).start(person.id, sop_id, person.roles, person.is_admin)
    except WorkflowError as exc:
        await query.answer(error_text(context, exc.code, **exc.params), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    _draft_users(context).add(person.telegram_id or 0)
    await query.edit_message_reply_markup(None)
    return await ask(update, context, draft, intro=True)


async def _tapped_draft(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Person, Draft] | None:
    """The person who tapped and their saved draft, or None after an alert that there is none."""
    query = update.callback_query
    assert query is not None
    person = await require_person(update, context)
    if person is None:
        return None
    draft = await intake_of(context).get(person.id)
    if draft is None:
        await query.answer(error_text(context, "no_draft"), show_alert=True)
        return None
    await query.answer()
    return person, draft


async def on_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    found = await _tapped_draft(update, context)
    if found is None:
        return ConversationHandler.END
    _, draft = found
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)
    return await ask(update, context, draft, intro=draft.position == 0)


async def on_restart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None
    person = await require_person(update, context)
    if person is None:
        return ConversationHandler.END
    await query.answer()
    await intake_of(context).discard(person.id)
    _draft_users(context).discard(person.telegram_id or 0)
    return await _offer_services(update, context, person)


async def _apply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, value: object = None,
    position: int | None = None,
) -> int:
    person = await require_person(update, context)
    if person is None:
        return ConversationHandler.END
    intake = intake_of(context)
    message_id = update.message.message_id if update.message is not None else 0
    try:
        if action == "text":
            draft = await intake.answer_text(person.id, str(value), message_id=message_id, position=position)
        elif action == "file":
            assert isinstance(value, FileUpload)
            draft = await intake.answer_file(person.id, value, message_id=message_id)
        else:
            draft = await intake.skip(person.id, position=position)
    except WorkflowError as exc:
        if exc.code == "no_draft":
            _draft_users(context).discard(person.telegram_id or 0)
            return ConversationHandler.END
        if update.callback_query is not None:
            await update.callback_query.answer(error_text(context, exc.code, **exc.params), show_alert=True)
        else:
            await _send(update, context, "error", code=exc.code, params=exc.params)
        return ANSWERING
    return await ask(update, context, draft)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.message is not None
    return await _apply(update, context, "text", update.message.text or "")


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.message is not None
    return await _apply(update, context, "file", upload_of(update.message))


async def on_skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None
    tap = decode(query.data)
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await _apply(update, context, "skip", position=tap.int_arg(0) if tap else None)


async def on_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None
    tap = decode(query.data)
    person = await require_person(update, context)
    if person is None:
        return ConversationHandler.END
    draft = await intake_of(context).get(person.id)
    index = tap.int_arg(0) if tap else None
    position = tap.int_arg(1) if tap else None
    fld = draft.current if draft else None
    if (fld is None or fld.kind != "choice" or index is None or index >= len(fld.choices)
            or (draft is not None and position != draft.position)):
        await query.answer(error_text(context, "stale"), show_alert=True)
        return ANSWERING if draft else ConversationHandler.END
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await _apply(update, context, "text", fld.choices[index], position=position)


async def on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Submit: the case is filed and the draft deleted in one transaction."""
    found = await _tapped_draft(update, context)
    if found is None:
        return ConversationHandler.END
    person, draft = found
    query = update.callback_query
    assert query is not None
    try:
        out = await intake_of(context).submit(person.id)
    except WorkflowError as exc:
        await _send(update, context, "error", code=exc.code, params=exc.params)
        return await ask(update, context, draft) if exc.code.startswith("intake") else ConversationHandler.END
    _draft_users(context).discard(person.telegram_id or 0)
    kick_outbox(context)
    await query.edit_message_text(text_of(context, "intake_sent", register_no=out.case.register_no),
                                  parse_mode=ParseMode.HTML)
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/batal or ✖ Batal: discard the draft."""
    person = await require_person(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)
    if person is not None:
        await intake_of(context).discard(person.id)
        _draft_users(context).discard(person.telegram_id or 0)
    await _send(update, context, "intake_cancelled")
    return ConversationHandler.END


async def timed_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _send(update, context, "intake_timeout")


def conversation(draft_users: set[int]) -> ConversationHandler:
    answering = [
        MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
        MessageHandler(filters.Document.ALL | filters.PHOTO, on_file),
        CallbackQueryHandler(on_skip, pattern=r"^isk(:|$)"),
        CallbackQueryHandler(on_choice, pattern=r"^ic:"),
        CallbackQueryHandler(cancel, pattern=r"^ix$"),
    ]
    has_draft = HasDraft(draft_users)
    return ConversationHandler(
        entry_points=[
            CommandHandler("ajukan", ajukan),
            CallbackQueryHandler(on_choose, pattern=r"^n:"),
            CallbackQueryHandler(on_resume, pattern=r"^irs$"),
            CallbackQueryHandler(on_restart, pattern=r"^ire$"),
            CallbackQueryHandler(on_confirm, pattern=r"^iok$"),
            CallbackQueryHandler(on_skip, pattern=r"^isk(:|$)"),
            CallbackQueryHandler(on_choice, pattern=r"^ic:"),
            MessageHandler(has_draft & filters.TEXT & ~filters.COMMAND, on_text),
            MessageHandler(has_draft & (filters.Document.ALL | filters.PHOTO), on_file),
        ],
        states={
            CHOOSING: [
                CallbackQueryHandler(on_choose, pattern=r"^n:"),
                CallbackQueryHandler(on_resume, pattern=r"^irs$"),
                CallbackQueryHandler(on_restart, pattern=r"^ire$"),
                CallbackQueryHandler(cancel, pattern=r"^ix$"),
            ],
            ANSWERING: answering,
            CONFIRMING: [
                CallbackQueryHandler(on_confirm, pattern=r"^iok$"),
                CallbackQueryHandler(on_restart, pattern=r"^ire$"),
                CallbackQueryHandler(cancel, pattern=r"^ix$"),
            ],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=[CommandHandler("batal", cancel), CommandHandler("ajukan", ajukan)],
        conversation_timeout=TIMEOUT_SECONDS,
        name="intake",
        allow_reentry=True,
    )
