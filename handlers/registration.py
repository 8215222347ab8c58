"""/start (OPD officers pick their agency; staff open an invite link) and /bantuan."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.text.buttons import Button
from bot.workflow.errors import PeopleError
from handlers.common import (
    command_args,
    error_text,
    kick_outbox,
    person_of,
    reply,
    reply_error,
    services,
    text_of,
)
from handlers.keyboards import Tap, grid, markup


def _display_name(update: Update) -> str:
    user = update.effective_user
    assert user is not None
    return " ".join(x for x in (user.first_name, user.last_name) if x) or (user.username or "Pengguna")


def _role_names(context: ContextTypes.DEFAULT_TYPE, roles: tuple[str, ...]) -> str:
    book = services(context).catalog.roles
    return ", ".join("Admin" if r == "admin" else book.name(r) for r in roles if r != "requester")


def _unit_name(context: ContextTypes.DEFAULT_TYPE, institution: str | None, unit: str | None) -> str:
    inst = services(context).catalog.institutions.get(institution or "")
    found = inst.unit(unit) if inst and unit else None
    return found.name if found else ""


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Register: an invite code binds staff; anyone else chooses their agency as an OPD officer."""
    user = update.effective_user
    if user is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    s = services(context)
    code = command_args(context)
    if code.startswith("inv_"):
        try:
            person = await s.people.accept_invite(code, telegram_id=user.id, username=user.username,
                                                  name=_display_name(update))
        except PeopleError as exc:
            await reply_error(update, context, exc.code)
            return
        await s.workflow.handover.assign_waiting()
        kick_outbox(context)
        await reply(update, context, "registered_staff", person=person, roles=_role_names(context, person.roles),
                    unit=_unit_name(context, person.institution, person.unit))
        return
    person = await person_of(update, context)
    if person is not None:
        await reply(update, context, "welcome_back", person=person, roles=_role_names(context, person.roles))
        return
    regions = _regions(context)
    if len(regions) == 1:
        await reply(update, context, "welcome_new", _agency_keyboard(context, regions[0][0]),
                    name=_display_name(update), regions=regions)
    else:
        keyboard = grid([Button(name, "region", (inst,)) for inst, name in regions], 1)
        await reply(update, context, "welcome_new", keyboard, name=_display_name(update), regions=regions)


def _regions(context: ContextTypes.DEFAULT_TYPE) -> list[tuple[str, str]]:
    s = services(context)
    seen: dict[str, str] = {}
    for agency in s.agencies.values():
        inst = s.catalog.institutions.get(agency.institution)
        if inst is not None and agency.institution not in seen:
            seen[agency.institution] = inst.name
    # Institutions whose services an officer can request come first.
    requestable = {sop.institution for sop in s.catalog if sop.requester_started}
    return sorted(seen.items(), key=lambda kv: (kv[0] not in requestable, kv[1]))


def _agency_keyboard(context: ContextTypes.DEFAULT_TYPE, institution: str) -> list[list[Button]]:
    agencies = [a for a in services(context).agencies.values() if a.institution == institution]
    return grid([Button(a.name, "agency", (a.id,)) for a in agencies], 1)


async def on_region(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    assert query is not None
    inst = services(context).catalog.institutions.get(tap.str_arg(0) or "")
    if inst is None:
        await query.answer(error_text(context, "garbage"), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(
        text_of(context, "choose_agency", region=inst.name), parse_mode=ParseMode.HTML,
        reply_markup=markup(_agency_keyboard(context, inst.id)),
    )


async def on_agency(update: Update, context: ContextTypes.DEFAULT_TYPE, tap: Tap) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    s = services(context)
    agency = s.agencies.get(tap.str_arg(0) or "")
    if agency is None:
        await query.answer(error_text(context, "unknown_agency"), show_alert=True)
        return
    existing = await s.people.by_telegram(user.id)
    if existing is not None and existing.is_staff:
        await query.answer(error_text(context, "already_staff"), show_alert=True)
        return
    await query.answer()
    try:
        person = await s.people.register_officer(telegram_id=user.id, username=user.username,
                                                 name=_display_name(update), agency_id=agency.id)
    except PeopleError as exc:
        await reply_error(update, context, exc.code)
        return
    await query.edit_message_text(text_of(context, "registered_officer", person=person, agency=agency.name),
                                  parse_mode=ParseMode.HTML)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bantuan: help for the roles this person holds."""
    person = await person_of(update, context)
    if person is None:
        await reply(update, context, "need_registration")
        return
    await reply(
        update, context, "help",
        is_officer=not person.is_staff,
        is_staff=person.is_staff,
        is_supervisor=services(context).workflow.supervision.is_supervisor(person),
    )
