"""The fake Bot API, proven against the real python-telegram-bot over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import json
import struct
import zlib

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Bot,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.core.clock import ManualClock
from sandbox.fake_bot_api import FakeBotApi, HtmlParseError, parse_html

from fake_api_fixtures import build_application, fake_api_fixture, running_bot  # noqa: F401

pytestmark = [
    pytest.mark.timeout(30),
    # PTB 22 warns when RetryAfter.retry_after is read as int (PTB_TIMEDELTA opts in to timedelta)
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


class FakeClock:
    """A clock tests move by hand (seconds)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ----- end to end with a running Application ----------------------------------------------------------
async def test_start_command_reply_and_deep_link(fake_api: FakeBotApi) -> None:
    seen_args: list[list[str]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen_args.append(list(context.args or []))
        name = update.effective_user.first_name if update.effective_user else "?"
        await update.message.reply_html(f"Halo <b>{html.escape(name)}</b>! Kode: {' '.join(context.args or [])}")

    def setup(app: Application) -> None:
        app.add_handler(CommandHandler("start", start))

    siti = fake_api.user(id=1001, first_name="Siti <3", username="siti")
    async with running_bot(fake_api, setup):
        sent = await siti.send("/start")
        reply = await siti.next_message()
        assert reply.text == "Halo Siti <3! Kode:"
        assert reply.entities == [{"offset": 5, "length": 7, "type": "bold"}]
        assert reply["from"]["is_bot"] and reply["chat"]["id"] == siti.id
        assert reply.message_id > sent["message_id"]

        await siti.send("/start PERMOHONAN-42")
        reply = await siti.next_message()
        assert reply.text.endswith("Kode: PERMOHONAN-42")
    assert seen_args == [[], ["PERMOHONAN-42"]]
    assert [m.text for m in siti.inbox] == ["Halo Siti <3! Kode:", "Halo Siti <3! Kode: PERMOHONAN-42"]


async def test_html_is_validated_like_telegram(fake_api: FakeBotApi) -> None:
    errors: list[str] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await update.message.reply_html("<b>Tugas</b> <i>belum <u>selesai</i></u>")
        except BadRequest as err:
            errors.append(err.message)
            await update.message.reply_html("<b>Tugas</b> &lt;belum&gt; selesai &#128077;")

    async def bare_amp(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await update.message.reply_html("Dinas PU & Tata Ruang")
        except BadRequest as err:
            errors.append(err.message)

    def setup(app: Application) -> None:
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CommandHandler("amp", bare_amp))

    user = fake_api.user(id=1002, first_name="Budi")
    async with running_bot(fake_api, setup):
        await user.send("/start")
        reply = await user.next_message()
        assert reply.text == "Tugas <belum> selesai 👍"
        assert reply.source_text == "<b>Tugas</b> &lt;belum&gt; selesai &#128077;"
        await user.send("/amp")
        await fake_api._notifier.wait_for(lambda: len(errors) == 2, 5)
    assert len(user.inbox) == 1
    assert errors[0].lower().startswith("can't parse entities: unmatched end tag")
    assert 'expected "</u>", found "</i>"' in errors[0]
    assert "&" in errors[1] and errors[1].lower().startswith("can't parse entities")


async def test_inline_keyboard_tap_answer_and_edit(fake_api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("✅ Setujui", callback_data="approve:7")],
                [InlineKeyboardButton("❌ Tolak", callback_data="reject:7")],
            ]
        )
        await update.message.reply_text("Permohonan #7 menunggu keputusan", reply_markup=keyboard)

    async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        verdict, _ = (query.data or "").split(":")
        await query.answer("Tercatat", show_alert=verdict == "reject")
        await query.edit_message_text(f"Permohonan #7: {verdict}")

    def setup(app: Application) -> None:
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(decide))

    user = fake_api.user(id=1003, first_name="Rina")
    transcript: list[str] = []
    fake_api.on_event(lambda kind, chat, payload: transcript.append(kind))
    async with running_bot(fake_api, setup):
        await user.send("/start")
        card = await user.next_message()
        assert card.button_texts == ["✅ Setujui", "❌ Tolak"]
        query_id = await user.tap(card, "Setujui")  # unique substring
        answer = await user.wait_answer(query_id)
        edited = await user.wait_for_text("approve")
    assert answer.text == "Tercatat" and answer.show_alert is False
    assert user.alerts == [answer]
    assert edited.text == "Permohonan #7: approve" and edited.edits == 1
    assert transcript == ["user_message", "message", "callback_query", "answer", "edit"]
    live = user.last
    assert live is not None and live.message_id == card.message_id
    assert live.edits == 1 and live.history[0]["text"] == "Permohonan #7 menunggu keputusan"
    assert live.buttons == []  # editMessageText without reply_markup drops the keyboard, as Telegram does
    with pytest.raises(AssertionError, match="no button"):
        await user.tap(card, "Tolak")  # the keyboard is gone from the latest version


async def test_document_roundtrip(fake_api: FakeBotApi) -> None:
    received: list[bytes] = []

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        document = update.message.document
        file = await document.get_file()
        data = bytes(await file.download_as_bytearray())
        received.append(data)
        await update.message.reply_document(
            document=data[::-1],
            filename="balik.bin",
            caption=f"Diterima <b>{document.file_name}</b>",
            parse_mode="HTML",
        )

    def setup(app: Application) -> None:
        app.add_handler(MessageHandler(filters.Document.ALL, on_document))

    user = fake_api.user(id=1004, first_name="Agus")
    payload = bytes(range(256)) * 40
    async with running_bot(fake_api, setup):
        sent = await user.send_document(payload, "ktp.pdf", "application/pdf")
        reply = await user.next_message()
    assert received == [payload]
    assert sent["document"]["file_size"] == len(payload)
    assert reply.document is not None
    assert reply.document["file_name"] == "balik.bin"
    assert reply.document["file_size"] == len(payload)
    assert reply.caption == "Diterima ktp.pdf"
    assert reply.download() == payload[::-1]
    assert [c.method for c in fake_api.calls if c.method in ("getFile", "sendDocument")] == ["getFile", "sendDocument"]


async def test_redelivered_update_reaches_the_handler_again(fake_api: FakeBotApi) -> None:
    seen: list[int] = []

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        await update.message.reply_text(f"#{len(seen)}")

    def setup(app: Application) -> None:
        app.add_handler(MessageHandler(filters.TEXT, echo))

    user = fake_api.user(id=1005, first_name="Dewi")
    async with running_bot(fake_api, setup):
        await user.send("halo")
        await user.next_message()
        first_id = fake_api.delivered_update_ids[0]
        original = {"update_id": first_id, "message": user.sent[0]}
        fake_api.inject_update(original)  # Telegram redelivers the same update
        again = await user.next_message()
    assert again.text == "#2"
    assert seen == [first_id, first_id]
    assert fake_api.delivered_update_ids == [first_id, first_id]
    assert fake_api.pending_updates() == []


async def test_reply_keyboard_press(fake_api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(
            "Pilih peran", reply_markup=ReplyKeyboardMarkup([["Petugas", "Warga"]], one_time_keyboard=True)
        )

    async def role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"Peran: {update.message.text}")

    def setup(app: Application) -> None:
        app.add_handler(CommandHandler("start", start))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, role))

    user = fake_api.user(id=1006, first_name="Eka")
    async with running_bot(fake_api, setup):
        await user.send("/start")
        await user.next_message()
        await user.press("Warga")
        assert (await user.next_message()).text == "Peran: Warga"
    assert user.reply_keyboard is None  # one-time keyboard is gone after use


# ----- errors as PTB sees them ------------------------------------------------------------------------
async def test_fail_next_maps_to_ptb_exceptions(fake_api: FakeBotApi) -> None:
    user = fake_api.user(id=2001, first_name="Fajar")
    async with build_application(fake_api) as app:
        fake_api.fail_next("sendMessage", 429, retry_after=7)
        with pytest.raises(RetryAfter) as excinfo:
            await app.bot.send_message(user.id, "satu")
        assert _seconds(excinfo.value._retry_after) == 7

        fake_api.fail_next("sendMessage", 500)
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await app.bot.send_message(user.id, "dua")

        fake_api.fail_next("sendMessage", 400, "Bad Request: chat not found")
        with pytest.raises(BadRequest, match="Chat not found"):
            await app.bot.send_message(user.id, "tiga")

        message = await app.bot.send_message(user.id, "empat")  # faults are used up
    assert message.text == "empat"
    assert [m.text for m in user.inbox] == ["empat"]
    assert [(c.method, c.status) for c in fake_api.calls_to("sendMessage")] == [
        ("sendMessage", 429),
        ("sendMessage", 500),
        ("sendMessage", 400),
        ("sendMessage", 200),
    ]
    assert fake_api.calls_to("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }


async def test_injected_timeout_drops_or_delivers(fake_api: FakeBotApi) -> None:
    fake_api.timeout_delay = 0.6
    user = fake_api.user(id=2002, first_name="Gita")
    async with build_application(fake_api, read_timeout=0.2) as app:
        fake_api.fail_next("sendMessage", "timeout")
        with pytest.raises(TimedOut):
            await app.bot.send_message(user.id, "hilang")
        fake_api.fail_next("sendMessage", "timeout", delivers=True)
        with pytest.raises(TimedOut):
            await app.bot.send_message(user.id, "terkirim tapi tanpa jawaban")
    assert [m.text for m in user.inbox] == ["terkirim tapi tanpa jawaban"]
    assert [f.kind for f in fake_api.injected_faults] == ["timeout", "timeout"]


async def test_blocked_and_not_started_users_are_forbidden(fake_api: FakeBotApi) -> None:
    blocker = fake_api.user(id=2003, first_name="Hadi")
    stranger = fake_api.user(id=2004, first_name="Indah", started=False)
    async with build_application(fake_api) as app:
        await app.bot.send_message(blocker.id, "sebelum blokir")
        blocker.blocked = True
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(blocker.id, "sesudah blokir")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_chat_action(blocker.id, "typing")
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await app.bot.send_message(stranger.id, "halo")
        await stranger.send("/start")
        await app.bot.send_message(stranger.id, "halo")
        with pytest.raises(BadRequest, match="Chat not found"):
            await app.bot.send_message(999_999, "siapa?")
    assert [m.text for m in blocker.inbox] == ["sebelum blokir"]
    assert [m.text for m in stranger.inbox] == ["halo"]


async def test_callback_data_limit_and_markup_validation(fake_api: FakeBotApi) -> None:
    user = fake_api.user(id=2005, first_name="Joko")
    async with build_application(fake_api) as app:
        ok = InlineKeyboardMarkup([[InlineKeyboardButton("64", callback_data="x" * 64)]])
        await app.bot.send_message(user.id, "boleh", reply_markup=ok)
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("65", callback_data="x" * 65)]])
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await app.bot.send_message(user.id, "kepanjangan", reply_markup=too_long)
        multibyte = InlineKeyboardMarkup([[InlineKeyboardButton("é", callback_data="é" * 33)]])  # 66 bytes
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await app.bot.send_message(user.id, "multibyte", reply_markup=multibyte)
        with pytest.raises(BadRequest, match="Message is too long"):
            await app.bot.send_message(user.id, "a" * 4097)
        with pytest.raises(BadRequest, match="Message text is empty"):
            await app.bot.send_message(user.id, "<b> </b>", parse_mode="HTML")
        await app.bot.send_message(user.id, "&lt;" * 4096, parse_mode="HTML")  # 4096 after parsing
    assert [len(m.text) for m in user.inbox] == [5, 4096]


async def test_edit_rules(fake_api: FakeBotApi) -> None:
    user = fake_api.user(id=2006, first_name="Kiki")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Lanjut", callback_data="next")]])
    async with build_application(fake_api) as app:
        message = await app.bot.send_message(user.id, "Langkah 1", reply_markup=keyboard)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await message.edit_text("Langkah 1", reply_markup=keyboard)
        await message.edit_text("Langkah 1", reply_markup=None)  # removing the keyboard is a change
        await app.bot.edit_message_reply_markup(user.id, message.message_id, reply_markup=keyboard)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await app.bot.edit_message_text("x", chat_id=user.id, message_id=999)
        await app.bot.delete_message(user.id, message.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await app.bot.delete_message(user.id, message.message_id)
    assert user.inbox == []
    assert [e.kind for e in user.events] == ["message", "edit", "edit", "delete"]
    assert user.deleted[0].edits == 2


async def test_answer_callback_query_expiry(fake_api: FakeBotApi) -> None:
    clock = FakeClock()
    async with FakeBotApi(clock=clock) as api:
        user = api.user(id=2007, first_name="Lina")
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="yes")]])
        async with build_application(api) as app:
            message = await app.bot.send_message(user.id, "Yakin?", reply_markup=keyboard)
            fresh = await user.tap(message.to_dict(), "Ya")
            assert await app.bot.answer_callback_query(fresh, text="Oke")
            with pytest.raises(BadRequest, match="Query is too old"):
                await app.bot.answer_callback_query(fresh)  # already answered
            stale = await user.tap(message.to_dict(), "Ya")
            clock.advance(15.5)
            with pytest.raises(BadRequest, match="Query is too old"):
                await app.bot.answer_callback_query(stale)
            with pytest.raises(BadRequest, match="Query is too old"):
                await app.bot.answer_callback_query("no-such-query")
            forged = await user.tap_data(message.message_id, "admin:delete-all")
        assert [a.text for a in user.alerts] == ["Oke"]
        updates = api.pending_updates()
        assert [u["callback_query"]["data"] for u in updates] == ["yes", "yes", "admin:delete-all"]
        assert updates[-1]["callback_query"]["id"] == forged


async def test_set_my_commands_per_scope(fake_api: FakeBotApi) -> None:
    officer = fake_api.user(id=2008, first_name="Made")
    async with build_application(fake_api) as app:
        await app.bot.set_my_commands([("start", "Mulai"), ("bantuan", "Bantuan")])
        await app.bot.set_my_commands([("start", "Start")], language_code="en")
        await app.bot.set_my_commands([("tugas", "Tugas saya")], scope=BotCommandScopeChat(officer.id))
        await app.bot.set_my_commands([("lapor", "Lapor")], scope=BotCommandScopeAllPrivateChats(), language_code="id")
        fetched = await app.bot.get_my_commands(scope=BotCommandScopeChat(officer.id))
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await app.bot.set_my_commands([("Mulai!", "huruf besar tidak boleh")])
        await app.bot.delete_my_commands(language_code="en")
    assert [c.command for c in fetched] == ["tugas"]
    assert fake_api.commands_for() == ["start", "bantuan"]
    assert fake_api.commands_for(f"chat:{officer.id}") == ["tugas"]
    assert fake_api.commands_for("all_private_chats", "id") == ["lapor"]
    assert fake_api.commands_for(language_code="en") == []
    assert set(fake_api.commands) == {("default", ""), (f"chat:{officer.id}", ""), ("all_private_chats", "id")}


async def test_wrong_token_and_unknown_method(fake_api: FakeBotApi) -> None:
    async def use_wrong_token() -> None:
        async with Bot("42:wrong-token", base_url=fake_api.base_url):
            pass

    with pytest.raises(InvalidToken):
        await use_wrong_token()
    async with build_application(fake_api) as app:
        with pytest.raises(EndPointNotFound):
            await app.bot.do_api_request("sendTelepathy")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake_api.base_url}{fake_api.token}/getMe", json={}) as response:
            assert response.status == 200
            assert (await response.json())["result"]["is_bot"] is True
        async with session.get(f"{fake_api.base_url}bad/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_json_body_parameters(fake_api: FakeBotApi) -> None:
    """Other clients send JSON bodies with native values; nested objects need no decoding."""
    user = fake_api.user(id=2009, first_name="Nur")
    body = {
        "chat_id": user.id,
        "text": "<i>JSON</i>",
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    }
    async with aiohttp.ClientSession() as session:
        url = f"{fake_api.base_url}{fake_api.token}/sendMessage"
        async with session.post(url, json=body) as response:
            result = (await response.json())["result"]
        async with session.post(url, data={"chat_id": str(user.id), "text": "form"}) as response:
            assert response.status == 200
    assert result["entities"] == [{"offset": 0, "length": 4, "type": "italic"}]
    assert [m.text for m in user.inbox] == ["JSON", "form"]
    assert user.inbox[0].button_texts == ["A"]


# ----- getUpdates -------------------------------------------------------------------------------------
async def test_get_updates_offset_semantics(fake_api: FakeBotApi) -> None:
    user = fake_api.user(id=3001, first_name="Oki")
    async with build_application(fake_api) as app:
        await user.send("satu")
        await user.send("dua")
        first = await app.bot.get_updates(timeout=0)
        assert [u.message.text for u in first] == ["satu", "dua"]
        again = await app.bot.get_updates(timeout=0)  # not confirmed yet: delivered again
        assert [u.update_id for u in again] == [u.update_id for u in first]
        confirmed = await app.bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
        assert confirmed == ()
        assert fake_api.pending_updates() == []

        fake_api.inject_update(first[0].to_dict())  # the same update_id once more
        duplicate = await app.bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
        assert [u.update_id for u in duplicate] == [first[0].update_id]
        assert await app.bot.get_updates(offset=first[0].update_id + 1, timeout=0) == ()

        await user.send("tiga")
        limited = await app.bot.get_updates(limit=1, allowed_updates=["callback_query"], timeout=0)
        assert limited == ()  # message updates are filtered out (and dropped) by allowed_updates
    ids = [u.update_id for u in first]
    assert fake_api.delivered_update_ids == [*ids, *ids, ids[0]]


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake_api: FakeBotApi) -> None:
    user = fake_api.user(id=3002, first_name="Putri")
    async with build_application(fake_api) as app:
        loop = asyncio.get_running_loop()
        started = loop.time()
        poll = asyncio.create_task(app.bot.get_updates(timeout=20))
        await fake_api._notifier.wait_for(lambda: fake_api.calls_to("getUpdates"), 5)
        await user.send("cepat")
        updates = await asyncio.wait_for(poll, 5)
        assert loop.time() - started < 2
        assert [u.message.text for u in updates] == ["cepat"]

        empty = await app.bot.get_updates(offset=updates[0].update_id + 1, timeout=dtm.timedelta(milliseconds=200))
        assert empty == ()


async def test_second_bot_instance_terminates_the_first_long_poll(fake_api: FakeBotApi) -> None:
    # One PTB Bot cannot overlap two getUpdates (its getUpdates pool has one connection), so the
    # realistic conflict is a second instance of the bot polling with the same token.
    async with build_application(fake_api) as app, build_application(fake_api) as other:
        first = asyncio.create_task(app.bot.get_updates(timeout=10))
        await fake_api._notifier.wait_for(lambda: fake_api.calls_to("getUpdates"), 5)
        second = asyncio.create_task(other.bot.get_updates(timeout=0))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 5)
        assert await second == ()


# ----- flood limits -----------------------------------------------------------------------------------
async def test_per_chat_limit_violations_with_fake_clock() -> None:
    clock = FakeClock()
    async with FakeBotApi(clock=clock) as api:
        burst = api.user(id=4001, first_name="Rudi")
        spaced = api.user(id=4002, first_name="Sari")
        async with build_application(api) as app:
            for n in range(3):
                await app.bot.send_message(burst.id, f"burst {n}")
            for n in range(3):
                clock.advance(1.0)
                await app.bot.send_message(spaced.id, f"spaced {n}")
            message = await app.bot.send_message(spaced.id, "edit me")
            await message.edit_text("edited")  # edits do not count
            await app.bot.send_chat_action(spaced.id, "typing")  # nor chat actions
        assert [(v.rule, v.chat_id, v.count) for v in api.limit_violations] == [
            ("per_chat", burst.id, 2),
            ("per_chat", burst.id, 3),
            ("per_chat", spaced.id, 2),  # "edit me" came in the same instant as "spaced 2"
        ]
        assert len(burst.inbox) == 3  # recorded, not refused


async def test_enforced_limits_answer_429() -> None:
    clock = FakeClock()
    async with FakeBotApi(clock=clock, enforce_limits=True) as api:
        user = api.user(id=4003, first_name="Tono")
        group = api.create_group("Dinas PU", [user])
        async with build_application(api) as app:
            await app.bot.send_message(user.id, "satu")
            with pytest.raises(RetryAfter) as excinfo:
                await app.bot.send_message(user.id, "dua")
            assert _seconds(excinfo.value._retry_after) == 1
            clock.advance(1.0)
            await app.bot.send_message(user.id, "dua")

            for n in range(20):
                clock.advance(0.5)
                await app.bot.send_message(group.id, f"grup {n}")
            with pytest.raises(RetryAfter):
                await app.bot.send_message(group.id, "grup 21")
        assert [m.text for m in user.inbox] == ["satu", "dua"]
        assert len(group.inbox) == 20
        assert [(v.rule, v.enforced) for v in api.limit_violations] == [("per_chat", True), ("group", True)]


async def test_fault_rate_is_reproducible() -> None:
    async def pattern(seed: int) -> list[int]:
        async with FakeBotApi() as api:
            user = api.user(id=4004, first_name="Umar")
            async with build_application(api) as app:
                api.fault_rate(0.5, seed=seed, kinds=("429", "500"))  # after startup: getMe is not spared
                for n in range(12):
                    try:
                        await app.bot.send_message(user.id, str(n))
                    except (RetryAfter, NetworkError):
                        pass
            return [c.status for c in api.calls_to("sendMessage")]

    first, second = await pattern(7), await pattern(7)
    assert first == second
    assert set(first) == {200, 429, 500}


async def test_group_chat_and_waiting_helpers(fake_api: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.send_message(update.effective_chat.id, f"dari {update.effective_user.first_name}")

    def setup(app: Application) -> None:
        app.add_handler(MessageHandler(filters.TEXT, echo))

    ani = fake_api.user(id=5001, first_name="Ani")
    group = fake_api.create_group("Kecamatan Ketapang", [ani])
    async with running_bot(fake_api, setup):
        await ani.send("lapor", chat=group)
        reply = await group.next_message()
        assert reply.text == "dari Ani" and reply["chat"]["type"] == "group"
        with pytest.raises(AssertionError, match="no new message from the bot") as excinfo:
            await group.next_message(timeout=0.2)
        assert "dari Ani" in str(excinfo.value)  # the dump shows the recent history
        again = await group.wait_for_text("dari Ani", include_existing=True, timeout=0.1)
        assert again.message_id == reply.message_id
    assert ani.inbox == []


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def test_photos_both_ways(fake_api: FakeBotApi) -> None:
    user = fake_api.user(id=5002, first_name="Bayu")
    chart = _png(40, 30)
    async with build_application(fake_api) as app:
        message = await app.bot.send_photo(user.id, chart, caption="Grafik <b>SLA</b>", parse_mode="HTML")
        assert (message.photo[-1].width, message.photo[-1].height) == (40, 30)
        again = await app.bot.send_photo(user.id, message.photo[-1].file_id)  # by file_id, no upload
        with pytest.raises(BadRequest, match="Image_process_failed"):
            await app.bot.send_photo(user.id, b"not an image")
        with pytest.raises(BadRequest, match="Wrong file identifier"):
            await app.bot.send_document(user.id, "no-such-file-id")

        sent = await user.send_photo(_png(8, 6), caption="bukti")
        file = await app.bot.get_file(sent["photo"][-1]["file_id"])
        fake_api.fail_next("downloadFile", 500)
        with pytest.raises(NetworkError):
            await file.download_as_bytearray()
        assert bytes(await file.download_as_bytearray()) == _png(8, 6)
    assert user.inbox[0].caption == "Grafik SLA" and user.inbox[0].download() == chart
    assert again.photo[-1].file_unique_id == message.photo[-1].file_unique_id
    assert [c.status for c in fake_api.calls_to("downloadFile")] == [500, 200]


async def test_blocking_queues_my_chat_member_and_sending_unblocks(fake_api: FakeBotApi) -> None:
    user = fake_api.user(id=5003, first_name="Citra")
    user.blocked = True
    await user.send("/start")  # like Telegram's "Restart" button
    assert user.blocked is False
    kinds = [(next(k for k in u if k != "update_id"), u) for u in fake_api.pending_updates()]
    assert [k for k, _ in kinds] == ["my_chat_member", "my_chat_member", "message"]
    assert kinds[0][1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    assert kinds[1][1]["my_chat_member"]["new_chat_member"]["status"] == "member"
    async with build_application(fake_api) as app:
        updates = await app.bot.get_updates(timeout=0)
    assert updates[0].my_chat_member.new_chat_member.status == "kicked"


async def test_project_manual_clock_drives_dates_and_limits() -> None:
    start = dtm.datetime(2025, 1, 6, 8, 0, tzinfo=dtm.UTC)
    clock = ManualClock(start)
    async with FakeBotApi(clock=clock) as api:
        user = api.user(id=5004, first_name="Dedi")
        async with build_application(api) as app:
            first = await app.bot.send_message(user.id, "satu")
            clock.advance(minutes=90)
            second = await app.bot.send_message(user.id, "dua")
        sent = await user.send("tiga")
    assert first.date == start
    assert second.date == start + dtm.timedelta(minutes=90)
    assert sent["date"] == int((start + dtm.timedelta(minutes=90)).timestamp())
    assert api.limit_violations == []


# ----- the HTML parser on its own ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("<b>a</b><strong>b</strong>", "ab", [("bold", 0, 1), ("bold", 1, 1)]),
        ('<a href="https://x.id/?a=1&amp;b=2">tautan</a>', "tautan", [("text_link", 0, 6)]),
        ('<span class="tg-spoiler">r</span><tg-spoiler>s</tg-spoiler>', "rs", [("spoiler", 0, 1), ("spoiler", 1, 1)]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ("<blockquote expandable>kutipan</blockquote>", "kutipan", [("expandable_blockquote", 0, 7)]),
        ("😀<i>x</i>", "😀x", [("italic", 2, 1)]),  # offsets are UTF-16 code units
        ("&#65;&#x42;&quot;&lt;&gt;&amp;", 'AB"<>&', []),
        ("<B>besar</B>", "besar", [("bold", 0, 5)]),
        ("<i>x</>", "x", [("italic", 0, 1)]),
    ],
)
def test_parse_html_valid(source: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    plain, found = parse_html(source)
    assert plain == text
    assert [(e["type"], e["offset"], e["length"]) for e in found] == entities


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("A &nbsp; B", 'Unsupported HTML entity or unescaped "&" at byte offset 2'),
        ("A & B", 'unescaped "&" at byte offset 2'),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_parse_html_errors(source: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as excinfo:
        parse_html(source)
    assert error in str(excinfo.value)


def test_parse_html_lenient_mode_keeps_bare_ampersands() -> None:
    assert parse_html("A & B &nbsp;", strict=False) == ("A & B &nbsp;", [])


@given(st.text(max_size=200))
def test_escaped_text_roundtrips(text: str) -> None:
    plain, entities = parse_html(html.escape(text))
    assert plain == text
    assert entities == []


async def test_update_payloads_are_plain_json(fake_api: FakeBotApi) -> None:
    user = fake_api.user(id=6001, first_name="Wati")
    sent = await user.send("/start@alur_test_bot abc")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": len("/start@alur_test_bot")}]
    raw = {"message": {"message_id": 9, "date": 0, "chat": user.chat_dict(), "from": user.user_dict(), "text": "x"}}
    update_id = fake_api.inject_update(raw)
    pending = fake_api.pending_updates()
    assert json.loads(json.dumps(pending)) == pending
    assert pending[-1] == {"update_id": update_id, **raw}
