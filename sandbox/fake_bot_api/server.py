"""A local look-alike of the Telegram Bot API, served over real HTTP.

The real bot (python-telegram-bot) talks to it exactly as it talks to api.telegram.org: point the
bot at :attr:`FakeBotApi.base_url` / :attr:`FakeBotApi.base_file_url`. Simulated people
(:meth:`FakeBotApi.user`) produce updates and read what the bot sent them.

Fidelity notes (what the server checks, because the real one does):

* answers use Telegram's shapes (``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": N,
  "description": "...", "parameters": {"retry_after": N}}``) and HTTP statuses, so PTB raises the
  same exceptions it would in production (400 BadRequest, 403 Forbidden, 409 Conflict,
  429 RetryAfter, 5xx NetworkError, 401/404 InvalidToken);
* parameters arrive as JSON bodies, urlencoded forms or multipart forms (PTB sends forms whose
  values are strings; nested objects such as ``reply_markup`` are JSON-encoded strings);
* HTML parse mode is parsed like Telegram does (see :mod:`.html_check`), message and caption
  lengths, callback_data size, "message is not modified", callback query expiry (15 s), blocked
  users, chats the bot cannot write to, and getUpdates offset / long-poll / conflict semantics;
* flood limits are accounted (and optionally enforced) per :mod:`.limits`.

Webhooks: once ``setWebhook`` is called, pending updates are POSTed to the webhook URL one at a
time, in order, with ``X-Telegram-Bot-Api-Secret-Token`` when a secret was set, and retried until
the listener answers 200 (as Telegram does). The URL must be HTTPS, as Telegram requires;
``webhook_proxy`` maps it to the local listener (the TLS-terminating proxy of a real deployment).

What it does not do: inline mode, payments, media groups, and MarkdownV2 is accepted without
validation.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import itertools
import json
import logging
import random
import time
import types
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from aiohttp import web

from .limits import FloodLimits, Rule
from .methods import METHOD_NAMES, BotApiMethods, scope_key
from .params import Params, read_params
from .records import (
    ApiError,
    CallbackAnswer,
    CallRecord,
    InjectedFault,
    LimitViolation,
    Notifier,
    StoredFile,
)
from .users import FakeChat, FakeGroup, FakeUser, InboxMessage

__all__ = ["DEFAULT_TOKEN", "FakeBotApi"]

DEFAULT_TOKEN = "123456789:AAFakeTokenForAlurTestsOnly-0123456789"

_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
_DEFAULT_ERROR_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


_LOGGER = logging.getLogger(__name__)


class _HasNow(Protocol):
    def now(self) -> Any: ...


ClockLike = Callable[[], float] | _HasNow
Listener = Callable[[str, FakeChat, Any], None]


@dataclass
class _FaultRule:
    method: str  # canonical method name or "*"
    status: int | None  # None = timeout
    description: str | None
    retry_after: int | None
    remaining: int
    delivers: bool = False


@dataclass
class _FaultRate:
    probability: float
    rng: random.Random
    kinds: tuple[str, ...]
    methods: frozenset[str] | None


@dataclass
class _PendingUpdate:
    update_id: int
    body: dict[str, Any]
    forced: bool = False  # injected duplicate: deliver once even if its id is below the offset
    deliveries: int = 0

    @property
    def kind(self) -> str:
        return next((k for k in self.body if k != "update_id"), "")


@dataclass
class _Query:
    query_id: str
    user: FakeUser
    created: float
    answered: bool = False
    data: str | None = None
    message_id: int | None = None
    chat_id: int | None = None


def _adapt_clock(clock: ClockLike | None) -> tuple[Callable[[], float], bool] | None:
    """A float-seconds reader for ``clock`` and whether it reads epoch time.

    Accepts a callable returning seconds (``time.monotonic``, a test's fake) or a datetime, or an
    object with ``.now() -> datetime`` (the project's ``ManualClock``).
    """
    if clock is None:
        return None
    plain = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.BuiltinMethodType)
    source = clock.now if hasattr(clock, "now") and not isinstance(clock, plain) else clock
    gives_datetime = isinstance(source(), dtm.datetime)  # type: ignore[operator]

    def read() -> float:
        value = source()  # type: ignore[operator]
        return value.timestamp() if isinstance(value, dtm.datetime) else float(value)

    return read, gives_datetime


class FakeBotApi(BotApiMethods):
    """A fake Telegram Bot API server for one bot token.

    Args:
        token: the bot token PTB will use; a request with another token gets 401.
        clock: time source for flood limits, callback-query expiry and records (default
            ``time.monotonic``). An object with ``.now() -> datetime`` (the project's
            ``ManualClock``) is accepted too.
        wall_clock: epoch seconds for message ``date``. Default: follows ``clock`` from the
            wall-clock time at construction (or ``clock`` itself when it is a ``.now()`` clock).
        enforce_limits: answer 429 instead of accepting a send that breaks a flood limit.
        per_chat_limit / group_limit / global_limit: ``(messages, seconds)`` or None to disable.
        html_strict: reject unescaped ``&`` in HTML text (Telegram shows it literally).
        timeout_delay: seconds an injected "timeout" holds a request (make it exceed the
            client's read timeout).
        callback_query_ttl: seconds after which answerCallbackQuery is refused.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "alur_test_bot",
        bot_first_name: str = "Alur",
        clock: ClockLike | None = None,
        wall_clock: ClockLike | None = None,
        enforce_limits: bool = False,
        per_chat_limit: tuple[int, float] | None = (1, 1.0),
        group_limit: tuple[int, float] | None = (20, 60.0),
        global_limit: tuple[int, float] | None = (30, 1.0),
        html_strict: bool = True,
        timeout_delay: float = 6.0,
        callback_query_ttl: float = 15.0,
        webhook_proxy: Callable[[str], str] | None = None,
    ) -> None:
        self.token = token
        self.host = host
        self._requested_port = port
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456789
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        adapted = _adapt_clock(clock)
        self._clock: Callable[[], float] = adapted[0] if adapted else time.monotonic
        explicit_wall = _adapt_clock(wall_clock)
        if explicit_wall is not None:
            self._wall: Callable[[], float] = explicit_wall[0]
        elif adapted is not None and adapted[1]:  # a datetime clock already reads epoch time
            self._wall = adapted[0]
        else:
            wall_base, clock_base = time.time(), self._clock()
            self._wall = lambda: wall_base + (self._clock() - clock_base)
        self.enforce_limits = enforce_limits
        self.limits = FloodLimits(
            per_chat=Rule(*per_chat_limit) if per_chat_limit else None,
            group=Rule(*group_limit) if group_limit else None,
            overall=Rule(*global_limit) if global_limit else None,
        )
        self.html_strict = html_strict
        self.timeout_delay = timeout_delay
        self.callback_query_ttl = callback_query_ttl

        # introspection
        self.calls: list[CallRecord] = []
        self.sent_messages: list[InboxMessage] = []
        self.limit_violations: list[LimitViolation] = []
        self.injected_faults: list[InjectedFault] = []
        self.delivered_update_ids: list[int] = []
        self.answers: list[CallbackAnswer] = []
        self.server_errors: list[str] = []  # unexpected exceptions inside the fake (should stay empty)
        self.bot_settings: dict[str, Any] = {}  # setMyDescription & co, setChatMenuButton default
        self._listeners: list[Listener] = []
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}

        # state
        self._notifier = Notifier()
        self._chats: dict[int, FakeChat] = {}
        self._updates: list[_PendingUpdate] = []
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._webhook: dict[str, Any] | None = None
        self.webhook_proxy = webhook_proxy
        self.webhook_posts: list[tuple[int, int]] = []  # (update_id, HTTP status or 0 for no answer)
        self._pusher: asyncio.Task[None] | None = None
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._queries: dict[str, _Query] = {}
        self._query_counter = itertools.count(1)
        self._group_ids = itertools.count(1)
        self._faults: list[_FaultRule] = []
        self._fault_rate: _FaultRate | None = None
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Callable[[Params], Any]]] = {}
        for name in METHOD_NAMES:
            handler = getattr(self, "_m_" + name)
            self._methods[name.lower()] = (name, handler)

    # ----- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> FakeBotApi:
        if self._runner is not None:
            return self
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1] if sockets else self._requested_port
        return self

    async def stop(self) -> None:
        """Stop serving; held long-polls and injected timeouts are released first."""
        self._closing.set()
        self._notifier.notify()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pusher
            self._pusher = None
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``: PTB appends the token."""
        return f"{self.url}/file/bot"

    # ----- time -----------------------------------------------------------------------------------
    def now(self) -> float:
        """The server clock (limits, expiry, records)."""
        return self._clock()

    def date(self) -> int:
        """Epoch seconds for message dates."""
        return int(self._wall())

    # ----- people and chats -----------------------------------------------------------------------
    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def user(
        self,
        id: int,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = "id",
        *,
        last_name: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """The simulated person with this id (created on first call).

        ``started=False`` makes a user who never opened the bot: sends to them answer 403 until
        they send something.
        """
        existing = self._chats.get(id)
        if isinstance(existing, FakeUser):
            return existing
        if existing is not None or id <= 0:
            raise ValueError(f"chat id {id} is taken or not a user id")
        user = FakeUser(
            self,
            id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            started=started,
        )
        self._chats[id] = user
        return user

    @property
    def users(self) -> list[FakeUser]:
        return [c for c in self._chats.values() if isinstance(c, FakeUser)]

    def create_group(
        self,
        title: str,
        members: Iterable[FakeUser] = (),
        *,
        chat_id: int | None = None,
        supergroup: bool = False,
    ) -> FakeGroup:
        """A group chat with the bot in it (ids are negative, supergroups start with -100)."""
        if chat_id is None:
            n = next(self._group_ids)
            chat_id = -(1_000_000_000_000 + n) if supergroup else -(4_000_000_000 + n)
        if chat_id in self._chats:
            raise ValueError(f"chat id {chat_id} is taken")
        group = FakeGroup(self, chat_id, title, supergroup=supergroup)
        group.add(*members)
        self._chats[chat_id] = group
        return group

    def chat(self, chat_id: int) -> FakeChat:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise KeyError(f"no chat {chat_id}") from None

    # ----- observing ------------------------------------------------------------------------------
    def on_event(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(kind, chat, payload)`` on every conversation event; returns an unsubscriber.

        Kinds: "user_message" and "callback_query" (payload: the Telegram object the user sent),
        "message", "edit", "delete" (payload: the bot message dict) and "answer" (payload: the
        :class:`CallbackAnswer`). Meant for transcripts (``alur demo``); a failing listener is
        logged and ignored so it cannot break the server.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, kind: str, chat: FakeChat, payload: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, chat, payload)
            except Exception:
                _LOGGER.exception("FakeBotApi listener failed on %s", kind)

    # ----- fault injection ------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int | Literal["timeout"],
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        *,
        delivers: bool = False,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (or ``"*"``) fail.

        ``status="timeout"`` holds the request ``timeout_delay`` seconds so the client times out;
        with ``delivers=True`` the call still takes effect (the message is sent, the client just
        never hears back), otherwise it is dropped. A 429 gets ``retry_after`` 1 unless given.
        """
        canonical = "*" if method == "*" else self._canonical(method)
        if status == "timeout":
            rule = _FaultRule(canonical, None, None, None, count, delivers)
        else:
            if status == 429 and retry_after is None:
                retry_after = 1
            rule = _FaultRule(canonical, int(status), description, retry_after, count)
        self._faults.append(rule)

    def fault_rate(
        self,
        p: float,
        seed: int | None = None,
        kinds: Sequence[str] = ("429", "500", "timeout"),
        methods: Iterable[str] | None = None,
        *,
        timeout_delay: float | None = None,
    ) -> None:
        """Fail each call with probability ``p`` (0 disables), drawing from a seeded generator.

        ``kinds``: "429" (retry_after 1), "500", "502", "timeout" (dropped request held
        ``timeout_delay`` s). ``methods=None`` means every method except getUpdates.
        """
        if timeout_delay is not None:
            self.timeout_delay = timeout_delay
        if p <= 0:
            self._fault_rate = None
            return
        chosen = frozenset(self._canonical(m) for m in methods) if methods is not None else None
        self._fault_rate = _FaultRate(p, random.Random(seed), tuple(kinds), chosen)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._fault_rate = None

    def _pick_fault(self, method: str) -> _FaultRule | None:
        for rule in self._faults:
            if rule.remaining > 0 and rule.method in ("*", method):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._faults.remove(rule)
                return rule
        rate = self._fault_rate
        if rate is None:
            return None
        if rate.methods is None and method == "getUpdates":
            return None
        if rate.methods is not None and method not in rate.methods:
            return None
        if rate.rng.random() >= rate.probability:
            return None
        kind = rate.rng.choice(rate.kinds)
        if kind == "timeout":
            return _FaultRule(method, None, None, None, 1)
        status = int(kind)
        return _FaultRule(method, status, None, 1 if status == 429 else None, 1)

    # ----- introspection --------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[CallRecord]:
        canonical = self._canonical(method)
        return [c for c in self.calls if c.method == canonical]

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset, in delivery order."""
        return [{"update_id": u.update_id, **u.body} for u in sorted(self._updates, key=lambda u: u.update_id)]

    def inject_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update. Without ``update_id`` it gets the next id; with an id that was
        already delivered (a redelivery test) it is delivered once more regardless of the offset.
        """
        body = {k: v for k, v in update.items() if k != "update_id"}
        if "update_id" not in update:
            return self._enqueue(body)
        update_id = int(update["update_id"])
        fresh = update_id >= self._next_update_id  # an id from the future is just a new update
        if fresh:
            self._next_update_id = update_id + 1
        self._updates.append(_PendingUpdate(update_id, body, forced=not fresh))
        self._notifier.notify()
        return update_id

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, str]]]:
        """setMyCommands state keyed by ``(scope, language_code)``.

        Scope keys: "default", "all_private_chats", "all_group_chats",
        "all_chat_administrators", "chat:<id>", "chat_administrators:<id>",
        "chat_member:<chat_id>:<user_id>"; language "" is the default.
        """
        return dict(self._commands)

    def commands_for(self, scope: str | dict[str, Any] = "default", language_code: str = "") -> list[str]:
        """Command names set for a scope, e.g. ``["start", "help"]``."""
        key = scope if isinstance(scope, str) else scope_key(scope)
        return [c["command"] for c in self._commands.get((key, language_code), [])]

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    def message_store(self, chat_id: int) -> dict[int, dict[str, Any]]:
        """Every message of a chat (user's and bot's), by message_id."""
        return dict(self.chat(chat_id)._messages)

    # ----- internals used by simulated users ------------------------------------------------------
    def _enqueue(self, body: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append(_PendingUpdate(update_id, body))
        self._notifier.notify()
        return update_id

    def _callback_query(self, user: FakeUser, chat: FakeChat, message: dict[str, Any], data: str) -> str:
        query_id = f"{user.id}{next(self._query_counter):08d}"
        self._queries[query_id] = _Query(
            query_id, user, self.now(), data=data, message_id=int(message["message_id"]), chat_id=chat.id
        )
        user.query_ids.append(query_id)
        user.started = True
        chat._note_action()
        if chat is not user:
            user._note_action()
        query = {
            "id": query_id,
            "from": user.user_dict(),
            "message": json.loads(json.dumps(message)),
            "chat_instance": f"{abs(chat.id) * 7919 + self.bot_id}",
            "data": data,
        }
        self._emit("callback_query", chat, query)
        self._enqueue({"callback_query": query})
        return query_id

    def _my_chat_member(self, user: FakeUser, *, blocked: bool) -> None:
        bot_member: dict[str, Any] = {"user": self.bot_user, "status": "member"}
        banned: dict[str, Any] = {"user": self.bot_user, "status": "kicked", "until_date": 0}
        self._enqueue(
            {
                "my_chat_member": {
                    "chat": user.chat_dict(),
                    "from": user.user_dict(),
                    "date": self.date(),
                    "old_chat_member": bot_member if blocked else banned,
                    "new_chat_member": banned if blocked else bot_member,
                }
            }
        )

    # ----- HTTP -----------------------------------------------------------------------------------
    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """File download; recorded in ``calls`` as method "downloadFile" (faults can target it)."""
        if request.match_info["token"] != self.token:
            return _json(ApiError(401, "Unauthorized").payload(), 401)
        file_path = request.match_info["file_path"]
        record = CallRecord("downloadFile", {"file_path": file_path}, self.now())
        self.calls.append(record)
        fault = self._pick_fault("downloadFile")
        if fault is not None:
            self.injected_faults.append(
                InjectedFault("downloadFile", "status" if fault.status else "timeout", fault.status, None, record.time)
            )
            if fault.status is None:
                record.timed_out = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.timeout_delay)
            status = fault.status or 504
            return self._finish(record, ApiError(status, _DEFAULT_ERROR_TEXT.get(status, "Error")).payload(), status)
        stored = self._files_by_path.get(file_path)
        if stored is None:
            return self._finish(record, ApiError(404, "Not Found").payload(), 404)
        record.status = 200
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        received = self.now()
        if request.match_info["token"] != self.token:
            return _json(ApiError(401, "Unauthorized").payload(), 401)
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return _json(ApiError(404, "Not Found").payload(), 404)
        method, handler = entry
        record = CallRecord(method, {}, received)
        self.calls.append(record)
        try:
            params = await read_params(request)
        except ApiError as err:
            return self._finish(record, err.payload(), err.status)
        record.params = params.raw

        fault = self._pick_fault(method)
        if fault is not None:
            self.injected_faults.append(
                InjectedFault(
                    method, "timeout" if fault.status is None else "status", fault.status, fault.description, received
                )
            )
            if fault.status is None:
                return await self._hold(record, method, handler, params, deliver=fault.delivers)
            description = fault.description or _DEFAULT_ERROR_TEXT.get(fault.status, "Error").format(
                retry_after=fault.retry_after
            )
            err = ApiError(fault.status, description, fault.retry_after)
            return self._finish(record, err.payload(), err.status)

        payload, status = await self._run(method, handler, params, request)
        return self._finish(record, payload, status)

    async def _run(
        self,
        method: str,
        handler: Callable[[Params], Any],
        params: Params,
        request: web.Request | None = None,
    ) -> tuple[dict[str, Any], int]:
        try:
            if method == "getUpdates":
                result = await self._get_updates(params, request)
            else:
                result = handler(params)
                if isinstance(result, Awaitable):
                    result = await result
        except ApiError as err:
            return err.payload(), err.status
        except Exception as exc:  # a bug in the fake itself: make it loud, not a silent NetworkError
            _LOGGER.exception("FakeBotApi failed in %s", method)
            self.server_errors.append(f"{method}: {exc!r}")
            return ApiError(500, f"Internal Server Error: fake Bot API bug in {method}: {exc!r}").payload(), 500
        finally:
            self._notifier.notify()
        return {"ok": True, "result": result}, 200

    async def _hold(
        self,
        record: CallRecord,
        method: str,
        handler: Callable[[Params], Any],
        params: Params,
        *,
        deliver: bool,
    ) -> web.StreamResponse:
        record.timed_out = True
        if deliver:
            payload, status = await self._run(method, handler, params)
        else:
            payload, status = ApiError(504, "Gateway Timeout").payload(), 504
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self.timeout_delay)
        return self._finish(record, payload, status)

    def _finish(self, record: CallRecord, payload: dict[str, Any], status: int) -> web.StreamResponse:
        record.status = status
        record.response = payload
        self._notifier.notify()
        return _json(payload, status)

    # ----- webhook delivery -------------------------------------------------------------------------
    def _webhook_changed(self) -> None:
        if self._webhook is not None and (self._pusher is None or self._pusher.done()):
            self._pusher = asyncio.get_running_loop().create_task(self._push_updates(), name="fake-webhook")
        self._notifier.notify()

    async def _push_updates(self) -> None:
        """POST pending updates to the webhook, oldest first, until each is answered 200."""
        import aiohttp

        async with aiohttp.ClientSession() as session:
            while self._webhook is not None and not self._closing.is_set():
                batch = await self._notifier.wait_for(lambda: self._deliverable(1) or None, 1.0)
                hook = self._webhook
                if not batch or hook is None:
                    continue
                pending = batch[0]
                url = self.webhook_proxy(hook["url"]) if self.webhook_proxy else hook["url"]
                headers = {"Content-Type": "application/json"}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                body = {"update_id": pending.update_id, **pending.body}
                try:
                    async with session.post(url, json=body, headers=headers,
                                            timeout=aiohttp.ClientTimeout(total=60)) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.webhook_posts.append((pending.update_id, status))
                if status == 200:
                    pending.deliveries += 1
                    self.delivered_update_ids.append(pending.update_id)
                    self._updates = [u for u in self._updates if u is not pending]
                else:
                    await asyncio.sleep(0.2)

    # ----- getUpdates -----------------------------------------------------------------------------
    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            # keep only the last -offset updates, forget the rest
            ordered = sorted(self._updates, key=lambda u: u.update_id)
            self._updates = ordered[offset:] if -offset < len(ordered) else ordered
            return
        self._updates = [u for u in self._updates if u.update_id >= offset or (u.forced and u.deliveries == 0)]

    def _deliverable(self, limit: int) -> list[_PendingUpdate]:
        allowed = self._allowed_updates
        self._updates = [u for u in self._updates if u.kind in allowed]
        return sorted(self._updates, key=lambda u: u.update_id)[:limit]

    async def _get_updates(self, params: Params, request: web.Request | None) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset")
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = max(params.number("timeout", 0.0) or 0.0, 0.0)
        allowed = params.decoded("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        self._poll_generation += 1
        generation = self._poll_generation
        # A new getUpdates supersedes an older one still waiting (Telegram answers it 409).
        self._notifier.notify()
        self._confirm(offset)

        def ready() -> list[_PendingUpdate] | bool | None:
            if generation != self._poll_generation or self._closing.is_set():
                return True
            return self._deliverable(limit) or None

        await self._notifier.wait_for(ready, timeout)
        if request is not None and (request.transport is None or request.transport.is_closing()):
            # The client gave up on this long poll (PTB cancels it when stopping): nothing is
            # delivered; 499 only shows in ``calls``, nobody reads the answer.
            raise ApiError(499, "Client Closed Request")
        if generation != self._poll_generation:
            raise ApiError(409, _DEFAULT_ERROR_TEXT[409])
        batch = self._deliverable(limit)
        for pending in batch:
            pending.deliveries += 1
            self.delivered_update_ids.append(pending.update_id)
        return [{"update_id": u.update_id, **u.body} for u in batch]


# ----- helpers ---------------------------------------------------------------------------------------
def _json(payload: dict[str, Any], status: int) -> web.Response:
    return web.json_response(payload, status=status)


# ----- helpers ---------------------------------------------------------------------------------------
def _json(payload: dict[str, Any], status: int) -> web.Response:
    return web.json_response(payload, status=status)
