"""Following a request: /status, /lanjut, /riwayat and withdrawing it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from markupsafe import Markup
from telegram import Update
from telegram.ext import ContextTypes

from bot import storage
from bot.storage.records import Case, Person
from bot.text.buttons import Button
from bot.workflow.errors import WorkflowError
from bot.workflow.results import WhatNext
from handlers.common import (
    command_args,
    error_text,
    kick_outbox,
    renderer,
    reply,
    reply_error,
    require_person,
    services,
    tapped,
)
from handlers.keyboards import Tap

PENDING = "pending"


async def _current(context: ContextTypes.DEFAULT_TYPE, wn: WhatNext) -> list[dict[str, Any]]:
    s = services(context)
    now = s.clock.now()
    return [
        {
            "step": c.step,
            "role": s.catalog.roles.name(c.step.actor),
            "holder": c.holder.name if c.holder else None,
            "acting_for": c.acting_for.name if c.acting_for else None,
            "since": c.instance.opened_at,
            "due": c.instance.due_at,
            "late": c.instance.due_at is not None and now > c.instance.due_at,
        }
        for c in wn.current
    ]


async def _case_for(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, ref: str) -> Case | None:
    """The case a person named, or None after saying why not (unknown, not theirs)."""
    case = await services(context).workflow.queries.case_by_ref(ref) if ref else None
    if case is None:
        await reply_error(update, context, "case_not_found")
        return None
    if not services(context).workflow.access.may_view(person, case):
        await reply_error(update, context, "not_allowed_view")
        return None
    return case


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status [nomor]: an officer's requests, a staff member's cases, or one case in detail."""
    person = await require_person(update, context)
    if person is None:
        return
    ref = command_args(context)
    if ref:
        case = await _case_for(update, context, person, ref)
        if case is not None:
            await show_case(update, context, person, case)
        return
    s = services(context)
    mine = not person.is_staff
    if mine:
        cases = await storage.cases.cases_of_requester(s.db.read, person.id)
    else:
        cases = await storage.cases.cases_touched_by(s.db.read, person.id)
    queries = s.workflow.queries
    items = [{"case": c, "current": await _current(context, await queries.what_next(c.id))} for c in cases[:10]]
    await reply(update, context, "status_list", cases=items, mine=mine)


async def show_case(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, case: Case) -> None:
    s = services(context)
    wn = await s.workflow.queries.what_next(case.id)
    requester = await s.people.get(case.requester_id)
    keyboard = [[Button("🧭 Langkah berikutnya", "whatnext", (case.id,)), Button("🧾 Riwayat", "history", (case.id,))]]
    if case.is_open and person.id == case.requester_id:
        keyboard.append([Button("🚫 Batalkan permohonan", "cancel_case", (case.id,))])
    await reply(update, context, "case_card", keyboard, case=case, sop=wn.sop, current=await _current(context, wn),
                following=wn.following, requester=requester.name if requester else "-",
                agency=s.people.agency_name(requester) if requester else "")


async def lanjut(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lanjut <nomor>: current step, holder and since when, due, then what follows."""
    await _case_command(update, context, "lanjut", _whatnext)


async def _case_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, command: str,
    show: Callable[[Update, ContextTypes.DEFAULT_TYPE, Case], Awaitable[None]],
) -> None:
    """A command that takes a register number: usage without one, refusal for someone else's case."""
    person = await require_person(update, context)
    if person is None:
        return
    ref = command_args(context)
    if not ref:
        await reply(update, context, "usage", command=command)
        return
    case = await _case_for(update, context, person, ref)
    if case is not None:
        await show(update, context, case)


async def _whatnext(update: Update, context: ContextTypes.DEFAULT_TYPE, case: Case) -> None:
    wn = await services(context).workflow.queries.what_next(case.id)
    await reply(update, context, "whatnext", case=case, sop=wn.sop, current=await _current(context, wn),
                following=wn.following)


async def riwayat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/riwayat <nomor>: the case's audit trail."""
    await _case_command(update, context, "riwayat", _history)


async def _history(update: Update, context: ContextTypes.DEFAULT_TYPE, case: Case) -> None:
    s = services(context)
    r = renderer(context)
    lines = []
    for ev, actor, behalf in await s.workflow.queries.history(case.id):
        text = r.render("event_line", type=ev.type, data=ev.data, actor=actor.name if actor else None,
                        on_behalf=behalf.name if behalf else None)
        lines.append({"at": ev.at, "text": Markup(text)})
    sop = await s.workflow.deps.sop_of(case)
    await reply(update, context, "history", case=case, sop=sop, events=lines[-40:])


async def _tapped_case(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> tuple[Person, Case] | None:
    query = update.callback_query
    assert query is not None
    found = await tapped(update, context, tap, lambda cid: storage.cases.case(services(context).db, cid))
    if found is None:
        return None
    person, case = found
    if not services(context).workflow.access.may_view(person, case):
        await query.answer(error_text(context, "not_allowed_view"), show_alert=True)
        return None
    await query.answer()
    return person, case


async def on_case(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    found = await _tapped_case(update, context, tap)
    if found:
        await show_case(update, context, *found)


async def on_whatnext(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    found = await _tapped_case(update, context, tap)
    if found:
        await _whatnext(update, context, found[1])


async def on_history(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    found = await _tapped_case(update, context, tap)
    if found:
        await _history(update, context, found[1])


async def on_cancel_case(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    """🚫 Batalkan: the requester is asked for a reason (the next text message)."""
    query = update.callback_query
    assert query is not None
    found = await tapped(update, context, tap, lambda cid: storage.cases.case(services(context).db, cid))
    if found is None:
        return
    person, case = found
    if not (person.id == case.requester_id or person.is_admin):
        await query.answer(error_text(context, "not_allowed_cancel"), show_alert=True)
        return
    if not case.is_open:
        await query.answer(error_text(context, "case_closed"), show_alert=True)
        return
    await query.answer()
    context.user_data[PENDING] = {"kind": "cancel_reason", "case": case.id}
    await reply(update, context, "ask_cancel_reason", register_no=case.register_no)


async def cancel_case(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, case_id: int,
                      reason: str) -> None:
    s = services(context)
    try:
        out = await s.workflow.cancellation.cancel(case_id, person.id, reason)
    except WorkflowError as exc:
        await reply_error(update, context, exc.code, **exc.params)
        return
    kick_outbox(context)
    if out.changed:
        await reply(update, context, "cancelled", register_no=out.case.register_no)
    else:
        await reply_error(update, context, "case_closed")
