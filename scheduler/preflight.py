"""Asking the Bot API before going live: is the token accepted (getMe), and is a webhook set (getWebhookInfo)?

Used by `alur run` (to stop within seconds on a rejected token, before anything else starts) and by
`alur doctor`. The token is never part of a message: PTB's own ``InvalidToken`` text contains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.runtime import StartupError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
TIMEOUT = 10.0


class TokenRejected(StartupError):
    """getMe answered 401/404: a wrong token, or a base URL that is not a Bot API server."""


class BotApiUnreachable(StartupError):
    """No answer from the Bot API server (network, proxy, wrong host or port)."""


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str
    first_name: str


@dataclass(frozen=True)
class WebhookStatus:
    url: str
    pending_updates: int
    last_error: str | None
    last_error_at: datetime | None


def base_url(settings: Settings) -> str:
    return settings.api_base_url or DEFAULT_BASE_URL


def _bot(settings: Settings) -> Bot:
    token = settings.token_value
    if not token:
        raise TokenRejected("TELEGRAM_BOT_TOKEN belum diatur: salin token bot dari @BotFather ke TELEGRAM_BOT_TOKEN.")
    request = HTTPXRequest(connect_timeout=TIMEOUT, read_timeout=TIMEOUT, write_timeout=TIMEOUT, pool_timeout=TIMEOUT)
    if settings.api_file_url:
        return Bot(token, base_url=base_url(settings), base_file_url=settings.api_file_url, request=request)
    return Bot(token, base_url=base_url(settings), request=request)


async def check_bot_api(settings: Settings, *, webhook: bool = False) -> tuple[BotIdentity, WebhookStatus | None]:
    """getMe (and getWebhookInfo when asked); ``TokenRejected`` or ``BotApiUnreachable`` in words otherwise."""
    bot = _bot(settings)
    where = base_url(settings)
    try:
        async with bot:
            me = bot.bot
            identity = BotIdentity(me.id, me.username or "", me.first_name)
            status = None
            if webhook:
                info = await bot.get_webhook_info()
                status = WebhookStatus(info.url or "", info.pending_update_count, info.last_error_message,
                                       info.last_error_date)
            return identity, status
    except InvalidToken:
        raise TokenRejected(
            f"TELEGRAM_BOT_TOKEN ditolak oleh server Bot API {where}: salin ulang token dari @BotFather "
            "(/mybots → API Token); bila memakai server sendiri, periksa juga TELEGRAM_API_BASE_URL (berakhir /bot)."
        ) from None
    except (TimedOut, NetworkError) as exc:
        raise BotApiUnreachable(
            f"Server Bot API {where} tidak dapat dihubungi ({_reason(exc, settings)}): periksa jaringan, proxy "
            "dan TELEGRAM_API_BASE_URL.", exit_code=1,
        ) from None
    except TelegramError as exc:
        raise BotApiUnreachable(f"Server Bot API {where} menjawab dengan galat: {_reason(exc, settings)}.",
                                exit_code=1) from None


def _reason(exc: Exception, settings: Settings) -> str:
    text = str(exc.__cause__ or exc) or type(exc).__name__
    token = settings.token_value
    return (text.replace(token, "<token>") if token else text).splitlines()[0][:200]
