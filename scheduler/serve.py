"""Running the bot: long polling (default) or a webhook, in one event loop with the services.

Start-up checks everything before serving and stops within seconds on the first failure: the
SOP catalog and the people file, the token (getMe), the database. Nothing is left open behind a
failure, so the process ends instead of lingering half-started. A clean stop (SIGINT/SIGTERM)
logs one line, not a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.config import Settings
from bot.runtime import Services, StartupError, open_services
from bot.sop.catalog import load_catalog
from bot.workflow.digest import digests_ever_sent
from bot.workflow.people_file import parse_people_file
from scheduler.application import build_application, shutdown, startup
from scheduler.preflight import TokenRejected, base_url, check_bot_api
from scheduler.tick import schedule_jobs

if TYPE_CHECKING:
    from web.server import WebServer

log = logging.getLogger("alur")

QUIET_LOGGERS = {
    "httpx": logging.WARNING,  # one INFO line per HTTP request, with the token in the URL
    "httpcore": logging.INFO,  # DEBUG: every request's headers and connection events
    "apscheduler": logging.WARNING,  # "Running job …" / "executed successfully" on every tick
    "telegram.ext.Application": logging.WARNING,  # DEBUG: "Processing update" with the whole update
    "telegram": logging.INFO,  # DEBUG: every Bot API call's parameters and result (message texts, contacts)
    "aiosqlite": logging.INFO,  # DEBUG: every SQL statement with its parameters (names, phone numbers)
}
"""Floors that hold even with --debug: no log line carries what people wrote (texts, phone numbers)."""

PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}|0)[\s.-]?\(?\d{2,4}\)?(?:[\s.-]?\d){5,11}(?!\w)")
"""Phone-number-like digit runs (0812 3456 7890, +62 812-3456-7890); ids never start with 0 or +."""


class PrivacyFilter(logging.Filter):
    """The last line of defence behind ``QUIET_LOGGERS``: a phone number in any log line becomes <telepon>."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if PHONE.search(message):
            record.msg = PHONE.sub("<telepon>", message)
            record.args = ()
        return True


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
            if record.exc_info and record.exc_info[1] is not None and self.token in str(record.exc_info[1]):
                record.exc_info = None
                record.exc_text = None
        return True


class OneLineBotApiErrors(logging.Filter):
    """PTB's updater logs every failed getUpdates (and the last one at shutdown) at ERROR with a full
    traceback; a Bot API that is briefly unreachable is a one-line warning, other API errors one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, TelegramError):
            if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
                record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(token: str | None, level: int | str = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.raiseExceptions = False  # a closed stderr (`alur run 2>&1 | head`) must not stop the bot
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLogger().level))
    logging.getLogger("telegram.ext.Updater").addFilter(OneLineBotApiErrors())
    for handler in logging.getLogger().handlers:
        handler.addFilter(PrivacyFilter())
    if token:
        token_filter = TokenFilter(token)
        for handler in logging.getLogger().handlers:
            handler.addFilter(token_filter)


def version() -> str:
    try:
        return metadata.version("alur")
    except metadata.PackageNotFoundError:
        return "dev"


async def run_application(
    app: Application,
    until: Callable[[], Awaitable[None]],
    *,
    webhook_url: str | None = None,
    listen: str = "0.0.0.0",
    port: int = 8443,
    started: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Start the application (polling or webhook), wait for ``until``, stop cleanly."""
    async with app:
        await startup(app)
        await app.start()
        assert app.updater is not None
        try:
            if webhook_url:
                path = urlparse(webhook_url).path.lstrip("/")
                try:
                    await app.updater.start_webhook(listen=listen, port=port, url_path=path, webhook_url=webhook_url,
                                                    allowed_updates=Update.ALL_TYPES)
                except OSError as exc:
                    raise StartupError(
                        f"Webhook tidak dapat mendengarkan di {listen}:{port} ({exc.strerror or exc}): pilih "
                        "ALUR_WEBHOOK_PORT lain atau hentikan proses yang memakai port itu.") from None
            else:
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
            if started is not None:
                await started()
            await until()
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await shutdown(app)


async def serve(settings: Settings, *, webhook_url: str | None = None) -> None:
    """`alur run`: the bot until SIGINT/SIGTERM."""
    token = settings.token_value
    assert token is not None
    if webhook_url and not webhook_url.startswith("https://"):
        raise StartupError(f"--webhook {webhook_url!r}: Telegram hanya mengirim ke URL https://, "
                           "mis. https://alur.example.go.id/tg")
    catalog = load_catalog(settings.sop_dir)  # local files first: they need no network to fix
    if settings.people_file:
        parse_people_file(settings.people_file, catalog)
    identity, _ = await check_bot_api(settings)  # then the token, before a database may be created
    services: Services = await open_services(settings, catalog=catalog)
    board: WebServer | None = None
    try:
        if services.db.created:
            log.info("Basis data baru dibuat: %s (belum ada sebelumnya)", settings.db_path)
        services.first_start = not await digests_ever_sent(services.db)
        app = build_application(services, token=token, base_url=settings.api_base_url,
                                base_file_url=settings.api_file_url)
        schedule_jobs(app, interval=settings.tick_seconds, first=settings.first_tick_seconds)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        board = await start_board(services, settings)
        staff = sum(1 for p in await services.people.all() if p.is_staff)
        mode = f"webhook {webhook_url}" if webhook_url else "long polling"

        async def announce() -> None:
            log.info("Alur berjalan: versi %s, %s, bot @%s, %d SOP, %d pegawai aktif, basis data %s, Bot API %s",
                     version(), mode, identity.username, len(services.catalog), staff, settings.db_path,
                     base_url(settings))

        try:
            await run_application(app, stop.wait, webhook_url=webhook_url, listen=settings.webhook_listen,
                                  port=settings.webhook_port, started=announce)
        except InvalidToken:  # revoked between the check and the start
            raise TokenRejected("TELEGRAM_BOT_TOKEN ditolak oleh server Bot API: salin ulang token dari "
                                "@BotFather.") from None
        log.info("Alur berhenti dengan bersih.")
    finally:
        if board is not None:
            await board.stop()
        await services.close()


async def start_board(services: Services, settings: Settings) -> WebServer | None:
    """The supervisors' board (web/) beside the bot, when ALUR_WEB_PORT or ALUR_WEB_URL is set."""
    token = settings.token_value
    if not settings.web_enabled or not token:
        return None
    from web.server import WebServer  # aiohttp's server is imported only when the board runs

    server = WebServer(services, token=token, listen=settings.web_listen, port=settings.web_port or 8080,
                       secure_cookie=bool(settings.web_url and settings.web_url.startswith("https://")))
    try:
        return await server.start()
    except OSError as exc:
        await server.stop()
        raise StartupError(
            f"Papan pimpinan tidak dapat mendengarkan di {settings.web_listen}:{server.requested_port} "
            f"({exc.strerror or exc}): pilih ALUR_WEB_PORT lain atau hentikan proses yang memakai port itu.",
        ) from None
