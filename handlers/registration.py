"""/start (OPD officers pick their agency; staff open an invite link) and /bantuan."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.text.buttons import Button
from bot.workflow.errors import PeopleError
from handlers.context import AlurContext
from handlers.keyboards import grid, markup
from handlers.replies import edit_or_reply, person_of, reply, reply_error
from handlers.taps import Tapped


def _display_name(update: Update) -> str:
    user = update.effective_user
    assert user is not None
    return " ".join(x for x in (user.first_name, user.last_name) if x) or (user.username or "Pengguna")


def _role_names(context: AlurContext, roles: tuple[str, ...]) -> str:
    book = context.services.catalog.roles
    return ", ".join(book.name(r) for r in roles if r != "requester")


def _unit_name(context: AlurContext, institution: str | None, unit: str | None) -> str:
    return context.workflow.deps.unit_name(institution, unit) if institution and unit else ""


async def start(update: Update, context: AlurContext) -> None:
    """Register: an invite code binds staff; anyone else chooses their agency as an OPD officer.

    A deactivated account is told so and nothing else happens (only an admin reactivates it); a
    @username the people file lists is no proof of identity: its owner is told to open the admin's invite.
    """
    user = update.effective_user
    if user is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    s = context.services
    code = context.command_args
    if code.startswith("inv_"):
        try:
            person = await s.people.accept_invite(code, telegram_id=user.id, username=user.username,
                                                  name=_display_name(update))
        except PeopleError as exc:
            await reply_error(update, context, exc.code)
            return
        await s.workflow.handover.assign_waiting()
        context.kick_outbox()
        await reply(update, context, "registered_staff", person=person, roles=_role_names(context, person.roles),
                    unit=_unit_name(context, person.institution, person.unit))
        return
    known = await s.people.by_telegram(user.id)
    if known is not None and not known.active:
        await reply_error(update, context, "deactivated")
        return
    person = await person_of(update, context)
    if person is not None:
        await reply(update, context, "welcome_back", person=person, roles=_role_names(context, person.roles))
        return
    if await s.people.listed_unbound(user.username) is not None:
        await reply(update, context, "staff_needs_invite")
    regions = _regions(context)
    if len(regions) == 1:
        await reply(update, context, "welcome_new", _agency_keyboard(context, regions[0][0]),
                    name=_display_name(update), regions=regions)
    else:
        keyboard = grid([Button(name, "region", (inst,)) for inst, name in regions], 1)
        await reply(update, context, "welcome_new", keyboard, name=_display_name(update), regions=regions)


def _regions(context: AlurContext) -> list[tuple[str, str]]:
    s = context.services
    seen: dict[str, str] = {}
    for agency in s.agencies.values():
        inst = s.catalog.institutions.get(agency.institution)
        if inst is not None and agency.institution not in seen:
            seen[agency.institution] = inst.name
    # Institutions whose services an officer can request come first.
    requestable = {sop.institution for sop in s.catalog if sop.requester_started}
    return sorted(seen.items(), key=lambda kv: (kv[0] not in requestable, kv[1]))


def _agency_keyboard(context: AlurContext, institution: str) -> list[list[Button]]:
    agencies = [a for a in context.services.agencies.values() if a.institution == institution]
    return grid([Button(a.name, "agency", (a.id,)) for a in agencies], 1)


async def on_region(update: Update, context: AlurContext, t: Tapped) -> None:
    inst = context.services.catalog.institutions.get(t.tap.str_arg(0) or "")
    if inst is None:
        await t.alert_text(context.error_text("garbage"))
        return
    await t.ok()
    await t.query.edit_message_text(
        context.text("choose_agency", region=inst.name), parse_mode=ParseMode.HTML,
        reply_markup=markup(_agency_keyboard(context, inst.id)),
    )


async def on_agency(update: Update, context: AlurContext, t: Tapped) -> None:
    user = update.effective_user
    assert user is not None
    s = context.services
    agency = s.agencies.get(t.tap.str_arg(0) or "")
    if agency is None:
        await t.alert_text(context.error_text("unknown_agency"))
        return
    existing = await s.people.by_telegram(user.id)
    if existing is not None and existing.is_staff:
        await t.alert_text(context.error_text("already_staff"))
        return
    if existing is not None and not existing.active:
        await t.alert(context, "deactivated")
        return
    await t.ok()
    try:
        person = await s.people.register_officer(telegram_id=user.id, username=user.username,
                                                 name=_display_name(update), agency_id=agency.id)
    except PeopleError as exc:
        await reply_error(update, context, exc.code)
        return
    await edit_or_reply(update, context, "registered_officer", person=person, agency=agency.name)


async def help_command(update: Update, context: AlurContext) -> None:
    """/bantuan: help for the roles this person holds."""
    person = await person_of(update, context)
    if person is None:
        await reply(update, context, "need_registration")
        return
    await reply(
        update, context, "help",
        is_officer=not person.is_staff,
        is_staff=person.is_staff,
        is_supervisor=context.services.workflow.supervision.is_supervisor(person),
    )
