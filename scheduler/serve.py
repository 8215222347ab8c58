"""Running the bot: long polling (default) or a webhook, in one event loop with the services.

* **Webhook secret.** Telegram sends ``X-Telegram-Bot-Api-Secret-Token`` with every update when
  the webhook was set with a ``secret_token``; PTB's listener answers 403 to a request without the
  right one. The secret is ``ALUR_WEBHOOK_SECRET``, or one generated on first use and kept in the
  database (so a restart keeps the webhook Telegram already has).
* **Exit codes** (for a service manager): 0 after SIGINT/SIGTERM; 1 when a part the bot cannot
  live without stops (polling, the update ledger, the outbox sender): the process exits instead of
  staying up half-alive, and the manager restarts it; 2 when Telegram refuses the token; 3 when
  the webhook listener cannot start (port taken, address wrong, webhook extra missing).
* **The token** never appears in any output: every log line, traceback and start-up error passes
  through :class:`Redactor`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import Application

from bot import storage
from bot.config import Settings
from bot.runtime import Services, open_services
from scheduler.application import SENDER, build_application, shutdown, startup
from scheduler.ledger import UpdateLedger
from scheduler.tick import schedule_jobs

log = logging.getLogger(__name__)

EXIT_OK, EXIT_DIED, EXIT_TOKEN, EXIT_LISTENER = 0, 1, 2, 3
WATCH_SECONDS = 1.0
SECRET_KEY = "webhook_secret"


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
        self.token = token
        self.redact = Redactor(token)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
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


def configure_logging(token: str | None, level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)  # its DEBUG lines carry SQL parameters
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
        return services.settings.webhook_secret
    existing = await storage.app_settings.setting(services.db, SECRET_KEY)
    if existing:
        return existing
    async with services.db.transaction() as tx:
        return await storage.app_settings.keep_setting(tx, SECRET_KEY, secrets.token_urlsafe(32), services.clock.now())


def _vital_failure(app: Application) -> str | None:
    """Which part the bot cannot live without has stopped, if any."""
    ledger: UpdateLedger | None = getattr(app, "ledger", None)
    if ledger is not None and ledger.failed is not None:
        return f"update ledger: {ledger.failed!r}"
    updater = app.updater
    polling: asyncio.Task[Any] | None = getattr(updater, "_Updater__polling_task", None)
    if polling is not None and polling.done():
        return "polling stopped"
    sender = app.bot_data.get(SENDER)
    task: asyncio.Task[Any] | None = getattr(sender, "_task", None)
    if task is not None and task.done() and not getattr(sender, "_stopping", False):
        return "outbox sender stopped"
    return None


async def _watch(app: Application, until: Callable[[], Awaitable[None]]) -> int:
    """Wait for ``until`` (a signal); EXIT_DIED as soon as a vital part has stopped."""
    stop = asyncio.create_task(until())  # type: ignore[arg-type]
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


async def run_application(
    app: Application,
    until: Callable[[], Awaitable[None]],
    *,
    webhook_url: str | None = None,
    listen: str = "0.0.0.0",
    port: int = 8443,
    secret_token: str | None = None,
) -> int:
    """Start the application (polling or webhook), wait for ``until``, stop cleanly; the exit code."""
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
                except (OSError, RuntimeError, ImportError) as exc:
                    log.critical("Webhook tidak dapat dimulai di %s:%s: %s", listen, port, exc)
                    return EXIT_LISTENER
            else:
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
            return await _watch(app, until)
        finally:
            if app.updater.running:
                await app.updater.stop()
            await app.stop()
            await shutdown(app)


async def serve(settings: Settings, *, webhook_url: str | None = None) -> int:
    """`alur run`: the bot until SIGINT/SIGTERM; the process exit code."""
    assert settings.token is not None
    services: Services = await open_services(settings)
    try:
        app = build_application(services, token=settings.token, base_url=settings.api_base_url,
                                base_file_url=settings.api_file_url, webhook=bool(webhook_url))
        schedule_jobs(app)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        secret = await webhook_secret(services) if webhook_url else None
        log.info("Alur berjalan: %d SOP, basis data %s", len(services.catalog), settings.db_path)
        try:
            return await run_application(app, stop.wait, webhook_url=webhook_url, listen=settings.webhook_listen,
                                         port=settings.webhook_port, secret_token=secret)
        except InvalidToken:
            log.critical("Telegram menolak token bot (TELEGRAM_BOT_TOKEN). Periksa token dari @BotFather.")
            return EXIT_TOKEN
    finally:
        await services.close()
