"""/sop: browse the catalog — the list, an SOP card, and paging through its steps."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.sop.model import Sop
from bot.sop.roles import normalise
from bot.text.buttons import Button, Keyboard
from handlers.context import AlurContext
from handlers.keyboards import markup
from handlers.replies import person_of, reply, reply_photo
from handlers.taps import Tapped

STEPS_PER_PAGE = 5


def _matches(sop: Sop, words: list[str]) -> bool:
    hay = normalise(" ".join([sop.id, sop.name, sop.short_name, *sop.keywords, sop.institution]))
    return all(w in hay for w in words)


def sop_list(context: AlurContext, query: str) -> tuple[list[tuple[str, list[Sop]]], Keyboard]:
    s = context.services
    words = normalise(query).split()
    groups: list[tuple[str, list[Sop]]] = []
    keyboard: Keyboard = []
    for inst in s.catalog.institutions.values():
        sops = [sop for sop in s.catalog if sop.institution == inst.id and _matches(sop, words)]
        if sops:
            groups.append((inst.name, sops))
            keyboard.extend([Button(sop.title[:60], "sop", (sop.id,))] for sop in sops)
    return groups, keyboard


async def sop_command(update: Update, context: AlurContext) -> None:
    """/sop [id|kata]: the catalog, filtered by words; an exact id opens the card."""
    query = context.command_args
    s = context.services
    if query and s.catalog.get(query.lower()):
        await send_card(update, context, s.catalog[query.lower()], 0)
        return
    groups, keyboard = sop_list(context, query)
    if sum(len(g[1]) for g in groups) == 1:
        await send_card(update, context, groups[0][1][0], 0)
        return
    await reply(update, context, "sop_list", keyboard, groups=groups, query=query)


async def _card(context: AlurContext, sop: Sop, page: int, can_start: bool) -> tuple[str, Keyboard]:
    s = context.services
    pages = max(1, -(-len(sop.steps) // STEPS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    steps = sop.steps[page * STEPS_PER_PAGE : (page + 1) * STEPS_PER_PAGE]
    inst = s.catalog.institutions.get(sop.institution)
    unit = inst.unit(sop.unit) if inst else None
    total = sop.total_duration()
    lanes = []
    for lane in sop.lanes:
        name = s.catalog.roles.name(lane.role)
        if name not in lanes:
            lanes.append(name)
    text = context.text(
        "sop_card", sop=sop, page=page, steps=steps, institution=inst.name if inst else sop.institution,
        unit=unit.name if unit else "", lanes=lanes, total="" if total.is_zero else total.format(),
        first=page * STEPS_PER_PAGE + 1, last=page * STEPS_PER_PAGE + len(steps),
        inferred=any(st.actor_source == "inferred" for st in steps),
    )
    nav: list[Button] = []
    if page > 0:
        nav.append(Button("◀ Sebelumnya", "sop_page", (sop.id, page - 1)))
    if page < pages - 1:
        nav.append(Button("Berikutnya ▶", "sop_page", (sop.id, page + 1)))
    keyboard: Keyboard = [nav] if nav else []
    if can_start:
        keyboard.append([Button("📝 Ajukan permohonan ini", "intake_start", (sop.id,))])
    keyboard.append([Button("🗺 Bagan alir", "sop_chart", (sop.id,)), Button("📚 Daftar SOP", "sop_list")])
    return text, keyboard


async def _can_start(update: Update, context: AlurContext, sop: Sop) -> bool:
    person = await person_of(update, context)
    return (person is not None and bool(sop.steps) and not sop.steps_missing
            and context.workflow.access.may_start(person, sop))


async def send_card(update: Update, context: AlurContext, sop: Sop, page: int) -> None:
    text, keyboard = await _card(context, sop, page, await _can_start(update, context, sop))
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard))


async def on_sop(update: Update, context: AlurContext, t: Tapped) -> None:
    """A tap on an SOP (from the list, an answer, a page button): show that card, edited in place."""
    sop_id = context.sop_keys.resolve(t.tap.str_arg(0))
    sop = context.services.catalog.get(sop_id or "")
    page = t.tap.int_arg(1) or 0 if t.tap.action == "sop_page" else 0
    if sop is None:
        await t.alert_text(context.error_text("stale"))
        return
    await t.ok()
    text, keyboard = await _card(context, sop, page, await _can_start(update, context, sop))
    try:
        await t.query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard))
    except BadRequest:
        await send_card(update, context, sop, page)


async def on_step(update: Update, context: AlurContext, t: Tapped) -> None:
    """Open an SOP card at the page holding a given step (from an answer's 'Lihat langkah' button)."""
    sop = context.services.catalog.get(context.sop_keys.resolve(t.tap.str_arg(0)) or "")
    number = t.tap.str_arg(1)
    if sop is None or number is None or not sop.has_step(number):
        await t.alert_text(context.error_text("stale"))
        return
    await t.ok()
    index = [st.number for st in sop.steps].index(number)
    await send_card(update, context, sop, index // STEPS_PER_PAGE)


async def on_sop_list(update: Update, context: AlurContext, t: Tapped) -> None:
    await t.ok()
    groups, keyboard = sop_list(context, "")
    await t.query.edit_message_text(context.text("sop_list", groups=groups, query=""), parse_mode=ParseMode.HTML,
                                  reply_markup=markup(keyboard))


async def on_sop_chart(update: Update, context: AlurContext, t: Tapped) -> None:
    """🗺 Bagan alir: the SOP's flowchart (Permenpan-RB layout) as a photo."""
    sop = context.services.catalog.get(context.sop_keys.resolve(t.tap.str_arg(0)) or "")
    if sop is None:
        await t.alert_text(context.error_text("stale"))
        return
    await t.ok()
    await reply_photo(update, context, lambda: context.services.pictures.sop_chart(sop), "flowchart_caption",
                      sop=sop, case=None)
