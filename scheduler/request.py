"""The HTTP client the bot talks to Telegram with: aiohttp instead of PTB's default httpx.

Measured (``alur bench --only ceiling``, py-spy): with PTB's ``HTTPXRequest`` half of the bot's CPU
went into httpcore's connection pool, which on *every* request and response walks every pooled
connection and asks each idle one whether its socket is readable (a poll and a dict of socket
attributes each). A bot that answers many chats at once keeps dozens of connections, so each call
cost milliseconds. aiohttp's connector hands out the most recent idle connection of the host and
checks only that one, so a call costs the same however many connections are kept.

Same contract as ``HTTPXRequest`` except that parameters go as a JSON body (form-encoding long HTML
texts character by character was the next cost in the profile); multipart when files are sent, the
caller's timeouts (PTB's defaults otherwise), ``TimedOut`` on a timeout and ``NetworkError`` on any
other transport failure; status codes and Telegram's error bodies are PTB's to interpret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
POOL_TIMEOUT = 1.0
KEEPALIVE = 30.0
JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``before``: awaited before every request, e.g. the update ledger's flush before a getUpdates
        (PTB sends getUpdates past the rate limiter, and the next one confirms the batch before it)."""
        self.pool_size = connection_pool_size
        self._before = before
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.pool_size, keepalive_timeout=KEEPALIVE)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        if self._before is not None:
            try:
                await self._before()
            except Exception as exc:  # PTB's polling loop retries a NetworkError with backoff
                raise NetworkError(f"not sent: {exc}") from exc
        files = request_data.multipart_data if request_data and request_data.contains_files else None
        params = request_data.json_parameters if request_data and files else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = (self._media_write_timeout if files else self._write_timeout) if isinstance(
            write_timeout, DefaultValue) else write_timeout
        if write is not None and files:  # aiohttp has no write timeout: bound an upload as a whole
            total: float | None = write + (read or 0.0) + (connect or 0.0) + (pool or 0.0)
        else:
            total = None
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=None if connect is None or pool is None else connect + pool,  # waiting for a slot, then connecting
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = None
        headers: dict[str, str] | None = None
        if files:
            body = _form(params, files)
        elif request_data is not None:  # JSON (which the Bot API takes): no per-character form quoting
            body, headers = request_data.json_payload, JSON
        try:
            async with session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _form(params: dict[str, str] | None, files: dict[str, Any]) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in (params or {}).items():
        form.add_field(name, value)
    for name, (filename, content, mime) in files.items():
        data = content if isinstance(content, bytes) else content.read()
        form.add_field(name, data, filename=filename or name, content_type=mime)
    return form
