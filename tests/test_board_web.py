"""The board's web edge over HTTP: Telegram initData checked, sessions, one-time links, scope."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.config import ConfigError, Settings
from bot.workflow.board import LOGIN_TTL, BoardSessions, login_url
from web import auth
from web.server import COOKIE, HEADER

from board_day import KOTIM_KABID_TG, TOKEN, BoardDay, board_day

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


# ---------------------------------------------------------------- initData


def test_genuine_init_data_is_accepted() -> None:
    data = auth.make_init_data(2004, TOKEN, NOW - timedelta(minutes=5), first_name="Kadir")
    user = auth.validate(data, TOKEN, NOW)
    assert user.id == 2004 and user.first_name == "Kadir"


@pytest.mark.parametrize("mutate", [
    lambda d: d.replace("2004", "2002"),                      # another user id, same signature
    lambda d: d + "&extra=1",                                 # a field added after signing
    lambda d: d.replace("hash=", "hash=0"),                   # signature changed
    lambda d: "&".join(p for p in d.split("&") if not p.startswith("hash=")),  # no signature
    lambda d: d + "&hash=abc",                                # two signatures
    lambda d: "%%%",                                          # not a query string
    lambda d: "",
    lambda d: d + "&x=" + "a" * 5000,                         # too long
])
def test_tampered_init_data_is_refused(mutate) -> None:
    data = auth.make_init_data(2004, TOKEN, NOW)
    with pytest.raises(auth.InitDataError):
        auth.validate(mutate(data), TOKEN, NOW)


def test_other_bots_expired_and_future_init_data_are_refused() -> None:
    with pytest.raises(auth.InitDataError, match="signature"):
        auth.validate(auth.make_init_data(2004, "999:OTHER-BOT", NOW), TOKEN, NOW)
    with pytest.raises(auth.InitDataError, match="expired"):
        auth.validate(auth.make_init_data(2004, TOKEN, NOW - auth.MAX_AGE - timedelta(seconds=1)), TOKEN, NOW)
    with pytest.raises(auth.InitDataError, match="future"):
        auth.validate(auth.make_init_data(2004, TOKEN, NOW + timedelta(minutes=5)), TOKEN, NOW)
    no_user = auth.sign({"auth_date": str(int(NOW.timestamp()))}, TOKEN)
    with pytest.raises(auth.InitDataError, match="user"):
        auth.validate(no_user, TOKEN, NOW)
    bad_user = auth.sign({"auth_date": str(int(NOW.timestamp())), "user": json.dumps({"id": "x"})}, TOKEN)
    with pytest.raises(auth.InitDataError):
        auth.validate(bad_user, TOKEN, NOW)


def test_web_settings() -> None:
    s = Settings.from_env({"ALUR_WEB_URL": "https://alur.example.go.id/papan/", "ALUR_WEB_PORT": "8088"}, dotenv=False)
    assert s.web_url == "https://alur.example.go.id/papan" and s.web_port == 8088 and s.web_enabled
    assert not Settings.from_env({}, dotenv=False).web_enabled
    assert not Settings.from_env({"ALUR_WEB_URL": "https://a.b", "ALUR_WEB_PORT": "0"}, dotenv=False).web_enabled
    with pytest.raises(ConfigError):
        Settings.from_env({"ALUR_WEB_URL": "http://alur.example.go.id"}, dotenv=False)


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[BoardDay]:
    async with board_day(tmp_path) as d:
        yield d


def _client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _sign_in(http: aiohttp.ClientSession, day: BoardDay, telegram_id: int) -> aiohttp.ClientResponse:
    data = auth.make_init_data(telegram_id, TOKEN, day.clock.now())
    return await http.post(day.url + "/auth/telegram", json={"initData": data})


async def test_no_data_without_a_session(day: BoardDay) -> None:
    async with _client() as http:
        for path in ["/api/papan", f"/api/kasus/{day.cases['late']}", f"/api/bagan/kasus/{day.cases['late']}.png",
                     "/api/bagan/sop/kotim-rakordal.png"]:
            r = await http.get(day.url + path)
            assert r.status == 401, path
            assert day.cases["late"] not in await r.text()
        r = await http.get(day.url + "/api/papan", headers={HEADER: "forged-session"})
        assert r.status == 401
        index = await (await http.get(day.url + "/")).text()
        assert "KTP-INFO" not in index and "Papan Pimpinan" in index


async def test_kabid_sees_their_unit_after_a_genuine_sign_in(day: BoardDay) -> None:
    async with _client() as http:
        r = await _sign_in(http, day, 2004)
        assert r.status == 200 and (await r.json())["name"].startswith("Pak Kadir")
        assert COOKIE in r.cookies and r.cookies[COOKIE]["httponly"]
        page = await (await http.get(day.url + "/api/papan")).text()
        assert 'data-total="open">3<' in page and 'data-total="overdue">1<' in page
        assert 'data-total="due_today">1<' in page and 'data-total="unassigned">1<' in page
        assert day.cases["late"] in page and day.cases["unassigned"] in page and day.cases["due_today"] in page
        assert day.cases["kotim"] not in page and "Rakordal" not in page
        case = await http.get(day.url + f"/api/kasus/{day.cases['answered']}")
        text = await case.text()
        assert case.status == 200 and "Riwayat" in text and "Permohonan selesai" in text
        chart = await http.get(day.url + f"/api/bagan/kasus/{day.cases['late']}.png")
        assert chart.status == 200 and (await chart.read())[:4] == b"\x89PNG"
        # filters outside the scope are refused, not widened
        assert (await http.get(day.url + "/api/papan?unit=sekretariat")).status == 403
        assert (await http.get(day.url + "/api/papan?sop=kotim-rakordal")).status == 403
        assert (await http.get(day.url + "/api/papan?periode=abc")).status == 400
        assert (await http.get(day.url + "/api/papan?periode=7")).status == 200


async def test_forged_expired_and_other_institution_init_data_get_nothing(day: BoardDay) -> None:
    async with _client() as http:
        forged = auth.make_init_data(2004, "999:OTHER-BOT", day.clock.now())
        r = await http.post(day.url + "/auth/telegram", json={"initData": forged})
        assert r.status == 401 and COOKIE not in r.cookies
        stale = auth.make_init_data(2004, TOKEN, day.clock.now() - timedelta(hours=2))
        assert (await http.post(day.url + "/auth/telegram", json={"initData": stale})).status == 401
        assert (await http.get(day.url + "/api/papan")).status == 401
        # an officer (not a supervisor) is refused
        assert (await _sign_in(http, day, 3001)).status == 403
        # a stranger with a genuine Telegram signature but no account
        assert (await _sign_in(http, day, 777)).status == 403
    async with _client() as http:
        # a supervisor of another institution: a session, but none of Ketapang's data
        assert (await _sign_in(http, day, KOTIM_KABID_TG)).status == 200
        page = await (await http.get(day.url + "/api/papan")).text()
        assert 'data-total="open">1<' in page and "Koordinasi Pengendalian" in page  # their own Rakordal
        assert "KTP-INFO" not in page
        for register in (day.cases["late"], day.cases["answered"]):
            assert (await http.get(day.url + f"/api/kasus/{register}")).status == 404
            assert (await http.get(day.url + f"/api/bagan/kasus/{register}.png")).status == 404
        assert (await http.get(day.url + "/api/papan?unit=perstradal")).status == 403


async def test_kepala_badan_sees_the_institution_and_sign_out_ends_the_session(day: BoardDay) -> None:
    async with _client() as http:
        r = await _sign_in(http, day, 2002)
        token = (await r.json())["session"]
        page = await (await http.get(day.url + "/api/papan")).text()
        assert 'data-total="open">3<' in page and "Semua unit" in page
        assert (await http.post(day.url + "/keluar")).status == 200
    async with aiohttp.ClientSession() as http:  # the header form of the same session is gone too
        assert (await http.get(day.url + "/api/papan", headers={HEADER: token})).status == 401


async def test_one_time_login_link(day: BoardDay) -> None:
    sessions = BoardSessions(day.services.db, day.services.clock)
    token = await sessions.create_login(day.roster["kabid"].id)
    link = login_url(day.url, token)
    async with _client() as http:
        r = await http.get(link, allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == "/" and COOKIE in r.cookies
        assert (await http.get(day.url + "/api/papan")).status == 200
    async with _client() as http:
        again = await http.get(link, allow_redirects=False)
        assert again.status == 403 and "sudah dipakai" in await again.text()
        assert (await http.get(day.url + "/api/papan")).status == 401
        late = await sessions.create_login(day.roster["kabid"].id)
        day.clock.advance(LOGIN_TTL + timedelta(seconds=1))
        assert (await http.get(login_url(day.url, late), allow_redirects=False)).status == 403
        assert (await http.get(day.url + "/masuk/" + "x" * 500, allow_redirects=False)).status == 403


async def test_standard_times_in_sql_match_the_work_calendar(day: BoardDay) -> None:
    """The SQL measurement (temp work_days table) agrees with the calendar measured in Python."""
    from bot.storage import board as q
    from bot.storage.db import Database
    from bot.workflow.board import Board

    db = await Database.open(day.services.db.path, migrate=False)
    try:
        board = Board(db, day.services.workflow)
        now = day.clock.now()
        where = q.Where("ketapang", None, None)
        in_sql = await board.standard_times(where, now, 30)
        python = await board._standard_times_python(where, now - timedelta(days=30), now)
        assert len(in_sql) == len(python) >= 8
        by_step = {(r[0], r[1]): r for r in python}
        for row in in_sql:
            _sop, _step, _role, count, median, standard, on_time, _n = by_step[(row["sop_id"], row["step"])]
            assert row["count"] == count and row["median"] == board.minutes_text(median)
            assert row["standard"] == board.minutes_text(standard)
            assert row["share_value"] == on_time / count
        slow = next(r for r in in_sql if r["step"] == "2")  # the TU desk took 2 hours against half an hour
        assert slow["slow"] and slow["share"] == "40%"
    finally:
        await db.close()


async def test_alur_run_starts_the_board_only_when_configured(tmp_path: Path) -> None:
    from bot.runtime import StartupError, open_services
    from scheduler.serve import start_board

    base = Settings(db_path=tmp_path / "run.sqlite3", token=TOKEN)
    services = await open_services(base, sync_people=False)
    try:
        assert await start_board(services, base) is None
        switched_off = base.model_copy(update={"web_url": "https://a.example", "web_port": 0})
        assert await start_board(services, switched_off) is None
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            free = sock.getsockname()[1]
        server = await start_board(services, base.model_copy(update={"web_port": free}))
        assert server is not None
        try:
            async with aiohttp.ClientSession() as http:
                assert (await http.get(f"http://127.0.0.1:{free}/healthz")).status == 200
                assert (await http.get(f"http://127.0.0.1:{free}/api/papan")).status == 401
            with pytest.raises(StartupError, match=f"127.0.0.1:{free}.*ALUR_WEB_PORT"):  # the port is taken
                await start_board(services, base.model_copy(update={"web_port": free}))
        finally:
            await server.stop()
    finally:
        await services.close()


async def test_garbage_sign_in_requests_get_nothing(day: BoardDay) -> None:
    async with _client() as http:
        form = "application/x-www-form-urlencoded"
        for body, kind in [("{not json", "application/json"), ('["a"]', "application/json"),
                           ('{"initData": 5}', "application/json"), ("initData=abc", form)]:
            r = await http.post(day.url + "/auth/telegram", data=body, headers={"Content-Type": kind})
            assert r.status == 401, body
        assert (await http.get(day.url + "/api/papan")).status == 401
