"""Following a request: /status, /lanjut, /riwayat and withdrawing it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from markupsafe import Markup
from telegram import Update

from bot.core.states import PromptKind
from bot.storage.records import Case, Person, StoredPrompt
from bot.text.buttons import Button
from bot.workflow.results import WhatNext
from handlers.context import AlurContext
from handlers.replies import reply, reply_error, reply_photo, require_person
from handlers.taps import CaseTap, case_tap

SHOWN_CASES = 10


def _current(context: AlurContext, wn: WhatNext) -> list[dict[str, Any]]:
    now = context.services.clock.now()
    roles = context.services.catalog.roles
    return [
        {
            "step": c.step,
            "role": roles.name(c.step.actor),
            "holder": c.holder.name if c.holder else None,
            "acting_for": c.acting_for.name if c.acting_for else None,
            "since": c.instance.opened_at,
            "due": c.instance.due_at,
            "late": c.instance.due_at is not None and now > c.instance.due_at,
        }
        for c in wn.current
    ]


async def _case_for(update: Update, context: AlurContext, person: Person, ref: str) -> Case | None:
    """The case a person named, or None after one answer for "no such number" and "not yours to see" alike:
    telling them apart would confirm that another agency's register number exists."""
    case = await context.workflow.queries.case_by_ref(ref) if ref else None
    if case is None or not context.workflow.access.may_view(person, case):
        await reply(update, context, "case_unavailable", ref=ref)
        return None
    return case


async def status(update: Update, context: AlurContext) -> None:
    """/status [nomor]: an officer's requests, a staff member's cases, or one case in detail."""
    person = await require_person(update, context)
    if person is None:
        return
    ref = context.command_args
    if ref:
        case = await _case_for(update, context, person, ref)
        if case is not None:
            await show_case(update, context, person, case)
        return
    queries = context.workflow.queries
    mine = not person.is_staff
    cases = await (queries.cases_filed_by(person.id) if mine else queries.cases_worked_on(person.id))
    cases = context.workflow.access.visible(person, cases)
    items = [{"case": c, "current": _current(context, await queries.what_next(c.id))} for c in cases[:SHOWN_CASES]]
    await reply(update, context, "status_list", cases=items, mine=mine)


async def show_case(update: Update, context: AlurContext, person: Person, case: Case) -> None:
    wn = await context.workflow.queries.what_next(case.id)
    requester, agency = context.workflow.deps.requester_of(case)
    keyboard = [[Button("🧭 Langkah berikutnya", "whatnext", (case.id,)), Button("🧾 Riwayat", "history", (case.id,))],
                [Button("🗺 Bagan alir", "case_chart", (case.id,))]]
    if case.is_open and context.workflow.access.may_cancel(person, case):
        keyboard.append([Button("🚫 Batalkan permohonan", "cancel_case", (case.id,))])
    await reply(update, context, "case_card", keyboard, case=case, sop=wn.sop, current=_current(context, wn),
                following=wn.following, requester=requester, agency=agency)


async def _case_command(update: Update, context: AlurContext, command: str,
                        show: Callable[[Update, AlurContext, Case], Awaitable[None]]) -> None:
    """A command that takes a register number: usage without one, refusal for someone else's case."""
    person = await require_person(update, context)
    if person is None:
        return
    ref = context.command_args
    if not ref:
        await reply(update, context, "usage", command=command)
        return
    case = await _case_for(update, context, person, ref)
    if case is not None:
        await show(update, context, case)


async def lanjut(update: Update, context: AlurContext) -> None:
    """/lanjut <nomor>: current step, holder and since when, due, then what follows."""
    await _case_command(update, context, "lanjut", _whatnext)


async def riwayat(update: Update, context: AlurContext) -> None:
    """/riwayat <nomor>: the case's audit trail."""
    await _case_command(update, context, "riwayat", _history)


async def _whatnext(update: Update, context: AlurContext, case: Case) -> None:
    wn = await context.workflow.queries.what_next(case.id)
    await reply(update, context, "whatnext", case=case, sop=wn.sop, current=_current(context, wn),
                following=wn.following)


async def _history(update: Update, context: AlurContext, case: Case) -> None:
    wf = context.workflow
    lines = []
    for ev, actor, behalf in await wf.queries.history(case.id):
        text = context.text("event_line", type=ev.type, data=ev.data, actor=actor.name if actor else None,
                            on_behalf=behalf.name if behalf else None)
        lines.append({"at": ev.at, "text": Markup(text)})
    sop = await wf.deps.sop_of(case)
    await reply(update, context, "history", case=case, sop=sop, events=lines[-40:])


@case_tap()
async def on_case(update: Update, context: AlurContext, ct: CaseTap) -> None:
    await ct.tapped.ok()
    await show_case(update, context, ct.person, ct.case)


@case_tap()
async def on_whatnext(update: Update, context: AlurContext, ct: CaseTap) -> None:
    await ct.tapped.ok()
    await _whatnext(update, context, ct.case)


@case_tap()
async def on_history(update: Update, context: AlurContext, ct: CaseTap) -> None:
    await ct.tapped.ok()
    await _history(update, context, ct.case)


@case_tap()
async def on_case_chart(update: Update, context: AlurContext, ct: CaseTap) -> None:
    """🗺 Bagan alir of a case: the SOP's flowchart with finished steps ticked and the current one marked."""
    await ct.tapped.ok()
    sop = await context.workflow.deps.sop_of(ct.case)
    await reply_photo(update, context, lambda: context.services.pictures.case_chart(ct.case), "flowchart_caption",
                      sop=sop, case=ct.case)


@case_tap(allowed=lambda access, person, case: access.may_cancel(person, case), refusal="not_allowed_cancel")
async def on_cancel_case(update: Update, context: AlurContext, ct: CaseTap) -> None:
    """🚫 Batalkan: the requester is asked for a reason (their next text message)."""
    if not ct.case.is_open:
        await ct.tapped.alert(context, "case_closed")
        return
    await ct.tapped.ok()
    await context.workflow.prompts.ask(ct.person.id, PromptKind.CANCEL_REASON, case=ct.case.id)
    await reply(update, context, "ask_cancel_reason", register_no=ct.case.register_no)


async def answer_cancel_reason(update: Update, context: AlurContext, person: Person, prompt: StoredPrompt) -> None:
    """The reason for withdrawing a request: the request is cancelled."""
    message = update.effective_message
    if message is None or not message.text:
        await reply_error(update, context, "reason_need_text")
        return
    try:  # forgotten only once acted on, so a crash in between replays the reason (a second cancel is a no-op)
        out = await context.workflow.cancellation.cancel(int(prompt.data["case"]), person.id, message.text)
    finally:
        await context.workflow.prompts.clear(person.id, PromptKind.CANCEL_REASON)
    context.kick_outbox()
    if out.changed:
        await reply(update, context, "cancelled", register_no=out.case.register_no)
    else:
        await reply_error(update, context, "case_closed")
