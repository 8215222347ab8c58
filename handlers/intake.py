"""/ajukan: choose a service, answer its intake fields one at a time, attach documents, confirm.

The answers are saved in the draft after each message and the person's pending prompt says the
bot waits for their next intake answer (bot.workflow.intake), so a restart anywhere in between
continues where they were. A repeated delivery of the same message or tap changes nothing.
"""

from __future__ import annotations

from telegram import Update

from bot.storage.records import Person, StoredPrompt
from bot.text.buttons import Button, Keyboard
from bot.workflow.errors import WorkflowError
from bot.workflow.intake import Draft
from handlers.context import AlurContext
from handlers.keyboards import grid
from handlers.replies import drop_buttons, edit_or_reply, reply, reply_error, require_person
from handlers.taps import Tapped
from handlers.uploads import upload_of


async def ask(update: Update, context: AlurContext, draft: Draft, *, intro: bool = False) -> None:
    """Ask the draft's current field, or show the summary when all are answered."""
    fld = draft.current
    if fld is None:
        keyboard = [[Button("✅ Kirim", "intake_confirm")],
                    [Button("✏️ Ulangi", "intake_restart"), Button("✖ Batal", "intake_cancel")]]
        await reply(update, context, "intake_summary", keyboard, draft=draft)
        return
    rows: Keyboard = []
    if fld.kind == "choice":
        rows.extend([Button(choice, "intake_choice", (i, draft.position))] for i, choice in enumerate(fld.choices))
    tail = [Button("✖ Batal", "intake_cancel")]
    if not fld.required:
        tail.insert(0, Button("Lewati ⏭", "intake_skip", (draft.position,)))
    rows.append(tail)
    inst = context.services.catalog.institutions.get(draft.sop.institution)
    total = draft.sop.total_duration()
    await reply(
        update, context, "intake_question", rows, draft=draft, field=fld, sop=draft.sop, intro=intro,
        institution=inst.name if inst else "", total_text="" if total.is_zero else total.format(),
        documents=[f.label for f in draft.sop.intake if f.kind == "document"],
    )


async def ajukan(update: Update, context: AlurContext) -> None:
    """/ajukan: offer to resume a saved draft, or list the services this person may request."""
    person = await require_person(update, context)
    if person is None:
        return
    try:
        draft = await context.services.intake.get(person.id)
    except WorkflowError as exc:
        await _form_changed(update, context, person, exc)
        return
    if draft is not None:
        keyboard = [[Button("▶️ Lanjutkan isian", "intake_resume")], [Button("🆕 Mulai baru", "intake_restart")]]
        await reply(update, context, "intake_resume", keyboard, draft=draft)
        return
    await _offer_services(update, context, person)


async def _offer_services(update: Update, context: AlurContext, person: Person) -> None:
    catalog = context.services.catalog
    access = context.workflow.access
    sops = [sop for sop in catalog if sop.steps and not sop.steps_missing and access.may_start(person, sop)]
    names = {i.id: i.name for i in catalog.institutions.values()}
    keyboard = grid([Button(sop.title, "intake_start", (sop.id,)) for sop in sops], 1)
    keyboard.append([Button("✖ Batal", "intake_cancel")])
    await edit_or_reply(update, context, "intake_choose", keyboard if sops else None, sops=sops,
                        institution_names=names)


async def on_choose(update: Update, context: AlurContext, t: Tapped) -> None:
    """A service was tapped: start its draft and ask the first field."""
    person = await require_person(update, context)
    if person is None:
        return
    sop_id = context.sop_keys.resolve(t.tap.str_arg(0))
    if sop_id is None:
        await t.alert(context, "garbage")
        return
    try:
        draft = await context.services.intake.start(person.id, sop_id)
    except WorkflowError as exc:
        await t.alert(context, exc.code, **exc.params)
        return
    await t.ok()
    await drop_buttons(t.message)
    await ask(update, context, draft, intro=True)


async def _form_changed(update: Update, context: AlurContext, person: Person, exc: WorkflowError) -> None:
    """Say why the person's draft starts again (its form changed), then ask its first field; other refusals
    are just said."""
    await reply_error(update, context, exc.code, **exc.params)
    if exc.code != "intake_changed":
        return
    draft = await context.services.intake.get(person.id)
    if draft is not None:
        await ask(update, context, draft, intro=True)


async def _tapped_draft(update: Update, context: AlurContext, t: Tapped) -> tuple[Person, Draft] | None:
    """The person who tapped and their saved draft, or None after an alert that there is none."""
    person = await require_person(update, context)
    if person is None:
        return None
    try:
        draft = await context.services.intake.get(person.id)
    except WorkflowError as exc:
        await t.ok()
        await drop_buttons(t.message)
        await _form_changed(update, context, person, exc)
        return None
    if draft is None:
        await t.alert(context, "no_draft")
        return None
    await t.ok()
    return person, draft


async def on_resume(update: Update, context: AlurContext, t: Tapped) -> None:
    found = await _tapped_draft(update, context, t)
    if found is None:
        return
    person, draft = found
    await context.services.intake.resume(person.id)
    await drop_buttons(t.message)
    await ask(update, context, draft, intro=draft.position == 0)


async def on_restart(update: Update, context: AlurContext, t: Tapped) -> None:
    person = await require_person(update, context)
    if person is None:
        return
    await t.ok()
    await context.services.intake.discard(person.id)
    await _offer_services(update, context, person)


async def on_skip(update: Update, context: AlurContext, t: Tapped) -> None:
    person = await require_person(update, context)
    if person is None:
        return
    try:
        draft = await context.services.intake.skip(person.id, position=t.tap.int_arg(0))
    except WorkflowError as exc:
        if exc.code == "intake_changed":
            await t.ok()
            await _form_changed(update, context, person, exc)
        else:
            await t.alert(context, exc.code, **exc.params)
        return
    await t.ok()
    await drop_buttons(t.message)
    await ask(update, context, draft)


async def on_choice(update: Update, context: AlurContext, t: Tapped) -> None:
    person = await require_person(update, context)
    if person is None:
        return
    intake = context.services.intake
    try:
        draft = await intake.get(person.id)
    except WorkflowError as exc:
        await t.ok()
        await _form_changed(update, context, person, exc)
        return
    index, position = t.tap.int_arg(0), t.tap.int_arg(1)
    fld = draft.current if draft else None
    if (draft is None or fld is None or fld.kind != "choice" or index is None or index >= len(fld.choices)
            or position != draft.position):
        await t.alert(context, "stale")
        return
    await t.ok()
    await drop_buttons(t.message)
    await ask(update, context, await intake.answer_text(person.id, fld.choices[index], position=position))


async def on_confirm(update: Update, context: AlurContext, t: Tapped) -> None:
    """Submit: the case is filed and the draft deleted in one transaction."""
    found = await _tapped_draft(update, context, t)
    if found is None:
        return
    person, draft = found
    try:
        out = await context.services.intake.submit(person.id)
    except WorkflowError as exc:
        if exc.code == "intake_changed":
            await drop_buttons(t.message)
            await _form_changed(update, context, person, exc)
            return
        await reply_error(update, context, exc.code, **exc.params)
        if exc.code.startswith("intake"):
            await ask(update, context, draft)
        return
    context.kick_outbox()
    await edit_or_reply(update, context, "intake_sent", register_no=out.case.register_no)


async def on_cancel(update: Update, context: AlurContext, t: Tapped) -> None:
    """✖ Batal: discard the draft."""
    await t.ok()
    await drop_buttons(t.message)
    person = await require_person(update, context)
    if person is not None:
        await context.services.intake.discard(person.id)
    await reply(update, context, "intake_cancelled")


async def answer(update: Update, context: AlurContext, person: Person, prompt: StoredPrompt) -> None:
    """The person's next message while their draft waits: the answer to its current field."""
    message = update.effective_message
    assert message is not None
    intake = context.services.intake
    try:
        upload = upload_of(message)
        if upload is not None:
            draft = await intake.answer_file(person.id, upload, message_id=message.message_id)
        else:
            draft = await intake.answer_text(person.id, message.text or "", message_id=message.message_id)
    except WorkflowError as exc:
        if exc.code == "no_draft":
            await context.workflow.prompts.clear(person.id, prompt.kind)
            await reply_error(update, context, "no_draft")
            return
        await _form_changed(update, context, person, exc)
        return
    await ask(update, context, draft)


async def cancel(update: Update, context: AlurContext, person: Person) -> None:
    """/batal while filling a request: the draft is discarded."""
    await context.services.intake.discard(person.id)
    await reply(update, context, "intake_cancelled")
