"""The python-telegram-bot Application: the update ledger, the per-chat processor, the rate limiter, the
outbox sender, and the feature handlers (registered by handlers.routes) with their typed context."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot import storage
from bot.core.states import UpdateState
from bot.qa.answers import Answerer
from bot.runtime import Services
from bot.text.charts import shutdown_worker as shutdown_chart_worker
from bot.text.render import Renderer
from handlers import routes
from handlers.context import AlurContext, BotData
from handlers.keyboards import SopKeys
from handlers.menus import set_commands
from handlers.replies import looked_up
from scheduler.ledger import LedgerApplication, LedgerQueue, UpdateLedger
from scheduler.ratelimit import ChatRateLimiter
from scheduler.request import AiohttpRequest
from scheduler.sender import OutboxSender
from scheduler.updates import MAX_CONCURRENT, MAX_QUEUE, STRANGER_INTERVAL, PerChatUpdateProcessor

log = logging.getLogger(__name__)

MENU_WAIT = 30.0
"""Seconds the command menus wait for the bot to take updates before they are set anyway."""


class AlurApplication(LedgerApplication):
    """The Application with the transport's own parts beside PTB's."""

    services: Services
    sender: OutboxSender | None = None
    start_sender: bool = True
    menus: asyncio.Task[None] | None = None
    shared: bool = False
    """One of several workers on PostgreSQL: the cluster (scheduler/cluster.py) starts the sender
    when this worker is elected, and updates come from claims, not from a replay at start."""


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
    shared: bool = False,
) -> AlurApplication:
    """The Application, wired to the services; the outbox sender runs beside it.

    ``webhook``: updates arrive by HTTP, so the queue waits for each to be on disk before
    answering Telegram (polling confirms with the next getUpdates, which the ledger precedes).
    """
    ledger = UpdateLedger(services_.db, services_.clock)
    if shared:
        ledger.shared = True
        if limiter is None:  # a limiter the caller made (the benchmark's, with limits off) is used as it is
            limiter = ChatRateLimiter()
            limiter.shared = shared_pacing(services_)
    limiter = limiter or ChatRateLimiter()
    built: list[AlurApplication] = []

    async def on_overflow(update: Update) -> None:
        await flood_notice(built[0], update)

    async def on_drop(update: Update, reason: str) -> None:
        ledger.finish(update.update_id, UpdateState.DROPPED)

    processor = PerChatUpdateProcessor(
        max_concurrent_updates, is_stranger=stranger_check(services_), on_overflow=on_overflow, on_drop=on_drop,
        stranger_interval=stranger_interval)
    builder = (
        ApplicationBuilder()
        .token(token)
        .request(AiohttpRequest(read_timeout=read_timeout))
        .get_updates_request(AiohttpRequest(1, read_timeout=read_timeout, before=ledger.flush))
        .rate_limiter(limiter)
        .update_queue(LedgerQueue(ledger, wait_for_disk=webhook))
        .application_class(AlurApplication)
        .context_types(ContextTypes(context=AlurContext, bot_data=BotData))
        .concurrent_updates(processor)
    )
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)

    app: AlurApplication = builder.post_init(startup).post_shutdown(shutdown).build()  # type: ignore[assignment]
    built.append(app)
    app.ledger = ledger
    app.services = services_
    app.start_sender = start_sender
    app.shared = shared
    renderer = Renderer(services_.settings.timezone)
    renderer.env.globals["role_names"] = {r.id: r.name for r in services_.catalog.roles.roles.values()}
    data: BotData = app.bot_data
    data.services = services_
    data.renderer = renderer
    data.sop_keys = SopKeys(services_.catalog)
    data.answerer = Answerer(services_.catalog, renderer, services_.calendar)
    routes.register(app)
    return app


async def flood_notice(app: AlurApplication, update: Update) -> None:
    """The one polite notice a person gets when their messages come faster than the bot takes them."""
    chat = update.effective_chat
    renderer = app.bot_data.renderer
    if chat is None or renderer is None:
        return
    await app.bot.send_message(chat.id, renderer.render("flood_notice", limit=MAX_QUEUE), parse_mode=ParseMode.HTML)


class SharedPacing:
    """The limiter's hooks to the pacing every worker shares (several workers on PostgreSQL)."""

    def __init__(self, services_: Services) -> None:
        self.db = services_.db

    async def reserve(self, chat: int | str, chat_interval: float, overall_interval: float) -> float:
        return await storage.pacing.reserve_send(self.db, str(chat), chat_interval, overall_interval)

    async def sent(self, chat: int | str, pause: float) -> None:
        await storage.pacing.sent(self.db, str(chat), pause)


def shared_pacing(services_: Services) -> SharedPacing:
    return SharedPacing(services_)


def stranger_check(services_: Services) -> Callable[[Update], Awaitable[bool]]:
    """Whether an update comes from someone not registered (or deactivated): they are paced harder."""

    async def is_stranger(update: Update) -> bool:
        user = update.effective_user
        if user is None:
            return True
        person = await storage.people.person_by_telegram(services_.db.read, user.id)
        looked_up(update, person)
        return person is None or not person.active

    return is_stranger


def _taking_updates(app: AlurApplication) -> bool:
    return app.running and (app.updater is None or app.updater.running)


async def _menus_in_background(app: AlurApplication) -> None:
    """Set the menus once the bot is taking updates: start-up never waits for one call per staff member."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MENU_WAIT
    while loop.time() < deadline and not _taking_updates(app):  # noqa: ASYNC110 (PTB's flags have no event)
        await asyncio.sleep(0.05)
    try:
        await set_commands(app, app.services)
    except asyncio.CancelledError:
        raise
    except Exception:  # a menu is a convenience: the next start sets it again
        log.exception("could not set the command menus")


async def startup(app: Application) -> None:  # type: ignore[type-arg]
    """After initialize(): the command menu, updates to replay, and the outbox sender (PTB's post_init)."""
    assert isinstance(app, AlurApplication)
    data: BotData = app.bot_data
    assert data.renderer is not None
    sender = OutboxSender(app.services, app.bot, data.renderer)
    app.sender = sender
    data.kick_outbox = sender.kick
    app.menus = asyncio.create_task(_menus_in_background(app), name="command-menus")
    if app.ledger is not None:
        await app.ledger.replay(app)
    if app.shared:
        return  # the sender starts on the worker elected for it (scheduler/cluster.py)
    if app.start_sender:
        sender.start()
    else:
        await sender.recover()


async def shutdown(app: Application) -> None:  # type: ignore[type-arg]
    assert isinstance(app, AlurApplication)
    if app.menus is not None and not app.menus.done():
        app.menus.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await app.menus
    if app.sender is not None and app.start_sender and not app.shared:
        await app.sender.stop()
    await asyncio.to_thread(shutdown_chart_worker)
    ledger = app.ledger
    if ledger is not None and ledger.failed is None:
        try:
            await asyncio.wait_for(ledger.drain(), timeout=15)
        except Exception:  # what is not marked is replayed (once) at the next start
            log.warning("could not write every handled mark before stopping")
