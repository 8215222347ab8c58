"""The python-telegram-bot Application: the update ledger, the per-chat processor, the rate limiter, the
outbox sender, and the feature handlers (registered by handlers.routes) with their typed context."""

from __future__ import annotations

import logging

from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.qa.answers import Answerer
from bot.runtime import Services
from bot.text.render import Renderer
from handlers import routes
from handlers.context import AlurContext, BotData
from handlers.keyboards import SopKeys
from handlers.menus import set_commands
from scheduler.ledger import LedgerApplication, LedgerQueue, UpdateLedger
from scheduler.ratelimit import ChatRateLimiter
from scheduler.sender import OutboxSender
from scheduler.updates import PerChatUpdateProcessor

log = logging.getLogger(__name__)


class AlurApplication(LedgerApplication):
    """The Application with the transport's own parts beside PTB's."""

    services: Services
    sender: OutboxSender | None = None
    start_sender: bool = True


def build_application(
    services_: Services,
    *,
    token: str,
    base_url: str | None = None,
    base_file_url: str | None = None,
    start_sender: bool = True,
    limiter: ChatRateLimiter | None = None,
    read_timeout: float = 5.0,
) -> AlurApplication:
    """The Application, wired to the services; the outbox sender runs beside it."""
    ledger = UpdateLedger(services_.db, services_.clock)
    builder = (
        ApplicationBuilder()
        .token(token)
        .read_timeout(read_timeout)
        .get_updates_read_timeout(read_timeout)
        .rate_limiter(limiter or ChatRateLimiter())
        .update_queue(LedgerQueue(ledger))
        .application_class(AlurApplication)
        .context_types(ContextTypes(context=AlurContext, bot_data=BotData))
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)

    app: AlurApplication = builder.post_init(startup).post_shutdown(shutdown).build()  # type: ignore[assignment]
    app.ledger = ledger
    app.services = services_
    app.start_sender = start_sender
    renderer = Renderer(services_.settings.timezone)
    renderer.env.globals["role_names"] = {r.id: r.name for r in services_.catalog.roles.roles.values()}
    data: BotData = app.bot_data
    data.services = services_
    data.renderer = renderer
    data.sop_keys = SopKeys(services_.catalog)
    data.answerer = Answerer(services_.catalog, renderer, services_.calendar)
    routes.register(app)
    return app


async def startup(app: Application) -> None:  # type: ignore[type-arg]
    """After initialize(): the command menu, updates to replay, and the outbox sender (PTB's post_init)."""
    assert isinstance(app, AlurApplication)
    data: BotData = app.bot_data
    assert data.renderer is not None
    sender = OutboxSender(app.services, app.bot, data.renderer)
    app.sender = sender
    data.kick_outbox = sender.kick
    await set_commands(app, app.services)
    if app.ledger is not None:
        await app.ledger.replay(app)
    if app.start_sender:
        sender.start()
    else:
        await sender.recover()


async def shutdown(app: Application) -> None:  # type: ignore[type-arg]
    assert isinstance(app, AlurApplication)
    if app.sender is not None and app.start_sender:
        await app.sender.stop()
