"""Running the bot: long polling (default) or a webhook, in one event loop with the services."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.runtime import Services, open_services
from scheduler.application import build_application, shutdown, startup
from scheduler.tick import schedule_jobs

if TYPE_CHECKING:
    from web.server import WebServer

log = logging.getLogger(__name__)


class TokenFilter(logging.Filter):
    """Keeps the bot token out of every log line (PTB and httpx log request URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "<token>")
                record.args = ()
        return True


def configure_logging(token: str | None, level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if token:
        token_filter = TokenFilter(token)
        for handler in logging.getLogger().handlers:
            handler.addFilter(token_filter)


async def run_application(
    app: Application,
    until: Callable[[], Awaitable[None]],
    *,
    webhook_url: str | None = None,
    listen: str = "0.0.0.0",
    port: int = 8443,
) -> None:
    """Start the application (polling or webhook), wait for ``until``, stop cleanly."""
    async with app:
        await startup(app)
        await app.start()
        assert app.updater is not None
        if webhook_url:
            path = urlparse(webhook_url).path.lstrip("/")
            await app.updater.start_webhook(listen=listen, port=port, url_path=path, webhook_url=webhook_url,
                                            allowed_updates=Update.ALL_TYPES)
        else:
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
        try:
            await until()
        finally:
            await app.updater.stop()
            await app.stop()
            await shutdown(app)


async def serve(settings: Settings, *, webhook_url: str | None = None) -> None:
    """`alur run`: the bot until SIGINT/SIGTERM."""
    assert settings.token is not None
    services: Services = await open_services(settings)
    app = build_application(services, token=settings.token, base_url=settings.api_base_url,
                            base_file_url=settings.api_file_url)
    schedule_jobs(app)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    log.info("Alur berjalan: %d SOP, basis data %s", len(services.catalog), settings.db_path)
    board = await start_board(services, settings)
    try:
        await run_application(app, stop.wait, webhook_url=webhook_url, listen=settings.webhook_listen,
                              port=settings.webhook_port)
    finally:
        if board is not None:
            await board.stop()
        await services.close()


async def start_board(services: Services, settings: Settings) -> WebServer | None:
    """The supervisors' board (web/) beside the bot, when ALUR_WEB_PORT or ALUR_WEB_URL is set."""
    if not settings.web_enabled or not settings.token:
        return None
    from web.server import WebServer  # aiohttp's server is imported only when the board runs

    server = WebServer(services, token=settings.token, listen=settings.web_listen, port=settings.web_port or 8080,
                       secure_cookie=bool(settings.web_url and settings.web_url.startswith("https://")))
    return await server.start()
