"""The bot's HTTP client (scheduler.request.AiohttpRequest): what PTB's httpx client did, without its
per-call walk over the connection pool. Files go as multipart, a slow server is a TimedOut, a
refused connection a NetworkError, and Telegram's error answers reach PTB as before."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import BadRequest, NetworkError, TimedOut

from sandbox.fake_bot_api import FakeBotApi
from scheduler.request import AiohttpRequest


def _bot(api: FakeBotApi, request: AiohttpRequest) -> Bot:
    return Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url, request=request,
               get_updates_request=AiohttpRequest(1))


async def test_messages_and_files_reach_the_server() -> None:
    async with FakeBotApi() as api:
        user = api.user(4242, first_name="Uji")
        await user.send("/start")
        async with _bot(api, AiohttpRequest()) as bot:
            sent = await bot.send_message(user.id, "<b>halo</b> &amp; selamat", parse_mode="HTML")
            assert sent.text == "halo & selamat"
            data = b"isi berkas \x00\x01 laporan"
            await bot.send_document(user.id, InputFile(data, filename="laporan.txt"), caption="Laporan")
            with pytest.raises(BadRequest):  # Telegram's 400 answer, as PTB reads it
                await bot.send_message(user.id, "")
        doc = await user.wait_for(lambda m: m.document is not None)
        assert doc.document is not None and doc.document["file_name"] == "laporan.txt"
        assert doc.download() == data


async def test_a_slow_server_is_a_timeout_and_no_server_a_network_error() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST")
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            closed_port = free.getsockname()[1]
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://127.0.0.1:{closed_port}/botX/getMe", "POST")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_an_uninitialised_client_refuses() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/botX/getMe", "POST")
