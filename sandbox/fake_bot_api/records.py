"""Plain records kept by the fake Bot API server, and the wake-up primitive its waiters share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "ApiError",
    "CallRecord",
    "CallbackAnswer",
    "InjectedFault",
    "LimitViolation",
    "Notifier",
    "StoredFile",
    "UploadedFile",
]

T = TypeVar("T")


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": status, ...}``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class UploadedFile:
    """A file part of a multipart request, as it appears in :attr:`CallRecord.params`."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class StoredFile:
    """A file known to the server: uploaded by the bot or sent by a simulated user."""

    file_id: str
    file_unique_id: str
    data: bytes = field(repr=False)
    file_name: str | None
    mime_type: str | None
    file_path: str
    width: int | None = None
    height: int | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)


@dataclass
class CallRecord:
    """One request received by the server.

    ``status`` is the HTTP status answered (200 on success); for an injected timeout it is the
    status of the late answer the client never read, and ``timed_out`` is True.
    """

    method: str
    params: dict[str, Any]
    time: float
    status: int = 0
    response: dict[str, Any] | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class CallbackAnswer:
    """An ``answerCallbackQuery`` call, as the user would see it."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float


@dataclass
class LimitViolation:
    """A send that broke one of Telegram's documented flood limits.

    ``rule`` is ``"per_chat"`` (private chat), ``"group"`` (per group chat) or ``"global"``;
    ``count`` is the number of messages in the window including this one. ``enforced`` is True when
    the server refused the send with 429 (``enforce_limits=True``).
    """

    rule: str
    chat_id: int
    method: str
    time: float
    count: int
    limit: int
    window: float
    enforced: bool = False


@dataclass
class InjectedFault:
    """A failure the server produced on purpose (``fail_next`` / ``fault_rate``)."""

    method: str
    kind: str  # "status" or "timeout"
    status: int | None
    description: str | None
    time: float


class Notifier:
    """Wakes waiters whenever the server state changes.

    ``notify()`` is synchronous so that any code path can call it; waiters re-check their own
    condition, so a spurious wake-up is harmless. A waiter that watches one thing only (a chat's
    messages, a user's callback answers) waits under that thing as ``key`` and is woken by
    ``notify(key)`` alone: hundreds of people waiting in their own chats are not all woken by every
    message to anyone (which made the load generator's cost grow with the number of people).
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()
        self._keyed: dict[object, set[asyncio.Future[None]]] = {}

    def notify(self, key: object = None) -> None:
        waiters = self._waiters if key is None else self._keyed.pop(key, set())
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        waiters.clear()

    async def wait_for(self, check: Callable[[], T | None], timeout: float | None,  # noqa: ASYNC109
                       key: object = None) -> T | None:
        """Return the first truthy ``check()`` result, or None once ``timeout`` seconds passed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            fut: asyncio.Future[None] = loop.create_future()
            waiters = self._waiters if key is None else self._keyed.setdefault(key, set())
            waiters.add(fut)
            try:
                await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                pass
            finally:
                waiters.discard(fut)
