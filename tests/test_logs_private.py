"""Issue 11 row 16 (privacy): with `alur run --debug`, what people write never reaches the log.

The real bot runs as a child process at DEBUG against the fake Bot API; an officer registers and
files a request with a phone number and a free-text answer, and staff see it. The log must hold
neither (PTB logs every Bot API call and update at DEBUG, aiosqlite every SQL statement with its
parameters: both are kept above DEBUG, and phone numbers are redacted from any line).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.sop.catalog import DEFAULT_SOP_DIR
from sandbox.fake_bot_api import FakeBotApi
from scheduler.serve import PHONE, PrivacyFilter

from alur_process import clean_env
from test_kill9 import BotProcess, newest, until

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

PHONE_TYPED = "0812 7777 6543"
SECRET_TEXT = "Data kemiskinan Desa Sukamaju Hilir"


async def test_debug_log_holds_no_phone_numbers_and_no_message_texts(tmp_path: Path) -> None:
    async with FakeBotApi(bot_username="alur_log_bot") as api:
        log = tmp_path / "bot.log"
        env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url,
                        ALUR_PEOPLE=str(DEFAULT_SOP_DIR / "demo_people.yaml"))
        bot = BotProcess(env, log)
        bot.start_args = ("run", "--debug")
        tu = api.user(2001, first_name="Tari")
        officer = api.user(3001, first_name="Wati", username="wati_dinkes")
        try:
            bot.start()
            assert await until(lambda: asyncio.sleep(0, log.exists() and "Alur berjalan" in log.read_text()),
                               timeout=30)
            await officer.send("/start")
            await officer.tap(await officer.wait_for(lambda m: "Bappeda Kabupaten Ketapang" in m.button_texts,
                                                     timeout=10), "Bappeda Kabupaten Ketapang")
            await officer.tap(await officer.wait_for(lambda m: "Dinas Kesehatan" in m.button_texts, timeout=10),
                              "Dinas Kesehatan")
            await officer.wait_for_text("Terdaftar", timeout=10)
            await officer.send("/ajukan")
            menu = await officer.wait_for(lambda m: "Permintaan Informasi Pembangunan Daerah" in m.button_texts,
                                          timeout=10)
            await officer.tap(menu, "Permintaan Informasi Pembangunan Daerah")
            await officer.wait_for_text("1/4", timeout=10)
            await officer.send(SECRET_TEXT)
            await officer.wait_for_text("2/4", timeout=10)
            await officer.send("Kajian Dinkes")
            await officer.wait_for_text("3/4", timeout=10)
            await officer.send(PHONE_TYPED)
            await officer.wait_for_text("4/4", timeout=10)
            await officer.send_document(b"%PDF surat", "surat.pdf", "application/pdf")
            summary = await officer.wait_for_text("Periksa permohonan", timeout=10)
            await officer.tap(summary, "✅ Kirim")
            await officer.wait_for_text("Permohonan terkirim", timeout=10)
            assert await until(lambda: asyncio.sleep(0, newest(tu, lambda m: "Langkah 2" in (m.text or ""))),
                               timeout=20)
            card = newest(tu, lambda m: "Langkah 2" in (m.text or ""))
            await tu.tap(card, "ℹ️ Detail")
            detail = await tu.wait_for_text(SECRET_TEXT, timeout=10)  # the data did travel, in Telegram
            assert PHONE_TYPED in detail.text
        finally:
            bot.stop_all()
        text = log.read_text(encoding="utf-8", errors="replace")
        assert " DEBUG " in text, "the bot did not run at DEBUG"
        assert "Alur berjalan" in text
        for secret in (PHONE_TYPED, "7777", "081277776543", SECRET_TEXT, "Sukamaju", "Kajian Dinkes"):
            assert secret not in text, secret
        assert api.token not in text


def test_privacy_filter_redacts_phone_numbers_in_any_record() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "gagal kirim ke %s (kontak %s), update %s", (
        "Wati", "+62 812-7777-6543", 123456789), None)
    assert PrivacyFilter().filter(record)
    message = record.getMessage()
    assert "7777" not in message and "<telepon>" in message and "123456789" in message
    assert PHONE.search("KTP-INFO-2026-0001 pada 2026-11-23T08:00:00") is None
