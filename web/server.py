"""The board's web server (aiohttp), started beside the bot by the transport.

One page (``/``) holds the board's frame and a small script. The script signs in (with the Mini
App's ``initData``, or the cookie a one-time link left), then fetches the board's parts as HTML
rendered here, with every value escaped. Each data request is authenticated by its session and cut
to the viewer's scope; without a session the server answers 401 and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot import storage
from bot.runtime import Services
from bot.storage.db import Database
from bot.storage.records import Person
from bot.text.render import Renderer
from bot.workflow.board import PERIODS, Board, BoardError, BoardSessions, Filters
from web import auth

log = logging.getLogger(__name__)

COOKIE = "alur_papan"
HEADER = "X-Alur-Session"
STATIC = Path(__file__).resolve().parent / "static"
STATE_KEY: web.AppKey[WebState] = web.AppKey("state")


@dataclass
class WebState:
    services: Services
    db: Database
    board: Board
    sessions: BoardSessions
    env: Environment
    renderer: Renderer
    token: str
    secure_cookie: bool


def _env(renderer: Renderer) -> Environment:
    env = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = renderer.when
    env.filters["short"] = lambda m: "-" if m is None else m.astimezone(renderer.tz).strftime("%d/%m %H.%M")
    env.globals["zone"] = renderer.zone
    env.globals["state_names"] = {"open": "berjalan", "completed": "selesai", "rejected": "tidak disetujui",
                                  "cancelled": "dibatalkan", "done": "selesai"}

    def event_text(e: dict[str, Any]) -> str:
        return renderer.plain("event_line", type=e["type"], actor=e["actor"], on_behalf=e["on_behalf"], data=e["data"])

    env.globals["event_text"] = event_text
    return env


def _html(state: WebState, template: str, status: int = 200, **context: Any) -> web.Response:
    body = state.env.get_template(template).render(**context)
    return web.Response(text=body, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})


def _state(request: web.Request) -> WebState:
    return request.app[STATE_KEY]


def _token(request: web.Request) -> str | None:
    return request.headers.get(HEADER) or request.cookies.get(COOKIE)


async def _viewer(request: web.Request) -> Person:
    """The signed-in supervisor, or 401/403 (no data leaves without one)."""
    state = _state(request)
    person = await state.sessions.person(_token(request))
    if person is None:
        raise web.HTTPUnauthorized(text="Sesi tidak berlaku. Buka papan lagi dari Telegram.")
    if state.board.scope(person) is None:
        raise web.HTTPForbidden(text="Papan ini hanya untuk pimpinan (Kepala Badan, Sekretaris, Kabid) dan admin.")
    return person


def _set_cookie(state: WebState, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, secure=state.secure_cookie,
                        samesite="None" if state.secure_cookie else "Lax", path="/")


# ---------------------------------------------------------------- pages


async def index(request: web.Request) -> web.Response:
    """The frame: no data, only the script that signs in and fetches the board."""
    return _html(_state(request), "index.html.j2", periods=PERIODS)


async def sign_in_webapp(request: web.Request) -> web.Response:
    """POST initData → a session (cookie and, for webviews without cookies, the token for a header)."""
    state = _state(request)
    try:
        data = await request.json() if request.content_type == "application/json" else await request.post()
    except ValueError:
        data = {}
    init_data = data.get("initData", "") if isinstance(data, Mapping) else ""
    if not isinstance(init_data, str):
        init_data = ""
    try:
        user = auth.validate(init_data, state.token, state.services.clock.now())
    except auth.InitDataError as exc:
        log.info("board sign-in refused: %s", exc)
        return web.json_response({"ok": False, "error": "Data masuk dari Telegram tidak sah atau kedaluwarsa."},
                                 status=401)
    person = await storage.people.person_by_telegram(state.db, user.id)
    if person is None or state.board.scope(person) is None:
        return web.json_response({"ok": False, "error": "Papan ini hanya untuk pimpinan dan admin."}, status=403)
    token = await state.sessions.open(person.id, "webapp")
    response = web.json_response({"ok": True, "session": token, "name": person.name})
    _set_cookie(state, response, token)
    return response


async def sign_in_link(request: web.Request) -> web.StreamResponse:
    """A one-time login link from the bot (desktop browsers): used up on first use."""
    state = _state(request)
    person_id = await state.sessions.redeem_login(request.match_info["token"])
    if person_id is None:
        return _html(state, "message.html.j2", status=403, title="Tautan tidak berlaku",
                     text="Tautan masuk ini sudah dipakai atau sudah kedaluwarsa. Minta tautan baru di Telegram "
                          "dengan /ringkasan → 🔗 Tautan masuk.")
    token = await state.sessions.open(person_id, "link")
    response = web.HTTPSeeOther("/")
    _set_cookie(state, response, token)
    raise response


async def sign_out(request: web.Request) -> web.Response:
    state = _state(request)
    token = _token(request)
    if token:
        await state.sessions.close(token)
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


def _filters(request: web.Request) -> Filters:
    def opt(name: str) -> str | None:
        value = request.query.get(name, "").strip()
        return value or None

    try:
        period = int(request.query.get("periode", "30"))
    except ValueError as exc:
        raise web.HTTPBadRequest(text="Periode tidak dikenal.") from exc
    return Filters(unit=opt("unit"), sop_id=opt("sop"), period=period)


async def board_part(request: web.Request) -> web.Response:
    state = _state(request)
    person = await _viewer(request)
    try:
        view = await state.board.overview(person, _filters(request))
    except BoardError as exc:
        raise web.HTTPForbidden(text="Filter di luar cakupan Anda.") from exc
    return _html(state, "board.html.j2", **view)


async def case_part(request: web.Request) -> web.Response:
    state = _state(request)
    person = await _viewer(request)
    try:
        view = await state.board.case_view(person, request.match_info["register"])
    except BoardError as exc:
        raise web.HTTPNotFound(text="Permohonan tidak ditemukan dalam cakupan Anda.") from exc
    return _html(state, "case.html.j2", **view)


async def case_chart(request: web.Request) -> web.Response:
    state = _state(request)
    person = await _viewer(request)
    try:
        case = await state.board.chart_case(person, request.match_info["register"])
    except BoardError as exc:
        raise web.HTTPNotFound(text="Permohonan tidak ditemukan dalam cakupan Anda.") from exc
    data = await state.services.pictures.case_chart(case)
    return web.Response(body=data, content_type="image/png", headers={"Cache-Control": "private, no-store"})


async def sop_chart(request: web.Request) -> web.Response:
    state = _state(request)
    await _viewer(request)
    sop = state.services.catalog.get(request.match_info["sop_id"])
    if sop is None:
        raise web.HTTPNotFound(text="SOP tidak ditemukan.")
    data = await state.services.pictures.sop_chart(sop)
    return web.Response(body=data, content_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' blob: data:; script-src 'self' https://telegram.org; "
        "style-src 'self'; frame-ancestors 'self' https://web.telegram.org https://*.telegram.org",
    )
    return response


# ---------------------------------------------------------------- the application and its runner


async def build_app(services: Services, *, token: str, secure_cookie: bool) -> web.Application:
    """The board's aiohttp application, reading through a connection of its own (the bot is not held up)."""
    db = await Database.open(services.db.path, migrate=False)
    renderer = Renderer(services.settings.timezone)
    renderer.env.globals["role_names"] = {r.id: r.name for r in services.catalog.roles.roles.values()}
    board = Board(db, services.workflow)
    state = WebState(services, db, board, BoardSessions(db, services.clock), _env(renderer), renderer, token,
                     secure_cookie)
    app = web.Application(middlewares=[security_headers], client_max_size=64 * 1024)
    app[STATE_KEY] = state
    app.add_routes([
        web.get("/", index),
        web.post("/auth/telegram", sign_in_webapp),
        web.get("/masuk/{token}", sign_in_link),
        web.post("/keluar", sign_out),
        web.get("/api/papan", board_part),
        web.get("/api/kasus/{register}", case_part),
        web.get("/api/bagan/kasus/{register}.png", case_chart),
        web.get("/api/bagan/sop/{sop_id}.png", sop_chart),
        web.get("/healthz", health),
        web.static("/static", STATIC),
    ])

    async def close_db(_app: web.Application) -> None:
        await db.close()

    app.on_cleanup.append(close_db)
    return app


class WebServer:
    """The board's server on ``listen:port`` (port 0 picks a free one; ``port`` tells which)."""

    def __init__(self, services: Services, *, token: str, listen: str, port: int, secure_cookie: bool) -> None:
        self.services = services
        self.token = token
        self.listen = listen
        self.requested_port = port
        self.secure_cookie = secure_cookie
        self._runner: web.AppRunner | None = None
        self.port = port

    async def start(self) -> WebServer:
        app = await build_app(self.services, token=self.token, secure_cookie=self.secure_cookie)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.requested_port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("Papan pimpinan di http://%s:%d/", self.listen, self.port)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.listen}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


__all__ = ["COOKIE", "HEADER", "WebServer", "build_app"]
