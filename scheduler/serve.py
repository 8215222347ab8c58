"""Running the bot: long polling (default) or a webhook, in one event loop with the services.

Start-up checks everything before serving and stops within seconds on the first failure: the
SOP catalog and the people file, the token (getMe), the database. Nothing is left open behind a
failure, so the process ends instead of lingering half-started. A clean stop (SIGINT/SIGTERM)
logs one line, not a traceback.

* **Webhook secret.** Telegram sends ``X-Telegram-Bot-Api-Secret-Token`` with every update when
  the webhook was set with a ``secret_token``; PTB's listener answers 403 to a request without the
  right one. The secret is ``ALUR_WEBHOOK_SECRET``, or one generated on first use and kept in the
  database (so a restart keeps the webhook Telegram already has).
* **Exit codes** (for a service manager): 0 after SIGINT/SIGTERM; 1 when a part the bot cannot
  live without stops (polling, the update ledger, the outbox sender): the process exits instead of
  staying up half-alive, and the manager restarts it; 2 when it cannot start (a bad setting or
  file, a token Telegram refuses, a port the webhook cannot listen on).
* **The token** never appears in any output: every log line, traceback and start-up error passes
  through :class:`Redactor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable
from importlib import metadata
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot import storage
from bot.config import Settings
from bot.runtime import Services, StartupError, open_services
from bot.sop.catalog import load_catalog
from bot.workflow.digest import digests_ever_sent
from bot.workflow.people_file import parse_people_file
from scheduler.application import AlurApplication, build_application, shutdown, startup
from scheduler.cluster import Cluster
from scheduler.preflight import TokenRejected, base_url, check_bot_api
from scheduler.ratelimit import ChatRateLimiter
from scheduler.tick import schedule_jobs

if TYPE_CHECKING:
    from web.server import WebServer

log = logging.getLogger("alur")

EXIT_OK, EXIT_DIED = 0, 1
WATCH_SECONDS = 1.0
SECRET_KEY = "webhook_secret"

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


class Redactor:
    """Replaces the token (and its secret half alone) in any text."""

    def __init__(self, token: str | None) -> None:
        self.parts = [p for p in ([token, token.split(":", 1)[-1]] if token else []) if p and len(p) >= 8]

    def __call__(self, text: str) -> str:
        for part in self.parts:
            text = text.replace(part, "<token>")
        return text


class TokenFilter(logging.Filter):
    """Keeps the bot token out of every log message (PTB and httpx log request URLs)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.redact = Redactor(token)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole text: the message *and* any traceback."""

    def __init__(self, base: logging.Formatter | None, redact: Redactor) -> None:
        super().__init__()
        self.base = base or logging.Formatter()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # formatted afresh, then redacted
        return self.redact(self.base.format(record))


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
        redact = Redactor(token)
        token_filter = TokenFilter(token)
        for handler in logging.getLogger().handlers:
            handler.addFilter(token_filter)
            handler.setFormatter(RedactingFormatter(handler.formatter, redact))
        install_excepthook(redact)


def install_excepthook(redact: Redactor) -> None:
    """An exception nobody caught is printed without the token too."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))

    sys.excepthook = hook


async def webhook_secret(services: Services) -> str:
    """The configured secret, else the one generated on first use and kept in the database."""
    if services.settings.webhook_secret:
        return services.settings.webhook_secret.get_secret_value()
    existing = await storage.app_settings.setting(services.db, SECRET_KEY)
    if existing:
        return existing
    async with services.db.transaction() as tx:
        return await storage.app_settings.keep_setting(tx, SECRET_KEY, secrets.token_urlsafe(32), services.clock.now())


def _vital_failure(app: Application) -> str | None:  # type: ignore[type-arg]
    """Which part the bot cannot live without has stopped, if any."""
    ledger = getattr(app, "ledger", None)
    if ledger is not None and ledger.failed is not None:
        return f"update ledger: {ledger.failed!r}"
    polling: asyncio.Task[Any] | None = getattr(app.updater, "_Updater__polling_task", None)
    if polling is not None and polling.done():
        return "polling stopped"
    sender = app.sender if isinstance(app, AlurApplication) else None
    task: asyncio.Task[Any] | None = getattr(sender, "_task", None)
    if task is not None and task.done() and not getattr(sender, "_stopping", False):
        return "outbox sender stopped"
    return None


async def _watch(app: Application, until: Callable[[], Awaitable[None]]) -> int:  # type: ignore[type-arg]
    """Wait for ``until`` (a signal); EXIT_DIED as soon as a vital part has stopped."""
    stop = asyncio.ensure_future(until())
    try:
        while not stop.done():
            failure = _vital_failure(app)
            if failure is not None:
                log.critical("Alur berhenti: %s — keluar agar dijalankan ulang oleh pengelola layanan", failure)
                return EXIT_DIED
            await asyncio.wait({stop}, timeout=WATCH_SECONDS)
        return EXIT_OK
    finally:
        stop.cancel()


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
    secret_token: str | None = None,
) -> int:
    """Start the application (polling or webhook), wait for ``until``, stop cleanly; the exit code.

    One of several workers (``app.shared``): the cluster polls only while this worker is the elected
    receiver, and claims updates per chat from the database (scheduler/cluster.py).
    """
    cluster: Cluster | None = None
    async with app:
        await startup(app)
        await app.start()
        assert app.updater is not None
        try:
            if webhook_url:
                path = urlparse(webhook_url).path.lstrip("/")
                try:
                    await app.updater.start_webhook(listen=listen, port=port, url_path=path, webhook_url=webhook_url,
                                                    allowed_updates=Update.ALL_TYPES, secret_token=secret_token)
                except OSError as exc:
                    raise StartupError(
                        f"Webhook tidak dapat mendengarkan di {listen}:{port} ({exc.strerror or exc}): pilih "
                        "ALUR_WEBHOOK_PORT lain atau hentikan proses yang memakai port itu.") from None
                except RuntimeError as exc:  # PTB without its [webhooks] extra
                    raise StartupError(f"Webhook tidak dapat dimulai: {exc}") from None
            elif not (isinstance(app, AlurApplication) and app.shared):
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
            if isinstance(app, AlurApplication) and app.shared:
                cluster = Cluster(app, webhook=bool(webhook_url))
                await cluster.start()
            if started is not None:
                await started()
            return await _watch(app, until)
        finally:
            if cluster is not None:
                await cluster.stop()
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await shutdown(app)


async def serve(settings: Settings, *, webhook_url: str | None = None, limiter: ChatRateLimiter | None = None) -> int:
    """`alur run`: the bot until SIGINT/SIGTERM; the process exit code."""
    token = settings.token_value
    assert token is not None
    if webhook_url and not webhook_url.startswith("https://"):
        raise StartupError(f"--webhook {webhook_url!r}: Telegram hanya mengirim ke URL https://, "
                           "mis. https://alur.example.go.id/tg")
    if settings.workers > 1 and not settings.uses_postgres:
        raise StartupError(f"ALUR_WORKERS={settings.workers}: beberapa pekerja hanya dapat berbagi PostgreSQL "
                           "(ALUR_DB=postgresql://…); dengan SQLite jalankan satu proses.")
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
                                base_file_url=settings.api_file_url, webhook=bool(webhook_url),
                                shared=settings.workers > 1, limiter=limiter)
        schedule_jobs(app, interval=settings.tick_seconds, first=settings.first_tick_seconds)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        secret = await webhook_secret(services) if webhook_url else None
        board = await start_board(services, settings)
        staff = sum(1 for p in await services.people.all() if p.is_staff)
        mode = f"webhook {webhook_url}" if webhook_url else "long polling"
        if settings.workers > 1:
            mode += f", salah satu dari {settings.workers} pekerja"

        async def announce() -> None:
            log.info("Alur berjalan: versi %s, %s, bot @%s, %d SOP, %d pegawai aktif, basis data %s, Bot API %s",
                     version(), mode, identity.username, len(services.catalog), staff, settings.db_path,
                     base_url(settings))

        try:
            code = await run_application(app, stop.wait, webhook_url=webhook_url, listen=settings.webhook_listen,
                                         port=settings.webhook_port, started=announce, secret_token=secret)
        except InvalidToken:  # revoked between the check and the start
            raise TokenRejected("TELEGRAM_BOT_TOKEN ditolak oleh server Bot API: salin ulang token dari "
                                "@BotFather.") from None
        if code == EXIT_OK:
            log.info("Alur berhenti dengan bersih.")
        return code
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
