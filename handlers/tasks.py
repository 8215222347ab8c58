"""Staff work: /tugas, and the buttons on a step — done, decide, delegate, attach, details.

Every tap is answered at once; cheap checks (is it ours, is it still open, is it yours) decide
between an alert and a silent answer, then the workflow does the work and re-checks everything
inside its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import storage
from bot.storage.records import Person, StepInstance
from bot.text.buttons import Button
from bot.text.notices import render_notice
from bot.workflow.errors import WorkflowError
from bot.workflow.results import FileUpload, Outcome
from handlers.cases import cancel_case
from handlers.common import (
    error_text,
    kick_outbox,
    renderer,
    reply,
    reply_error,
    require_person,
    services,
    tapped,
    text_of,
)
from handlers.intake import upload_of
from handlers.keyboards import Tap, grid, markup

PENDING = "pending"
REASONS = ("Sedang dinas luar", "Cuti / berhalangan", "Sesuai bidang tugasnya")
PAGE_SIZE = 8


async def tugas(update: Update, context: ContextTypes.DEFAULT_TYPE, page: int = 0) -> None:
    """/tugas: one message listing this person's open steps, soonest due first, a page at a time,
    with a button per step that opens its card (a tap meanwhile is answered at once: nothing waits
    for a series of cards)."""
    person = await require_person(update, context)
    if person is None:
        return
    text, keyboard = await _task_list(context, person, page)
    query = update.callback_query
    if query is not None and page and isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard))
            return
        except BadRequest:
            pass
    await reply_text(update, context, text, keyboard)


async def _task_list(context: ContextTypes.DEFAULT_TYPE, person: Person, page: int) -> tuple[str, Any]:
    s = services(context)
    tasks = await s.workflow.queries.open_tasks(person.id)
    pages = max(1, -(-len(tasks) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = tasks[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    now = s.clock.now()
    items = [{"number": page * PAGE_SIZE + i + 1, "register_no": case.register_no, "step": instance.step_no,
              "text": step.text, "due_at": instance.due_at, "overdue": bool(instance.due_at and instance.due_at < now)}
             for i, (instance, case, step) in enumerate(shown)]
    keyboard = [[Button(f"{item['number']}. {item['register_no']} · L{item['step']}", "task_card", (instance.id,))]
                for item, (instance, _, _) in zip(items, shown, strict=True)]
    nav = []
    if page > 0:
        nav.append(Button("◀ Sebelumnya", "task_page", (page - 1,)))
    if page < pages - 1:
        nav.append(Button("Berikutnya ▶", "task_page", (page + 1,)))
    if nav:
        keyboard.append(nav)
    text = text_of(context, "tasks_list", count=len(tasks), items=items, page=page, pages=pages)
    return text, keyboard


async def reply_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, keyboard: Any) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard),
                                   disable_web_page_preview=True)


async def on_task_page(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """◀ / ▶ on the task list: the same message shows another page."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await tugas(update, context, page=tap.int_arg(0) or 0)


async def on_task_card(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """A step on the task list: its card, with its buttons."""
    checked = await _checked_step(update, context, tap)
    if checked is None:
        return
    _, instance = checked
    query = update.callback_query
    assert query is not None
    await query.answer()
    s = services(context)
    notice = render_notice(renderer(context), "assignment", await s.workflow.queries.step_notice(instance.id))
    await reply_text(update, context, notice.html, notice.keyboard)


async def _checked_step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap, *, holder_only: bool = True
) -> tuple[Person, StepInstance] | None:
    """The tapping person and the step, or None after an alert (garbage, not yours, already done)."""
    query = update.callback_query
    assert query is not None
    found = await tapped(update, context, tap, lambda sid: storage.steps.step(services(context).db, sid))
    if found is None:
        return None
    person, instance = found
    if not instance.is_open:
        by = await services(context).people.get(instance.completed_by) if instance.completed_by else None
        await query.answer(renderer(context).plain("step_closed_alert", by=by.name if by else None), show_alert=True)
        await _drop_buttons(query.message)
        return None
    if holder_only and instance.holder_id != person.id:
        await query.answer(error_text(context, "not_holder"), show_alert=True)
        return None
    return person, instance


async def _drop_buttons(message: Any) -> None:
    if isinstance(message, Message) and message.reply_markup is not None:
        try:
            await message.edit_reply_markup(None)
        except BadRequest:
            pass


async def _report(context: ContextTypes.DEFAULT_TYPE, chat_id: int, card: Any, out: Outcome, verb: str) -> None:
    """Say on the task card what happened (and drop its buttons); a new message if it cannot be edited."""
    s = services(context)
    opened = []
    for inst in out.opened:
        holder = await s.people.get(inst.holder_id) if inst.holder_id else None
        opened.append({"step": inst.step_no, "role": s.catalog.roles.name(inst.role),
                       "holder": holder.name if holder else None})
    by = out.done_by.name if not out.changed and out.done_by else "Anda"
    original = card.text_html if isinstance(card, Message) and card.text else ""
    text = text_of(context, "step_done", original=Markup(original), changed=out.changed, verb=verb, by=by,
                   at=out.step.completed_at if out.step else None,
                   branch=out.step.branch_label if out.step else None, opened=opened, closed=out.closed)
    if isinstance(card, Message):
        try:
            await card.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=None)
            return
        except BadRequest:
            pass
    elif isinstance(card, CardRef):
        try:
            await context.bot.edit_message_reply_markup(card.chat_id, card.message_id, reply_markup=None)
        except BadRequest:
            pass
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)


@dataclass(frozen=True)
class CardRef:
    """Where a task card is, when the tap that will finish it comes from another message."""

    chat_id: int
    message_id: int

    @classmethod
    def of(cls, message: Any) -> CardRef | None:
        return cls(message.chat_id, message.message_id) if isinstance(message, Message) else None


async def on_done(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """✅ Selesai: asks for the output first where the step hands a document on."""
    query = update.callback_query
    assert query is not None
    checked = await _checked_step(update, context, tap)
    if checked is None:
        return
    person, instance = checked
    s = services(context)
    _, case, _sop, step = await s.workflow.queries.step_context(instance.id)
    if step.decision is not None:
        await query.answer(error_text(context, "needs_decision"), show_alert=True)
        return
    await query.answer()
    has_output = any(a.step_instance_id == instance.id for a in await storage.attachments.attachments(s.db, case.id,
                                                                                                      instance.id))
    if step.hands_off and not has_output and instance.holder_id != case.requester_id:
        context.user_data[PENDING] = {"kind": "output_then_done", "step": instance.id,
                                      "card": CardRef.of(query.message)}
        await reply(update, context, "ask_output", [[Button("Selesai tanpa lampiran", "done_without_output",
                                                            (instance.id,))]], step=step.number,
                    outputs=step.outputs)
        return
    await _complete(update, context, person, instance.id, query.message)


async def _complete(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, step_id: int,
                    card: Any, output: FileUpload | None = None) -> None:
    s = services(context)
    try:
        out = await s.workflow.steps.complete_step(step_id, person.id, output=output)
    except WorkflowError as exc:
        await reply_error(update, context, exc.code, **exc.params)
        return
    kick_outbox(context)
    chat = update.effective_chat
    assert chat is not None
    await _report(context, chat.id, card, out, "Selesai")


async def on_done_without_output(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    assert query is not None
    checked = await _checked_step(update, context, tap)
    if checked is None:
        return
    person, instance = checked
    await query.answer()
    pending = context.user_data.pop(PENDING, None) or {}
    await _drop_buttons(query.message)
    await _complete(update, context, person, instance.id, pending.get("card"))


async def on_branch(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """A decision button: take that branch of the SOP."""
    query = update.callback_query
    assert query is not None
    checked = await _checked_step(update, context, tap)
    index = tap.int_arg(1)
    if checked is None:
        return
    person, instance = checked
    s = services(context)
    _, _, _, step = await s.workflow.queries.step_context(instance.id)
    if step.decision is None or index is None or index >= len(step.decision.branches):
        await query.answer(error_text(context, "bad_branch"), show_alert=True)
        return
    await query.answer()
    try:
        out = await s.workflow.steps.decide(instance.id, person.id, index)
    except WorkflowError as exc:
        await reply_error(update, context, exc.code, **exc.params)
        return
    kick_outbox(context)
    chat = update.effective_chat
    assert chat is not None
    await _report(context, chat.id, query.message, out, "Diputuskan")


async def on_attach(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    assert query is not None
    checked = await _checked_step(update, context, tap)
    if checked is None:
        return
    _, instance = checked
    await query.answer()
    _, _, _, step = await services(context).workflow.queries.step_context(instance.id)
    context.user_data[PENDING] = {"kind": "attach", "step": instance.id}
    await reply(update, context, "ask_attach", step=step.number, outputs=step.outputs)


async def on_detail(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """ℹ️ Detail: the step, the intake answers and the documents (sent along)."""
    query = update.callback_query
    assert query is not None
    person = await require_person(update, context)
    if person is None:
        return
    s = services(context)
    sid = tap.int_arg(0)
    try:
        instance, case, sop, step = await s.workflow.queries.step_context(sid if sid is not None else -1)
    except WorkflowError:
        await query.answer(error_text(context, "garbage"), show_alert=True)
        return
    if not s.workflow.access.may_view(person, case):
        await query.answer(error_text(context, "not_allowed_view"), show_alert=True)
        return
    await query.answer()
    requester = await s.people.get(case.requester_id)
    files = await storage.attachments.attachments(s.db, case.id)
    labels = {f.key: f.label for f in sop.intake}
    await reply(update, context, "step_detail", case=case, sop=sop, step=step, instance=instance,
                role=s.catalog.roles.name(step.actor), requester=requester.name if requester else "-",
                agency=s.people.agency_name(requester) if requester else "",
                intake=[(labels.get(k, k), v) for k, v in case.intake.items()], files=files)
    chat = update.effective_chat
    assert chat is not None
    for f in files[:5]:
        await context.bot.send_document(chat.id, f.file_id, caption=f.file_name or None)


async def on_reassign(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """↪ Alihkan: colleagues with the role (holder) or anyone in the unit (supervisor)."""
    query = update.callback_query
    assert query is not None
    checked = await _checked_step(update, context, tap, holder_only=False)
    if checked is None:
        return
    person, instance = checked
    s = services(context)
    _, case, _, step = await s.workflow.queries.step_context(instance.id)
    candidates = await s.workflow.delegation.reassign_candidates(s.db, instance, case, person)
    if not candidates:
        await query.answer(error_text(context, "not_allowed_reassign"), show_alert=True)
        return
    await query.answer()
    book = s.catalog.roles
    buttons = [Button(f"{p.name} · {', '.join(book.name(r) for r in p.roles if r != 'admin') or 'Admin'}",
                      "reassign_to", (instance.id, p.id)) for p in candidates[:12]]
    keyboard = [*grid(buttons, 1), [Button("✖ Batal", "noop")]]
    await reply(update, context, "choose_colleague", keyboard, step=step.number, register_no=case.register_no,
                candidates=candidates)


async def on_reassign_to(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    assert query is not None
    checked = await _checked_step(update, context, tap, holder_only=False)
    to_id = tap.int_arg(1)
    if checked is None:
        return
    person, instance = checked
    to = await _allowed_target(context, person, instance, to_id)
    if to is None:
        await query.answer(error_text(context, "not_allowed_reassign"), show_alert=True)
        return
    await query.answer()
    context.user_data[PENDING] = {"kind": "reason", "step": instance.id, "to": to.id}
    keyboard = [[Button(r, "reason", (instance.id, to.id, i))] for i, r in enumerate(REASONS)]
    await query.edit_message_text(text_of(context, "ask_reason", step=instance.step_no, to=to.name),
                                  parse_mode=ParseMode.HTML, reply_markup=markup(keyboard))


async def on_reason(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    assert query is not None
    checked = await _checked_step(update, context, tap, holder_only=False)
    to_id, index = tap.int_arg(1), tap.int_arg(2)
    if checked is None:
        return
    person, instance = checked
    if index is None or index >= len(REASONS) or await _allowed_target(context, person, instance, to_id) is None:
        await query.answer(error_text(context, "garbage"), show_alert=True)
        return
    await query.answer()
    context.user_data.pop(PENDING, None)
    await _drop_buttons(query.message)
    await _reassign(update, context, person, instance.id, to_id, REASONS[index])


async def _allowed_target(
    context: ContextTypes.DEFAULT_TYPE, person: Person, instance: StepInstance, to_id: int | None
) -> Person | None:
    """The chosen colleague, if this person may hand this step to them."""
    if to_id is None:
        return None
    s = services(context)
    _, case, _, _ = await s.workflow.queries.step_context(instance.id)
    candidates = await s.workflow.delegation.reassign_candidates(s.db, instance, case, person)
    return next((p for p in candidates if p.id == to_id), None)


async def _reassign(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, step_id: int, to_id: int,
                    reason: str) -> None:
    s = services(context)
    try:
        out = await s.workflow.delegation.reassign(step_id, person.id, to_id, reason)
    except WorkflowError as exc:
        await reply_error(update, context, exc.code, **exc.params)
        return
    kick_outbox(context)
    to = await s.people.get(to_id)
    await reply(update, context, "reassigned", step=out.step.step_no if out.step else "",
                register_no=out.case.register_no, to=to.name if to else "-", reason=reason)


async def on_noop(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    context.user_data.pop(PENDING, None)
    await _drop_buttons(query.message)


async def on_pending_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message that answers what the bot just asked (a reason, an output document)."""
    pending = context.user_data.get(PENDING)
    message = update.message
    if not pending or message is None:
        return
    person = await require_person(update, context)
    if person is None:
        raise ApplicationHandlerStop
    s = services(context)
    kind = pending["kind"]
    if kind == "reason" and message.text:
        context.user_data.pop(PENDING, None)
        await _reassign(update, context, person, pending["step"], pending["to"], message.text)
        raise ApplicationHandlerStop
    if kind == "cancel_reason" and message.text:
        context.user_data.pop(PENDING, None)
        await cancel_case(update, context, person, pending["case"], message.text)
        raise ApplicationHandlerStop
    if kind in ("attach", "output_then_done"):
        upload = upload_of(message)
        if upload is None:
            if message.text:
                await reply(update, context, "error", code="intake_need_document", params={})
                raise ApplicationHandlerStop
            return
        context.user_data.pop(PENDING, None)
        try:
            if kind == "attach":
                attachment = await s.workflow.steps.attach_output(pending["step"], person.id, upload)
                _, _, _, step = await s.workflow.queries.step_context(pending["step"])
                await reply(update, context, "attached", step=step.number,
                            file_name=attachment.file_name or "dokumen", then_done=False)
            else:
                await _complete(update, context, person, pending["step"], pending.get("card"), output=upload)
        except WorkflowError as exc:
            await reply_error(update, context, exc.code, **exc.params)
        raise ApplicationHandlerStop


async def cancel_pending(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    return context.user_data.pop(PENDING, None) is not None
