"""Staff work: /tugas, and the buttons on a step — done, decide, delegate, attach, details.

The step-tap decorator has already checked the person, the step and their right to it; the
workflow checks everything again inside its transaction. Where the bot must wait for the
person's next message (the output document, a reason), it stores a prompt, so a restart in
between loses nothing.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.core.states import PromptKind, StepOutcome
from bot.storage.records import Person, StoredPrompt
from bot.text.buttons import Button
from bot.text.notices import render_notice
from bot.workflow.results import FileUpload, Outcome
from handlers.context import AlurContext
from handlers.keyboards import grid, markup
from handlers.replies import drop_buttons, reply, reply_error, require_person
from handlers.taps import StepTap, Tapped, step_tap
from handlers.uploads import upload_of

REASONS = ("Sedang dinas luar", "Cuti / berhalangan", "Sesuai bidang tugasnya")
PAGE_SIZE = 8
"""Steps per page of the /tugas list (one message; a step's card opens with its button)."""
MAX_REASON = 500
"""Characters of a decision's reason: a short note the requester reads, not a letter."""
ASKS_REASON = frozenset({StepOutcome.REJECT, StepOutcome.RETURN})
"""Decision outcomes (Branch.outcome) whose official is asked why."""


async def tugas(update: Update, context: AlurContext, page: int = 0, edit: Message | None = None) -> None:
    """/tugas: one message listing this person's open steps, soonest due first, a page at a time,
    with a button per step that opens its card (a tap meanwhile is answered at once: nothing waits
    for a series of cards)."""
    person = await require_person(update, context)
    if person is None:
        return
    text, keyboard = await _task_list(context, person, page)
    if edit is not None:
        try:
            await edit.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard))
            return
        except BadRequest:
            pass
    await _send(update, context, text, keyboard)


async def _task_list(context: AlurContext, person: Person, page: int) -> tuple[str, list[list[Button]]]:
    tasks = await context.workflow.queries.open_tasks(person.id)
    pages = max(1, -(-len(tasks) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = tasks[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    now = context.services.clock.now()
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
    return context.text("tasks_list", count=len(tasks), items=items, page=page, pages=pages), keyboard


async def _send(update: Update, context: AlurContext, html: str, keyboard: Any) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, html, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard),
                                   disable_web_page_preview=True)


async def on_task_page(update: Update, context: AlurContext, t: Tapped) -> None:
    """◀ / ▶ on the task list: the same message shows another page."""
    await t.ok()
    await tugas(update, context, page=t.tap.int_arg(0) or 0, edit=t.message)


@step_tap()
async def on_task_card(update: Update, context: AlurContext, st: StepTap) -> None:
    """A step on the task list: its card, with its buttons."""
    await st.tapped.ok()
    notice = render_notice(context.renderer, "assignment", await context.workflow.queries.step_notice(st.step.id))
    await _send(update, context, notice.html, notice.keyboard)


async def on_tasks(update: Update, context: AlurContext, t: Tapped) -> None:
    """🗂 Lihat tugas saya (on a reminder)."""
    await t.ok()
    await tugas(update, context)


CardRef = dict[str, Any]
"""Where a task card is (chat_id, message_id) and what it says (html), kept in a prompt across a restart."""


def _card_ref(message: Message | None) -> CardRef | None:
    """Where a task card is, so it can be updated when the step finishes from another message."""
    if message is None:
        return None
    return {"chat_id": message.chat_id, "message_id": message.message_id,
            "html": message.text_html if message.text else ""}


async def _report(context: AlurContext, chat_id: int, card: Message | CardRef | None, out: Outcome,
                  verb: str) -> None:
    """Say on the task card what happened (and drop its buttons); a new message if it cannot be edited."""
    people = context.services.people
    opened = []
    for inst in out.opened:
        holder = await people.get(inst.holder_id) if inst.holder_id else None
        opened.append({"step": inst.step_no, "role": context.services.catalog.roles.name(inst.role),
                       "holder": holder.name if holder else None})
    by = "Anda" if out.changed else (out.done_by.name if out.done_by else None)  # None: closed, by nobody's tap
    if isinstance(card, Message):
        original = card.text_html if card.text else ""
    else:
        original = str(card.get("html") or "") if card is not None else ""
    step = out.step
    text = context.text("step_done", original=Markup(original), changed=out.changed, verb=verb, by=by,
                        at=step.completed_at if step else None, branch=step.branch_label if step else None,
                        reason=step.note if step and step.branch_label else None,
                        returned=bool(step and step.outcome == StepOutcome.RETURN), opened=opened, closed=out.closed)
    if isinstance(card, Message):
        try:
            await card.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=None)
            return
        except BadRequest:
            pass
    elif card is not None:
        try:
            if original:
                await context.bot.edit_message_text(text, card["chat_id"], card["message_id"],
                                                    parse_mode=ParseMode.HTML, reply_markup=None)
                return
            await context.bot.edit_message_reply_markup(card["chat_id"], card["message_id"], reply_markup=None)
        except BadRequest:
            pass
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)


async def _complete(update: Update, context: AlurContext, person: Person, step_id: int,
                    card: Message | CardRef | None, output: FileUpload | None = None) -> None:
    out = await context.workflow.steps.complete_step(step_id, person.id, output=output)
    context.kick_outbox()
    chat = update.effective_chat
    assert chat is not None
    await _report(context, chat.id, card, out, "Selesai")


@step_tap()
async def on_done(update: Update, context: AlurContext, st: StepTap) -> None:
    """✅ Selesai: asks for the output first where the step hands a document on."""
    _, case, _sop, step = await context.workflow.queries.step_context(st.step.id)
    if step.decision is not None:
        await st.tapped.alert(context, "needs_decision")
        return
    await st.tapped.ok()
    has_output = bool(await context.workflow.queries.attachments(case.id, st.step.id))
    if step.hands_off and not has_output and st.step.holder_id != case.requester_id:
        await context.workflow.prompts.ask(st.person.id, PromptKind.OUTPUT, step=st.step.id,
                                           card=_card_ref(st.message))
        keyboard = [[Button("Selesai tanpa lampiran", "done_without_output", (st.step.id,))]]
        await reply(update, context, "ask_output", keyboard, step=step.number, outputs=step.outputs)
        return
    await _complete(update, context, st.person, st.step.id, st.message)


@step_tap()
async def on_done_without_output(update: Update, context: AlurContext, st: StepTap) -> None:
    await st.tapped.ok()
    pending = await context.workflow.prompts.pending(st.person.id)
    card = pending.data.get("card") if pending and pending.kind == PromptKind.OUTPUT else None
    await context.workflow.prompts.clear(st.person.id, PromptKind.OUTPUT)
    await drop_buttons(st.message)
    await _complete(update, context, st.person, st.step.id, card)


@step_tap()
async def on_branch(update: Update, context: AlurContext, st: StepTap) -> None:
    """A decision button: take that branch of the SOP.

    A rejecting or returning branch first asks the official why (a prompt kept in the database); the
    decision is taken once, with the typed reason (``answer_decision_reason``) or without it when they
    tap Lewati (this handler again, with a third argument). Until then the step stays open and its card
    keeps its buttons, so another branch can still be chosen.
    """
    _, case, _, step = await context.workflow.queries.step_context(st.step.id)
    index, skip = st.tap.int_arg(1), st.tap.int_arg(2)
    if step.decision is None or index is None or not 0 <= index < len(step.decision.branches):
        await st.tapped.alert(context, "bad_branch")
        return
    await st.tapped.ok()
    prompts = context.workflow.prompts
    asked = await _reason_asked(context, st.person, st.step.id)
    branch = step.decision.branches[index]
    if branch.outcome in ASKS_REASON and skip is None:
        card = asked.data.get("card") if asked else None
        await prompts.ask(st.person.id, PromptKind.DECISION_REASON, step=st.step.id, branch=index,
                          card=_card_ref(st.message) or card)
        keyboard = [[Button("Lewati — putuskan tanpa alasan", "branch", (st.step.id, index, 1))],
                    [Button("✖ Batal", "noop")]]
        await reply(update, context, "ask_decision_reason", keyboard, label=branch.label, step=step.number,
                    register_no=case.register_no, returns=branch.outcome == StepOutcome.RETURN)
        return
    card: Message | CardRef | None = st.message
    if skip is not None:  # Lewati under the question: the card is the one the question was asked about
        card = asked.data.get("card") if asked else None
        await drop_buttons(st.message)
    await _decide(update, context, st.person, st.step.id, index, card, None)


async def _reason_asked(context: AlurContext, person: Person, step_id: int) -> StoredPrompt | None:
    """The person's pending question 'why?' about this step, if that is what the bot is waiting for."""
    pending = await context.workflow.prompts.pending(person.id)
    if pending is None or pending.kind != PromptKind.DECISION_REASON or pending.data.get("step") != step_id:
        return None
    return pending


async def _decide(update: Update, context: AlurContext, person: Person, step_id: int, index: int,
                  card: Message | CardRef | None, reason: str | None) -> None:
    """Take the branch, then forget the question about this step: a crash in between asks nothing twice,
    and a repeated answer finds the step decided and changes nothing."""
    out = await context.workflow.steps.decide(step_id, person.id, index, note=reason)
    if await _reason_asked(context, person, step_id) is not None:
        await context.workflow.prompts.clear(person.id, PromptKind.DECISION_REASON)
    context.kick_outbox()
    chat = update.effective_chat
    assert chat is not None
    await _report(context, chat.id, card, out, "Diputuskan")


@step_tap()
async def on_attach(update: Update, context: AlurContext, st: StepTap) -> None:
    await st.tapped.ok()
    _, _, _, step = await context.workflow.queries.step_context(st.step.id)
    await context.workflow.prompts.ask(st.person.id, PromptKind.ATTACH, step=st.step.id)
    await reply(update, context, "ask_attach", step=step.number, outputs=step.outputs)


@step_tap(holder_only=False)
async def on_detail(update: Update, context: AlurContext, st: StepTap) -> None:
    """ℹ️ Detail: the step, the intake answers and the documents (sent along)."""
    wf = context.workflow
    instance, case, sop, step = await wf.queries.step_context(st.step.id)
    if not wf.access.may_view(st.person, case):
        await st.tapped.alert(context, "not_allowed_view")
        return
    await st.tapped.ok()
    requester, agency = wf.deps.requester_of(case)
    files = await wf.queries.attachments(case.id)
    labels = {f.key: f.label for f in sop.intake}
    await reply(update, context, "step_detail", [[Button("🗺 Bagan alir", "case_chart", (case.id,))]],
                case=case, sop=sop, step=step, instance=instance,
                role=context.services.catalog.roles.name(step.actor), requester=requester, agency=agency,
                intake=[(labels.get(k, k), v) for k, v in case.intake.items()], files=files)
    chat = update.effective_chat
    assert chat is not None
    for f in files[:5]:
        await context.bot.send_document(chat.id, f.file_id, caption=f.file_name or None)


async def _candidates(context: AlurContext, st: StepTap) -> list[Person]:
    _, case, _, _ = await context.workflow.queries.step_context(st.step.id)
    return await context.workflow.delegation.reassign_candidates(context.services.db, st.step, case, st.person)


@step_tap(holder_only=False)
async def on_reassign(update: Update, context: AlurContext, st: StepTap) -> None:
    """↪ Alihkan: colleagues with the role (holder) or anyone in the unit (supervisor)."""
    candidates = await _candidates(context, st)
    if not candidates:
        await st.tapped.alert(context, "not_allowed_reassign")
        return
    await st.tapped.ok()
    _, case, _, step = await context.workflow.queries.step_context(st.step.id)
    book = context.services.catalog.roles
    buttons = [Button(f"{p.name} · {', '.join(book.name(r) for r in p.roles)}", "reassign_to", (st.step.id, p.id))
               for p in candidates[:12]]
    keyboard = [*grid(buttons, 1), [Button("✖ Batal", "noop")]]
    await reply(update, context, "choose_colleague", keyboard, step=step.number, register_no=case.register_no,
                candidates=candidates)


@step_tap(holder_only=False)
async def on_reassign_to(update: Update, context: AlurContext, st: StepTap) -> None:
    to_id = st.tap.int_arg(1)
    to = next((p for p in await _candidates(context, st) if p.id == to_id), None)
    if to is None:
        await st.tapped.alert(context, "not_allowed_reassign")
        return
    await st.tapped.ok()
    await context.workflow.prompts.ask(st.person.id, PromptKind.REASSIGN_REASON, step=st.step.id, to=to.id)
    keyboard = [[Button(r, "reason", (st.step.id, to.id, i))] for i, r in enumerate(REASONS)]
    if st.message is not None:
        await st.message.edit_text(context.text("ask_reason", step=st.step.step_no, to=to.name),
                                   parse_mode=ParseMode.HTML, reply_markup=markup(keyboard))
    else:
        await reply(update, context, "ask_reason", keyboard, step=st.step.step_no, to=to.name)


@step_tap(holder_only=False)
async def on_reason(update: Update, context: AlurContext, st: StepTap) -> None:
    """One of the offered reasons for a disposisi."""
    to_id, index = st.tap.int_arg(1), st.tap.int_arg(2)
    allowed = {p.id for p in await _candidates(context, st)}
    if index is None or index >= len(REASONS) or to_id not in allowed:
        await st.tapped.alert(context, "garbage")
        return
    await st.tapped.ok()
    assert to_id is not None
    await context.workflow.prompts.clear(st.person.id, PromptKind.REASSIGN_REASON)
    await drop_buttons(st.message)
    await _reassign(update, context, st.person, st.step.id, to_id, REASONS[index])


async def _reassign(update: Update, context: AlurContext, person: Person, step_id: int, to_id: int,
                    reason: str) -> None:
    out = await context.workflow.delegation.reassign(step_id, person.id, to_id, reason)
    context.kick_outbox()
    to = await context.services.people.get(to_id)
    await reply(update, context, "reassigned", step=out.step.step_no if out.step else "",
                register_no=out.case.register_no, to=to.name if to else "-", reason=reason)


async def on_noop(update: Update, context: AlurContext, t: Tapped) -> None:
    """✖ Batal on an offer: drop the question and its buttons."""
    await t.ok()
    person = await require_person(update, context)
    if person is not None:
        await context.workflow.prompts.clear(person.id)
    await drop_buttons(t.message)


# ---- answers to prompts (the router in handlers/routes.py calls these with the person's pending prompt)


async def answer_reason(update: Update, context: AlurContext, person: Person, prompt: StoredPrompt) -> None:
    """A typed reason for the disposisi the person started."""
    message = update.effective_message
    if message is None or not message.text:
        await reply_error(update, context, "reason_need_text")
        return
    try:  # the prompt goes only once the answer was acted on: a crash in between replays it (see answer_document)
        await _reassign(update, context, person, int(prompt.data["step"]), int(prompt.data["to"]), message.text)
    finally:
        await context.workflow.prompts.clear(person.id, PromptKind.REASSIGN_REASON)


async def answer_decision_reason(update: Update, context: AlurContext, person: Person,
                                 prompt: StoredPrompt) -> None:
    """The reason for the rejection or return the person chose: now the decision is taken, with it."""
    message = update.effective_message
    text = " ".join((message.text or "").split()) if message is not None else ""
    if not text:
        await reply_error(update, context, "reason_need_text")
        return
    if len(text) > MAX_REASON:
        await reply_error(update, context, "reason_too_long", limit=MAX_REASON)
        return
    card: Any = prompt.data.get("card")
    await _decide(update, context, person, int(prompt.data["step"]), int(prompt.data["branch"]), card, text)


async def answer_document(update: Update, context: AlurContext, person: Person, prompt: StoredPrompt) -> None:
    """The output document asked for by ✅ Selesai (then the step is done) or by 📎 Lampirkan."""
    message = update.effective_message
    upload = upload_of(message) if message is not None else None
    if upload is None:
        await reply_error(update, context, "intake_need_document")
        return
    step_id = int(prompt.data["step"])
    # The prompt is forgotten only after the document was acted on: killed in between, the replayed message
    # finds the prompt still there (completing and attaching are idempotent), instead of "nobody waits for it".
    try:
        if prompt.kind == PromptKind.OUTPUT:
            card: Any = prompt.data.get("card")
            await _complete(update, context, person, step_id, card, output=upload)
            return
        attachment = await context.workflow.steps.attach_output(step_id, person.id, upload)
    finally:
        await context.workflow.prompts.clear(person.id, prompt.kind)
    _, _, _, step = await context.workflow.queries.step_context(step_id)
    await reply(update, context, "attached", step=step.number, file_name=attachment.file_name or "dokumen",
                then_done=False)
