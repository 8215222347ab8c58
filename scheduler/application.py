"""The python-telegram-bot Application: services in bot_data, handlers registered in one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import storage
from bot.core.states import UpdateState
from bot.qa.answers import Answerer
from bot.runtime import Services
from bot.text.charts import shutdown_worker as shutdown_chart_worker
from bot.text.render import Renderer
from handlers import cases, catalog, intake, questions, registration, supervision, tasks
from handlers.common import KICK, RENDERER, SERVICES, SOP_KEYS, error_text, services
from handlers.keyboards import SopKeys, Tap, decode
from scheduler.ledger import LedgerApplication, LedgerQueue, UpdateLedger
from scheduler.ratelimit import BULK, ChatRateLimiter
from scheduler.sender import OutboxSender
from scheduler.updates import MAX_CONCURRENT, MAX_QUEUE, STRANGER_INTERVAL, PerChatUpdateProcessor

log = logging.getLogger(__name__)

SENDER = "sender"
START_SENDER = "start_sender"
COMMANDS_TASK = "commands_task"

PUBLIC_COMMANDS = [
    ("start", "Daftar / mulai"),
    ("ajukan", "Ajukan permohonan"),
    ("status", "Posisi permohonan Anda"),
    ("lanjut", "Langkah berikutnya sebuah permohonan"),
    ("sop", "Telusuri SOP"),
    ("siapa", "Siapa yang menangani sesuatu"),
    ("bantuan", "Panduan"),
    ("batal", "Batalkan isian/tindakan"),
]
STAFF_COMMANDS = [
    ("tugas", "Tugas saya"),
    ("status", "Permohonan yang saya tangani"),
    ("lanjut", "Langkah berikutnya sebuah permohonan"),
    ("riwayat", "Jejak audit permohonan"),
    ("ringkasan", "Ringkasan pimpinan"),
    ("sop", "Telusuri SOP"),
    ("siapa", "Siapa yang menangani sesuatu"),
    ("bantuan", "Panduan"),
    ("batal", "Batalkan tindakan"),
]

TapHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Tap], Awaitable[None]]
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
    "tasks": supervision.on_tasks,
    "total": questions.on_total,
}


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every button outside /ajukan: decode the ids, then the area's handler re-checks authority."""
    query = update.callback_query
    assert query is not None
    tap = decode(query.data)
    handler = TAP_HANDLERS.get(tap.action) if tap else None
    if tap is None or handler is None:
        await query.answer(error_text(context, "garbage"), show_alert=True)
        return
    await handler(update, context, tap)


async def on_batal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/batal outside a conversation: drop a pending question (reason, document)."""
    cleared = await tasks.cancel_pending(update, context)
    await registration.reply(update, context, "cancelled_pending" if cleared else "error", code="nothing_to_cancel",
                             params={})


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text outside a conversation: the answer to a pending question, else a question about the SOPs."""
    await tasks.on_pending_input(update, context)
    await questions.on_question(update, context)


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await tasks.on_pending_input(update, context)
    await registration.reply(update, context, "file_without_context")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if isinstance(context.error, BadRequest) and "query is too old" in str(context.error).lower():
        log.warning("a button tap was answered too late (Telegram had given up on it)")
        return
    log.error("unhandled error in a handler", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await registration.reply(update, context, "error", code="internal", params={})
        except Exception:  # the error path must not raise again
            log.exception("could not tell the user about the error")


def register_handlers(app: Application, draft_users: set[int]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        app.add_handler(intake.conversation(draft_users))
    app.add_handler(CommandHandler("start", registration.start))
    app.add_handler(CommandHandler(["bantuan", "help"], registration.help_command))
    app.add_handler(CommandHandler("tugas", tasks.tugas))
    app.add_handler(CommandHandler("status", cases.status))
    app.add_handler(CommandHandler("lanjut", cases.lanjut))
    app.add_handler(CommandHandler("riwayat", cases.riwayat))
    app.add_handler(CommandHandler("sop", catalog.sop_command))
    app.add_handler(CommandHandler("siapa", questions.siapa))
    app.add_handler(CommandHandler("ringkasan", supervision.ringkasan))
    app.add_handler(CommandHandler("batal", on_batal))
    app.add_handler(CallbackQueryHandler(on_tap))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text))
    app.add_handler(MessageHandler((filters.Document.ALL | filters.PHOTO) & filters.ChatType.PRIVATE, on_file))
    app.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, questions.unknown_command))
    app.add_error_handler(on_error)


async def set_commands(app: Application) -> None:
    """The command menu: a public one, and a staff one per staff chat (Telegram's chat scope).

    Each staff menu is paced by the rate limiter like a bulk message to that chat, so a large staff
    list never competes with replies.
    """
    bot = app.bot
    await bot.set_my_commands([BotCommand(c, d) for c, d in PUBLIC_COMMANDS], scope=BotCommandScopeDefault())
    s: Services = app.bot_data[SERVICES]
    for person in await s.people.all():
        if person.is_staff and person.telegram_id:
            await bot.set_my_commands([BotCommand(c, d) for c, d in STAFF_COMMANDS],
                                      scope=BotCommandScopeChat(person.telegram_id),
                                      rate_limit_args={"pace_chat": person.telegram_id, "priority": BULK})


async def _commands_in_background(app: Application) -> None:
    """Set the menus once the bot is taking updates: start-up never waits for one call per staff member."""
    for _ in range(600):
        if app.running and (app.updater is None or app.updater.running):
            break
        await asyncio.sleep(0.05)
    try:
        await set_commands(app)
    except asyncio.CancelledError:
        raise
    except Exception:  # a menu is a convenience: the next start sets it again
        log.exception("could not set the command menus")


async def flood_notice(app: Application, update: Update) -> None:
    """The one polite notice a person gets when their messages come faster than the bot takes them."""
    chat = update.effective_chat
    if chat is None:
        return
    renderer: Renderer = app.bot_data[RENDERER]
    await app.bot.send_message(chat.id, renderer.render("flood_notice", limit=MAX_QUEUE), parse_mode=ParseMode.HTML)


def stranger_check(services_: Services) -> Callable[[Update], Awaitable[bool]]:
    async def is_stranger(update: Update) -> bool:
        user = update.effective_user
        if user is None:
            return True
        person = await storage.people.person_by_telegram(services_.db.read, user.id)
        return person is None or not person.active
    return is_stranger


def build_application(
    services_: Services,
    *,
    token: str,
    base_url: str | None = None,
    base_file_url: str | None = None,
    start_sender: bool = True,
    limiter: ChatRateLimiter | None = None,
    read_timeout: float = 5.0,
    webhook: bool = False,
    max_concurrent_updates: int = MAX_CONCURRENT,
    stranger_interval: float = STRANGER_INTERVAL,
) -> Application:
    """The Application, wired to the services; the outbox sender runs beside it.

    ``webhook``: updates arrive by HTTP, so the queue waits for each to be on disk before
    answering Telegram (polling confirms with the next getUpdates, which the ledger precedes).
    """
    ledger = UpdateLedger(services_.db, services_.clock)
    limiter = limiter or ChatRateLimiter()
    limiter.before("getUpdates", ledger.flush)
    holder: dict[str, Application] = {}

    async def on_overflow(update: Update) -> None:
        await flood_notice(holder["app"], update)

    async def on_drop(update: Update, reason: str) -> None:
        ledger.finish(update.update_id, UpdateState.DROPPED)

    processor = PerChatUpdateProcessor(
        max_concurrent_updates, is_stranger=stranger_check(services_), on_overflow=on_overflow, on_drop=on_drop,
        stranger_interval=stranger_interval)
    builder = (
        ApplicationBuilder()
        .token(token)
        .read_timeout(read_timeout)
        .get_updates_read_timeout(read_timeout)
        .rate_limiter(limiter)
        .update_queue(LedgerQueue(ledger, wait_for_disk=webhook))
        .application_class(LedgerApplication)
        .concurrent_updates(processor)
    )
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)

    app = builder.post_init(startup).post_shutdown(shutdown).build()
    holder["app"] = app
    app.ledger = ledger  # type: ignore[attr-defined]
    renderer = Renderer(services_.settings.timezone)
    renderer.env.globals["role_names"] = {r.id: r.name for r in services_.catalog.roles.roles.values()}
    draft_users: set[int] = set()
    app.bot_data[SERVICES] = services_
    app.bot_data[RENDERER] = renderer
    app.bot_data[SOP_KEYS] = SopKeys(services_.catalog)
    app.bot_data[questions.ANSWERER] = Answerer(services_.catalog, renderer, services_.calendar)
    app.bot_data[intake.INTAKE] = services_.intake
    app.bot_data[intake.DRAFT_USERS] = draft_users
    app.bot_data[START_SENDER] = start_sender
    register_handlers(app, draft_users)
    return app


async def startup(app: Application) -> None:
    """After initialize(): the command menu, drafts to resume, and the outbox sender (PTB's post_init)."""
    services_: Services = app.bot_data[SERVICES]
    sender = OutboxSender(services_, app.bot, app.bot_data[RENDERER])
    app.bot_data[SENDER] = sender
    app.bot_data[KICK] = sender.kick
    app.bot_data[intake.DRAFT_USERS].update(await app.bot_data[intake.INTAKE].telegram_ids_with_drafts())
    app.bot_data[COMMANDS_TASK] = asyncio.create_task(_commands_in_background(app), name="command-menus")
    ledger: UpdateLedger | None = getattr(app, "ledger", None)
    if ledger is not None:
        await ledger.replay(app)
    if app.bot_data[START_SENDER]:
        sender.start()
    else:
        await sender.recover()


async def shutdown(app: Application) -> None:
    menus: asyncio.Task[None] | None = app.bot_data.pop(COMMANDS_TASK, None)
    if menus is not None and not menus.done():
        menus.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await menus
    sender: OutboxSender | None = app.bot_data.get(SENDER)
    if sender is not None and app.bot_data.get(START_SENDER):
        await sender.stop()
    await asyncio.to_thread(shutdown_chart_worker)
    ledger: UpdateLedger | None = getattr(app, "ledger", None)
    if ledger is not None and ledger.failed is None:
        try:
            await asyncio.wait_for(ledger.drain(), timeout=15)
        except Exception:  # what is not marked is replayed (once) at the next start
            log.warning("could not write every handled mark before stopping")


__all__ = ["build_application", "services"]
